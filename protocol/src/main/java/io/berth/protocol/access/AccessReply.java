package io.berth.protocol.access;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.reply.Rejection;

/** What the access log answers, after its events are durable. */
public sealed interface AccessReply extends BerthMessage {

  /** The token issued or revoked, and the tokens in force after it. */
  record Done(IssuedToken token, AccessState state) implements AccessReply {}

  record Snapshot(AccessState state) implements AccessReply {}

  record Refused(Rejection rejection) implements AccessReply {}
}
