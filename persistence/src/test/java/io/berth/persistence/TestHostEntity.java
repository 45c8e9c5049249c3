package io.berth.persistence;

import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.HostId;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * A host entity for these tests only, shaped as cluster-node's will be: the protocol's fold as its event handler,
 * the hash chain in every event's meta, the timeline tag, the JournalHealth gate before persisting, restart with
 * backoff on persist failures. It writes real protocol events through the real serializer into real Cassandra.
 */
public final class TestHostEntity extends EventSourcedBehavior<TestHostEntity.Command, HostEvent, HostState> {

  public sealed interface Command {}

  public record Register(CommandContext context, ActorRef<Reply> replyTo) implements Command {}

  public record Cordon(CommandContext context, ActorRef<Reply> replyTo) implements Command {}

  public record Uncordon(CommandContext context, ActorRef<Reply> replyTo) implements Command {}

  public record Get(ActorRef<HostState> replyTo) implements Command {}

  public sealed interface Reply {}

  /** The event is durable at this sequence number. */
  public record Done(long sequenceNr) implements Reply {}

  public record Rejected(String reason) implements Reply {}

  private final HostId id;
  private final JournalHealth health;
  private final Consumer<Throwable> onRecoveryFailure;
  private final int snapshotEvery;

  static Behavior<Command> create(HostId id, Consumer<Throwable> onRecoveryFailure, int snapshotEvery) {
    return Behaviors.setup(ctx -> new TestHostEntity(ctx, id, JournalHealth.get(ctx.getSystem()), onRecoveryFailure, snapshotEvery));
  }

  static Behavior<Command> create(HostId id) {
    return create(id, e -> {}, 0);
  }

  private final ActorContext<Command> context;

  private TestHostEntity(ActorContext<Command> context, HostId id, JournalHealth health, Consumer<Throwable> onRecoveryFailure, int snapshotEvery) {
    super(PersistenceId.of("host", id.value()),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(2), 0.1));
    this.context = context;
    this.id = id;
    this.health = health;
    this.onRecoveryFailure = onRecoveryFailure;
    this.snapshotEvery = snapshotEvery;
  }

  @Override
  public HostState emptyState() {
    return HostState.empty(id);
  }

  @Override
  public CommandHandler<Command, HostEvent, HostState> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Register.class, (s, c) -> persist(s, new HostEvent.HostRegistered(
            c.context().meta(Instant.now(), s.lastEventHash()), new HostCapacity(2000, 1L << 30, 1000), Map.of("zone", "a"), "198.18.0.1"), c.replyTo()))
        .onCommand(Cordon.class, (s, c) -> persist(s, new HostEvent.HostCordoned(c.context().meta(Instant.now(), s.lastEventHash())), c.replyTo()))
        .onCommand(Uncordon.class, (s, c) -> persist(s, new HostEvent.HostUncordoned(c.context().meta(Instant.now(), s.lastEventHash())), c.replyTo()))
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), s))
        .build();
  }

  private org.apache.pekko.persistence.typed.javadsl.Effect<HostEvent, HostState> persist(HostState s, HostEvent event, ActorRef<Reply> replyTo) {
    var unavailable = health.unavailable();
    if (unavailable.isPresent()) return Effect().reply(replyTo, new Rejected(unavailable.get()));
    return Effect().persist(event).thenReply(replyTo, after -> new Done(lastSequenceNumber(after)));
  }

  private long lastSequenceNumber(HostState ignored) {
    return lastSequenceNumber(context);
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

  @Override
  public SignalHandler<HostState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryFailed.class, (s, f) -> onRecoveryFailure.accept(f.getFailure())).build();
  }
}
