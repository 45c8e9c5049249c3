package io.berth.bench.persistence;

import io.berth.persistence.BerthTags;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.HostId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * A host entity as Berth's are built (protocol fold as event handler, hash chain, timeline tag), to load the journal
 * with real events through the real serializer. {@code Append(n)} persists n events in one atomic write.
 */
final class BenchHostEntity extends EventSourcedBehavior<BenchHostEntity.Command, HostEvent, HostState> {
  sealed interface Command {}

  record Append(int count, ActorRef<Long> replyTo) implements Command {}

  record Stop() implements Command {}

  /** Answered once recovery is over: the time to the reply is the recovery time. */
  record Ready(ActorRef<Long> replyTo) implements Command {}

  private static final CommandContext CTX = new CommandContext("bench", "persistence benchmark", "bench");
  private final ActorContext<Command> context;
  private final HostId id;
  private final int snapshotEvery;

  static Behavior<Command> create(HostId id, int snapshotEvery) {
    return Behaviors.setup(ctx -> new BenchHostEntity(ctx, id, snapshotEvery));
  }

  private BenchHostEntity(ActorContext<Command> context, HostId id, int snapshotEvery) {
    super(PersistenceId.of("host", id.value()));
    this.context = context;
    this.id = id;
    this.snapshotEvery = snapshotEvery;
  }

  @Override
  public HostState emptyState() {
    return HostState.empty(id);
  }

  @Override
  public CommandHandler<Command, HostEvent, HostState> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Append.class, (state, c) -> {
          List<HostEvent> events = new ArrayList<>(c.count());
          HostState s = state;
          Instant now = Instant.now();
          for (int i = 0; i < c.count(); i++) {
            HostEvent e = next(s, now);
            events.add(e);
            s = s.apply(e); // the next event links to this one's stored bytes
          }
          return Effect().persist(events).thenReply(c.replyTo(), after -> lastSequenceNumber(context));
        })
        .onCommand(Ready.class, (state, c) -> Effect().reply(c.replyTo(), lastSequenceNumber(context)))
        .onCommand(Stop.class, (state, c) -> Effect().stop())
        .build();
  }

  private static HostEvent next(HostState s, Instant now) {
    var meta = CTX.meta(now, s.lastEventHash());
    if (s instanceof HostState.Unregistered) {
      return new HostEvent.HostRegistered(meta, new HostCapacity(2000, 1L << 30, 1000), Map.of("zone", "a"), "198.18.0.1");
    }
    return s.schedulable() ? new HostEvent.HostCordoned(meta) : new HostEvent.HostUncordoned(meta);
  }

  @Override
  public EventHandler<HostState, HostEvent> eventHandler() {
    return (state, event) -> state.apply(event);
  }

  @Override
  public Set<String> tagsFor(HostEvent event) {
    return BerthTags.tagsFor(event);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return snapshotEvery > 0 ? RetentionCriteria.snapshotEvery(snapshotEvery, 2) : RetentionCriteria.disabled();
  }
}
