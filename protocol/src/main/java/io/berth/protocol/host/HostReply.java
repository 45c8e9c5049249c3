package io.berth.protocol.host;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.reply.Rejection;

/** What a host entity answers, after the outcome is durable. */
public sealed interface HostReply extends BerthMessage {
  record Done(HostState state) implements HostReply {}

  record Refused(Rejection rejection) implements HostReply {}
}
