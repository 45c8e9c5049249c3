package io.berth.node.access;

import io.berth.node.common.EventChain;
import io.berth.protocol.access.AccessCommand;
import io.berth.protocol.access.AccessEvent;
import io.berth.protocol.access.AccessEvent.TokenIssued;
import io.berth.protocol.access.AccessEvent.TokenRevoked;
import io.berth.protocol.access.AccessReply;
import io.berth.protocol.access.AccessState;
import io.berth.protocol.access.IssuedToken;
import io.berth.protocol.reply.Rejection;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * The access log's one writer (a cluster singleton, persistence id {@code access|cluster}): issues and revokes the
 * API's tokens, so two admins issuing the same name at once get one token and one refusal. It never sees a token,
 * only its hash (or a client certificate's fingerprint); every node's API reads the tokens in force from here ({@link AccessCommand.Read}).
 */
public final class AccessLog extends EventSourcedBehavior<AccessCommand, AccessEvent, AccessState> {
  public static final PersistenceId PERSISTENCE_ID = PersistenceId.of("access", "cluster");

  private final Clock clock;
  private final Function<Object, Set<String>> tagger;

  public static Behavior<AccessCommand> create(Clock clock, Function<Object, Set<String>> tagger) {
    return new AccessLog(clock, tagger);
  }

  private AccessLog(Clock clock, Function<Object, Set<String>> tagger) {
    super(PERSISTENCE_ID, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.clock = clock;
    this.tagger = tagger;
  }

  @Override
  public AccessState emptyState() {
    return AccessState.EMPTY;
  }

  @Override
  public EventHandler<AccessState, AccessEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(AccessState::apply);
  }

  @Override
  public Set<String> tagsFor(AccessEvent event) {
    return tagger.apply(event);
  }

  @Override
  public CommandHandler<AccessCommand, AccessEvent, AccessState> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(AccessCommand.Read.class, (state, c) -> Effect().reply(c.replyTo(), new AccessReply.Snapshot(state)))
        .onCommand(AccessCommand.Issue.class, this::onIssue)
        .onCommand(AccessCommand.Revoke.class, this::onRevoke)
        .build();
  }

  private Effect<AccessEvent, AccessState> onIssue(AccessState state, AccessCommand.Issue c) {
    if (state.tokens().containsKey(c.name())) {
      return Effect().reply(c.replyTo(), new AccessReply.Refused(new Rejection(Rejection.Code.ALREADY_EXISTS, "name",
          "a token named " + c.name() + " is in force: revoke it first, or choose another name")));
    }
    IssuedToken same = state.tokens().values().stream().filter(t -> t.credential().equals(c.credential())).findFirst().orElse(null);
    if (same != null) {
      // A token: only by a caller that sent another's hash (the API's tokens are random). A certificate: issued twice.
      return Effect().reply(c.replyTo(), new AccessReply.Refused(new Rejection(Rejection.Code.ALREADY_EXISTS, "credential",
          "this " + c.credential().kind().wireName() + " is issued already, as " + same.name() + ": revoke that first")));
    }
    var events = new EventChain<AccessEvent>(clock, c.context(), state.lastEventHash())
        .add(meta -> new TokenIssued(meta, c.name(), c.credential(), c.role(), c.scope(), c.expiresAt())).events();
    return Effect().persist(events).thenReply(c.replyTo(), s -> new AccessReply.Done(s.tokens().get(c.name()), s));
  }

  private Effect<AccessEvent, AccessState> onRevoke(AccessState state, AccessCommand.Revoke c) {
    IssuedToken token = state.tokens().get(c.name());
    if (token == null) {
      return Effect().reply(c.replyTo(), new AccessReply.Refused(new Rejection(Rejection.Code.NOT_FOUND, "name",
          "no token named " + c.name() + " is in force (see berth token list)")));
    }
    var events = new EventChain<AccessEvent>(clock, c.context(), state.lastEventHash())
        .add(meta -> new TokenRevoked(meta, c.name())).events();
    return Effect().persist(events).thenReply(c.replyTo(), s -> new AccessReply.Done(token, s));
  }
}
