package io.berth.protocol.host;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.reply.Rejection;

/** What a host entity answers, after the outcome is durable. */
public sealed interface HostReply extends BerthMessage {
  /** The host's state; {@code usage}: what its node last measured ({@link HostUsage#UNKNOWN} when not asked for or not yet). */
  record Done(HostState state, HostUsage usage) implements HostReply {
    public Done(HostState state) {
      this(state, HostUsage.UNKNOWN);
    }
  }

  record Refused(Rejection rejection) implements HostReply {}
}
