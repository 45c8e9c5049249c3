package io.berth.protocol.access;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.event.CommandContext;
import java.time.Instant;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;

/** What the access log (a singleton) is asked; {@code replyTo} last. */
public sealed interface AccessCommand extends BerthMessage {

  /** Issues a token under a name no token in force holds; the caller made the token and sends only its hash. */
  record Issue(String name, Credential credential, Role role, Optional<TokenScope> scope, Optional<Instant> expiresAt,
      CommandContext context, ActorRef<AccessReply> replyTo) implements AccessCommand {}

  /** Revokes the token in force named {@code name}. */
  record Revoke(String name, CommandContext context, ActorRef<AccessReply> replyTo) implements AccessCommand {}

  /** The tokens in force; answered with {@link AccessReply.Snapshot}. */
  record Read(ActorRef<AccessReply> replyTo) implements AccessCommand {}
}
