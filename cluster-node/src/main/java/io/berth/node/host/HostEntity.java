package io.berth.node.host;

import io.berth.node.common.EventChain;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.host.HostEvent.*;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.host.HostState.Active;
import io.berth.protocol.host.HostState.Fenced;
import io.berth.protocol.host.HostState.Unregistered;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.Labels;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One host, as a persistent entity: what its node registered (capacity, labels, address), cordon, drain,
 * fenced and rejoined. Sharded like the containers, and placed on its own host. What is allocated on the
 * host is not kept here: it follows from the container events (see the directory).
 */
public final class HostEntity extends EventSourcedBehavior<HostCommand, HostEvent, HostState> {

  public static final EntityTypeKey<HostCommand> TYPE_KEY = EntityTypeKey.create(HostCommand.class, "host");

  private final HostId id;
  private final Clock clock;
  private final Function<HostEvent, Set<String>> tagger;

  public static Behavior<HostCommand> create(String entityId, Clock clock, Function<HostEvent, Set<String>> tagger) {
    return new HostEntity(HostId.of(entityId), clock, tagger);
  }

  private HostEntity(HostId id, Clock clock, Function<HostEvent, Set<String>> tagger) {
    super(PersistenceId.of(TYPE_KEY.name(), id.value()),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.id = id;
    this.clock = clock;
    this.tagger = tagger;
  }

  @Override
  public HostState emptyState() {
    return HostState.empty(id);
  }

  @Override
  public EventHandler<HostState, HostEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(HostState::apply);
  }

  @Override
  public Set<String> tagsFor(HostEvent event) {
    return tagger.apply(event);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public CommandHandler<HostCommand, HostEvent, HostState> commandHandler() {
    return newCommandHandlerBuilder().forAnyState().onAnyCommand(this::handle);
  }

  private Effect<HostEvent, HostState> handle(HostState state, HostCommand command) {
    if (command instanceof HostCommand.Get c) return Effect().reply(c.replyTo(), new HostReply.Done(state));
    if (command instanceof HostCommand.Register c) return register(state, c);
    if (command instanceof HostCommand.MarkFenced c) {
      if (state instanceof Unregistered) return notRegistered(state, c.replyTo());
      if (state instanceof Fenced) return Effect().reply(c.replyTo(), new HostReply.Done(state));
      return persist(state, c.context(), c.replyTo(), m -> new HostFenced(m, c.by()));
    }
    if (command instanceof HostCommand.MarkRejoined c) {
      if (!(state instanceof Fenced)) return wrongPhase(state, "rejoin", "fenced", c.replyTo());
      return persist(state, c.context(), c.replyTo(), HostRejoined::new);
    }
    if (!(state instanceof Active a)) {
      ActorRef<HostReply> replyTo = command.replyTo();
      return state instanceof Unregistered ? notRegistered(state, replyTo) : wrongPhase(state, verb(command), "ready, cordoned or draining", replyTo);
    }
    if (command instanceof HostCommand.Cordon c) {
      return a.cordoned() ? Effect().reply(c.replyTo(), new HostReply.Done(state)) : persist(state, c.context(), c.replyTo(), HostCordoned::new);
    }
    if (command instanceof HostCommand.Uncordon c) {
      return !a.cordoned() ? Effect().reply(c.replyTo(), new HostReply.Done(state)) : persist(state, c.context(), c.replyTo(), HostUncordoned::new);
    }
    if (command instanceof HostCommand.Drain c) {
      return a.draining() ? Effect().reply(c.replyTo(), new HostReply.Done(state)) : persist(state, c.context(), c.replyTo(), DrainRequested::new);
    }
    if (command instanceof HostCommand.MarkDrained c) {
      if (!a.draining()) return wrongPhase(state, "mark drained", "draining", c.replyTo());
      return persist(state, c.context(), c.replyTo(), HostDrained::new);
    }
    throw new IllegalArgumentException("unknown host command " + command.getClass().getName());
  }

  /** A node registers at every start; only a change of capacity, labels or address is an event. */
  private Effect<HostEvent, HostState> register(HostState state, HostCommand.Register c) {
    var labels = Labels.check("labels", c.labels());
    if (state instanceof Active a && a.info().capacity().equals(c.capacity()) && a.info().labels().equals(labels)
        && Objects.equals(a.info().address(), c.address())) {
      return Effect().reply(c.replyTo(), new HostReply.Done(state));
    }
    EventChain<HostEvent> events = new EventChain<>(clock, c.context(), state.lastEventHash());
    if (state instanceof Fenced) events.add(HostRejoined::new);
    events.add(m -> new HostRegistered(m, c.capacity(), labels, c.address()));
    return Effect().persist(events.events()).thenReply(c.replyTo(), HostReply.Done::new);
  }

  private Effect<HostEvent, HostState> persist(HostState state, CommandContext context, ActorRef<HostReply> replyTo,
      Function<io.berth.protocol.event.EventMeta, HostEvent> make) {
    var events = new EventChain<HostEvent>(clock, context, state.lastEventHash()).add(make).events();
    return Effect().persist(events).thenReply(replyTo, HostReply.Done::new);
  }

  private Effect<HostEvent, HostState> notRegistered(HostState state, ActorRef<HostReply> replyTo) {
    return Effect().reply(replyTo, new HostReply.Refused(new Rejection(Code.NOT_FOUND, "host", "host " + state.id() + " is not registered")));
  }

  private Effect<HostEvent, HostState> wrongPhase(HostState state, String op, String needs, ActorRef<HostReply> replyTo) {
    return Effect().reply(replyTo, new HostReply.Refused(new Rejection(Code.WRONG_PHASE, "phase",
        "host " + state.id() + " is " + state.phase() + "; " + op + " needs " + needs)));
  }

  private static String verb(HostCommand command) {
    return command.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }
}
