package io.berth.node.container;

import io.berth.node.agent.ContainerRuntime;
import io.berth.node.agent.ContainerRuntime.Exit;
import io.berth.node.common.EventChain;
import io.berth.node.migration.MigrationPorts;
import io.berth.node.migration.MigrationSettings;
import io.berth.node.migration.SourceRuntime;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerData;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerEvent.*;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerReply.Done;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.ContainerState.*;
import io.berth.protocol.container.Operation;
import io.berth.protocol.container.Pending;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.RestartPolicy;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerBuilder;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One container, as a persistent entity under Cluster Sharding (one shard per container). The member that
 * hosts the entity is the host that runs the container, so this entity's events drive its host's
 * isolation layer through {@link ContainerRuntime}.
 *
 * <p>Every operation is <em>persist intent, act on the kernel, persist outcome</em>; the reply goes out
 * when the outcome is durable. One operation at a time: a second gets {@code BUSY}. Kernel work runs on
 * the blocking executor and comes back as a private message. After recovery the entity reconciles its
 * log with what the kernel reports (adopt, finish or undo the pending intent, restart per policy).
 *
 * <p>The entity acts on the kernel only when it runs on the container's own host; anywhere else (a
 * shard allocated elsewhere while the host was gone) it answers reads and refuses changes.
 */
public final class ContainerEntity extends EventSourcedBehavior<Object, ContainerEvent, ContainerState> {

  public static final EntityTypeKey<ContainerCommand> TYPE_KEY = EntityTypeKey.create(ContainerCommand.class, "container");

  /** Backoff of the restart policy: 1 s, 2 s, 4 s ... capped here. */
  static final Duration MAX_RESTART_DELAY = Duration.ofSeconds(60);
  /** An init that ran this long before exiting starts its restart count afresh. */
  static final Duration STABLE_RUN = Duration.ofSeconds(60);
  /** How long a kill waits for the init to end before recording the kill as failed. */
  static final Duration KILL_WAIT = Duration.ofSeconds(10);

  /**
   * What every container entity on this node shares. {@code blocking} runs the kernel work of the lifecycle (start,
   * stop, migrate); {@code execs} runs tenants' execs apart from it, bounded, so long execs never hold its threads.
   */
  public record Deps(HostId localHost, ContainerRuntime runtime, Executor blocking, io.berth.node.exec.ExecPool execs, Clock clock,
      Function<ContainerEvent, Set<String>> tagger, SourceRuntime source, MigrationPorts migration, MigrationSettings migrationSettings) {}

  public static Behavior<ContainerCommand> create(String entityId, Deps deps) {
    ContainerId id = ContainerId.of(entityId);
    Behavior<Object> behavior = Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new ContainerEntity(id, ctx, timers, deps)));
    return behavior.narrow();
  }

  // --- private messages: outcomes of kernel work, sent by the entity to itself (never leave the JVM) --

  /** {@code notRestored}: a start that was to restore a checkpoint started cold instead, for this reason (null otherwise). */
  private record Started(long pid, Throwable error, String notRestored) implements NoSerializationVerificationNeeded {
    Started(long pid, Throwable error) {
      this(pid, error, null);
    }
  }

  /** A failover's look at the container's latest checkpoint on shared storage, before it is recorded. */
  private record FailOverChecked(ContainerCommand.FailOver command, Optional<ContainerRuntime.CheckpointFacts> latest, Throwable error)
      implements NoSerializationVerificationNeeded {}

  private record Stopped(Exit exit, Throwable error) implements NoSerializationVerificationNeeded {}

  private record Killed(Optional<Exit> exit, int signal, Throwable error) implements NoSerializationVerificationNeeded {}

  private record Destroyed(Throwable error) implements NoSerializationVerificationNeeded {}

  private record LimitsApplied(Limits limits, Throwable error) implements NoSerializationVerificationNeeded {}

  private record ExitObserved(long pid, Exit exit) implements NoSerializationVerificationNeeded {}

  private record RestartDue(int attempt) implements NoSerializationVerificationNeeded {}

  private record Reconciled(ContainerRuntime.Observed observed, Throwable error) implements NoSerializationVerificationNeeded {}

  private record Converged(Throwable error) implements NoSerializationVerificationNeeded {}

  /** Time to look again whether the node may act, and so go on with the kernel's news it held meanwhile. */
  private record Release() implements NoSerializationVerificationNeeded {}

  /** How often held news are looked at again while the node may not act (after a stall of its JVM). */
  static final Duration HOLD = Duration.ofMillis(500);

  private final ContainerId id;
  private final ActorContext<Object> ctx;
  private final TimerScheduler<Object> timers;
  private final Deps deps;

  // Transient, actor-confined: who waits for the outcome of the pending operation, and for whom it runs.
  // Lost when the entity restarts; the client then times out and the reconciliation finishes the work.
  private ActorRef<ContainerReply> waiting;
  private CommandContext current;
  // Whether the restart policy's start is in the kernel now (not merely scheduled): an operator's command then
  // waits for it, stashed, instead of being refused as busy for something the operator did not ask for.
  private boolean restartRunning;
  // The kernel's news (an outcome, an exit, a restart due) that came while this node might have been failed over (just
  // out of a stall of its JVM): held, in order, until it may act again, never recorded meanwhile. If it was downed,
  // its JVM exits with them, and the survivors' copy of this entity or the node's next incarnation decides.
  private final java.util.ArrayDeque<Object> held = new java.util.ArrayDeque<>();

  private ContainerEntity(ContainerId id, ActorContext<Object> ctx, TimerScheduler<Object> timers, Deps deps) {
    super(PersistenceId.of(TYPE_KEY.name(), id.value()),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.id = id;
    this.ctx = ctx;
    this.timers = timers;
    this.deps = deps;
  }

  @Override
  public ContainerState emptyState() {
    return ContainerState.empty(id);
  }

  @Override
  public EventHandler<ContainerState, ContainerEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(ContainerState::apply);
  }

  @Override
  public Set<String> tagsFor(ContainerEvent event) {
    return deps.tagger().apply(event);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public SignalHandler<ContainerState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::reconcile)
        .onSignal(RecoveryFailed.class, (state, failed) -> ctx.getLog().error(
            "container {}: its log does not recover, so the entity does not start ({}); `berth audit verify {}` names the row",
            id, failed.getFailure().getMessage(), id))
        .build();
  }

  @Override
  public CommandHandler<Object, ContainerEvent, ContainerState> commandHandler() {
    CommandHandlerBuilder<Object, ContainerEvent, ContainerState> b = newCommandHandlerBuilder();
    // In every phase: reads, the directory's saga steps (they carry their own reservation checks), and the
    // outcomes of kernel work and timers the entity sends itself.
    b.forAnyState()
        .onCommand(ContainerCommand.Get.class, (state, c) -> Effect().reply(c.replyTo(), new Done(state)))
        .onCommand(ContainerCommand.Settle.class, this::settle)
        .onCommand(ContainerCommand.Define.class, this::define)
        .onCommand(Started.class, whenItMayAct(this::onStarted))
        .onCommand(Stopped.class, whenItMayAct(this::onStopped))
        .onCommand(Killed.class, whenItMayAct(this::onKilled))
        .onCommand(Destroyed.class, whenItMayAct(this::onDestroyed))
        .onCommand(LimitsApplied.class, whenItMayAct(this::onLimitsApplied))
        .onCommand(ExitObserved.class, whenItMayAct(this::onExitObserved))
        .onCommand(RestartDue.class, whenItMayAct(this::onRestartDue))
        .onCommand(Release.class, (state, m) -> release())
        .onCommand(Reconciled.class, this::onReconciled)
        .onCommand(MigrationStep.class, this::onMigrationStep)
        .onCommand(FailOverChecked.class, this::onFailOverChecked)
        .onCommand(Converged.class, (state, m) -> {
          if (m.error() != null) ctx.getLog().error("container {}: could not stop the unexpected init: {}", id, Replies.describe(m.error()));
          return Effect().none();
        });
    // Every other command needs a container that exists.
    b.forStateType(Empty.class)
        .onCommand(ContainerCommand.class, (state, c) -> Effect().reply(c.replyTo(), Replies.notFound(state)));
    b.forStateType(ContainerState.Destroyed.class)
        .onCommand(ContainerCommand.class, (state, c) -> Effect().reply(c.replyTo(), Replies.wrongPhase(state, verb(c), "a container that exists")));
    // Failover: the directory's steps when a host is fenced (see ContainerFailover for the rules).
    b.forStateType(Live.class)
        .onCommand(ContainerCommand.FailOver.class, this::failOver)
        .onCommand(ContainerCommand.MarkLost.class, this::markLost)
        .onCommand(ContainerCommand.Recover.class, this::recover);
    // A lost container takes nothing else until it is recovered or its host comes back.
    b.forStateType(ContainerState.Lost.class)
        .onCommand(ContainerCommand.class, (state, c) -> Effect().reply(c.replyTo(), Replies.refused(Code.WRONG_PHASE, "phase",
            "container " + id + " is lost: its host " + state.host() + " was fenced at " + state.since() + " (" + state.reason()
                + "); bring " + state.host() + " back, or run it elsewhere on a new disk: berth ct recover " + id + " --empty")));
    // ... and, but for a copy of a limits change already under way, no operation in progress and its own host.
    b.forStateType(Live.class)
        .onCommand(ContainerCommand.SetLimits.class, this::setLimits)
        .onCommand(ContainerCommand.SetCheckpointSchedule.class, this::setCheckpointSchedule)
        .onCommand(ContainerCommand.Start.class, idle(this::start))
        .onCommand(ContainerCommand.Stop.class, idle(this::stop))
        .onCommand(ContainerCommand.Kill.class, idle(this::kill))
        .onCommand(ContainerCommand.Destroy.class, idle(this::destroy))
        .onCommand(ContainerCommand.Exec.class, idle(this::exec))
        .onCommand(ContainerCommand.Migrate.class, this::migrate);
    return b.build();
  }

  /** {@code news} of the kernel, handled now if the node may act and nothing is held before it; held otherwise. */
  private <M> BiFunction<ContainerState, M, Effect<ContainerEvent, ContainerState>> whenItMayAct(
      BiFunction<ContainerState, M, Effect<ContainerEvent, ContainerState>> handle) {
    return (state, news) -> {
      Optional<String> notNow = deps.runtime().mayNotAct();
      if (notNow.isEmpty() && held.isEmpty()) return handle.apply(state, news);
      if (held.isEmpty()) {
        ctx.getLog().warn("container {}: holding what the kernel reports until this node may act again: {}", id, notNow.orElse("news held before"));
        ctx.scheduleOnce(HOLD, self(), new Release());
      }
      held.add(news);
      return Effect().none();
    };
  }

  /** Sends itself what it held, in order, once the node may act again. */
  private Effect<ContainerEvent, ContainerState> release() {
    if (held.isEmpty()) return Effect().none();
    if (deps.runtime().mayNotAct().isPresent()) {
      ctx.scheduleOnce(HOLD, self(), new Release());
      return Effect().none();
    }
    ctx.getLog().info("container {}: this node may act again: going on with {} held report(s)", id, held.size());
    java.util.List<Object> news = java.util.List.copyOf(held);
    held.clear();
    news.forEach(self()::tell);
    return Effect().none();
  }

  /** {@code op} for a container with no operation in progress, whose entity runs on its own host. */
  private <C extends ContainerCommand> BiFunction<Live, C, Effect<ContainerEvent, ContainerState>> idle(
      BiFunction<Live, C, Effect<ContainerEvent, ContainerState>> op) {
    return (live, c) -> {
      Optional<String> notNow = deps.runtime().mayNotAct();
      if (notNow.isPresent()) {
        return Effect().reply(c.replyTo(), Replies.refused(Code.UNAVAILABLE, "host", "container " + id + ": host " + deps.localHost()
            + " acts on no container just now (" + notNow.get() + "); try again in a few seconds"));
      }
      Optional<Pending> pending = live.data().pending();
      if (pending.isPresent() && pending.get().operation() == Operation.RESTART) {
        // Berth's own restart: while its start runs the command waits for the outcome; while it only waits for
        // its backoff (up to a minute) the operator comes first, and start, stop and destroy take it over.
        if (restartRunning) return Effect().stash();
      } else if (pending.isPresent()) {
        return Effect().reply(c.replyTo(), Replies.busy(live, pending.get()));
      }
      if (!onOwnHost(live)) return Effect().reply(c.replyTo(), notOnItsHost(live));
      return op.apply(live, c);
    };
  }

  private ContainerReply notOnItsHost(Live live) {
    return Replies.refused(Code.UNAVAILABLE, "host", "container " + id + " belongs on host " + live.data().host().map(HostId::value).orElse("?")
        + " but its entity runs on " + deps.localHost() + "; try again once that host is back");
  }

  // --- commands ------------------------------------------------------------------------------------

  /**
   * Step 2 of the directory's create saga. A copy of a define already taken part in is answered from the state
   * (never defined twice); one of an older reservation, or of one declined, is refused and persists nothing.
   */
  private Effect<ContainerEvent, ContainerState> define(ContainerState state, ContainerCommand.Define c) {
    if (c.reservation() < 1) return Effect().reply(c.replyTo(), Replies.refused(Code.INVALID, "reservation", "reservation: must be at least 1"));
    if (c.reservation() < state.lastReservation()) return Effect().reply(c.replyTo(), Replies.stale(state, c.reservation()));
    if (c.reservation() == state.lastReservation()) return defineAgain(state, c);
    if (!(state instanceof Empty || state instanceof ContainerState.Destroyed)) {
      return Effect().reply(c.replyTo(), Replies.refused(Code.ALREADY_EXISTS, "container", "container " + id + " exists already"));
    }
    if (!c.spec().id().equals(id)) {
      return Effect().reply(c.replyTo(), Replies.refused(Code.INVALID, "id", "the spec names container " + c.spec().id() + ", not " + id));
    }
    if (!c.host().equals(deps.localHost())) {
      // Nothing of the container is here: stop rather than hold its name on the wrong member. The directory's
      // reservation tells the allocation strategy where the shard belongs; it moves there at the next rebalance,
      // and the directory asks again.
      ctx.getLog().info("container {} was placed on {} but its entity started on {}: stopping until its shard moves there", id, c.host(),
          deps.localHost());
      return Effect().stop().thenReply(c.replyTo(), s -> Replies.refused(Code.UNAVAILABLE, "host",
          "container " + id + " was placed on " + c.host() + " but its entity started on " + deps.localHost()
              + "; its shard moves to " + c.host() + " at the next rebalance"));
    }
    EventChain<ContainerEvent> events = chain(state, c.context())
        .add(m -> new ReservationAccepted(m, c.reservation()))
        .add(m -> new ContainerDefined(m, c.spec()))
        .add(m -> new ContainerPlaced(m, c.host(), c.placementDecision()))
        .add(m -> new AddressAssigned(m, c.address(), c.prefixLength()));
    if (!c.start()) return Effect().persist(events.events()).thenReply(c.replyTo(), Done::new);
    // Define and start in one write: the definition and the start intent are durable together.
    events.add(StartRequested::new);
    return intent(c.context(), c.replyTo(), events, () -> runStart(((Live) applyAll(state, events)).data()));
  }

  /** A copy of the define of the reservation this container took part in last (or declined). */
  private Effect<ContainerEvent, ContainerState> defineAgain(ContainerState state, ContainerCommand.Define c) {
    if (!(state instanceof Live live) || state instanceof ContainerState.Destroyed) {
      return Effect().reply(c.replyTo(), Replies.refused(Code.WRONG_PHASE, "reservation", "container " + id + " is " + state.phase()
          + ": reservation " + c.reservation() + " was settled without defining it, or its container was destroyed since"));
    }
    if (isUnderWay(live, Operation.START, c.context())) {
      // Its own start is under way: whoever asks last gets the outcome (the earlier asker stopped waiting).
      waiting = c.replyTo();
      return Effect().none();
    }
    if (c.start() && live instanceof Defined && !live.data().lastError().isEmpty()) {
      return Effect().reply(c.replyTo(), Replies.failed(live, "start", live.data().lastError()));
    }
    return Effect().reply(c.replyTo(), new Done(state));
  }

  /**
   * The directory settles a reservation: if this container has not taken part in it, it declines it for ever
   * (persisted, so a late copy of the step is refused); then it answers with its state. A limits change under way
   * is answered {@code BUSY}: its outcome, which the directory's allocation must follow, is not known yet.
   */
  private Effect<ContainerEvent, ContainerState> settle(ContainerState state, ContainerCommand.Settle c) {
    if (state instanceof Live live && live.data().pending().map(p -> p.operation() == Operation.SET_LIMITS).orElse(false)) {
      return Effect().reply(c.replyTo(), Replies.busy(state, live.data().pending().get()));
    }
    if (c.reservation() <= state.lastReservation()) return Effect().reply(c.replyTo(), new Done(state));
    ctx.getLog().info("container {}: declines reservation {} (settled by the directory before it took part)", id, c.reservation());
    return Effect().persist(chain(state, c.context()).add(m -> new ReservationDeclined(m, c.reservation())).events())
        .thenReply(c.replyTo(), Done::new);
  }

  /** Whether the operation in progress is {@code op}, begun under {@code context} (a copy's own, not another's). */
  private static boolean isUnderWay(Live live, Operation op, CommandContext context) {
    return live.data().pending().map(p -> p.operation() == op && p.correlationId().equals(context.correlationId())).orElse(false);
  }

  private Effect<ContainerEvent, ContainerState> start(Live live, ContainerCommand.Start c) {
    if (!(live instanceof Defined || live instanceof ContainerState.Stopped)) {
      return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "start", "defined or stopped"));
    }
    ContainerData d = live.data();
    timers.cancel("restart");
    return intent(c.context(), c.replyTo(), chain(live, c.context()).add(StartRequested::new),
        () -> runStart(d));
  }

  private Effect<ContainerEvent, ContainerState> stop(Live live, ContainerCommand.Stop c) {
    if (live instanceof ContainerState.Stopped && isRestarting(live)) {
      // Stopping a container its policy is about to restart: the restart is called off, and it stays stopped.
      timers.cancel("restart");
      String why = "cancelled: " + c.context().principal() + " asked to stop it";
      return Effect().persist(chain(live, c.context()).add(m -> new OperationFailed(m, Operation.RESTART, why)).events())
          .thenReply(c.replyTo(), Done::new);
    }
    if (!(live instanceof Running)) return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "stop", "running"));
    Duration timeout = Duration.ofMillis(Math.max(0, c.timeoutMillis()));
    return intent(c.context(), c.replyTo(), chain(live, c.context()).add(m -> new StopRequested(m, timeout.toMillis())),
        () -> blocking(() -> deps.runtime().stop(id, timeout), Stopped::new));
  }

  private Effect<ContainerEvent, ContainerState> kill(Live live, ContainerCommand.Kill c) {
    if (!(live instanceof Running)) return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "kill", "running"));
    if (c.signal() < 1 || c.signal() > 64) {
      return Effect().reply(c.replyTo(), Replies.refused(Code.INVALID, "signal", "signal: must be between 1 and 64 (got " + c.signal() + ")"));
    }
    return intent(c.context(), c.replyTo(), chain(live, c.context()).add(m -> new KillRequested(m, c.signal())),
        () -> blocking(() -> deps.runtime().kill(id, c.signal(), KILL_WAIT), (exit, error) -> new Killed(exit, c.signal(), error)));
  }

  /**
   * Step 2 of the directory's resize saga. A copy of the change already taken part in is answered from the state
   * (its outcome, when it is still under way); one of an older reservation is refused.
   */
  private Effect<ContainerEvent, ContainerState> setLimits(Live live, ContainerCommand.SetLimits c) {
    if (c.reservation() < 1) return Effect().reply(c.replyTo(), Replies.refused(Code.INVALID, "reservation", "reservation: must be at least 1"));
    if (c.reservation() < live.lastReservation()) return Effect().reply(c.replyTo(), Replies.stale(live, c.reservation()));
    if (c.reservation() == live.lastReservation()) {
      if (isUnderWay(live, Operation.SET_LIMITS, c.context())) {
        waiting = c.replyTo();
        return Effect().none();
      }
      if (live.data().spec().limits().equals(c.limits())) return Effect().reply(c.replyTo(), new Done(live));
      return Effect().reply(c.replyTo(), Replies.refused(Code.WRONG_PHASE, "reservation", "container " + id + " did not take limits "
          + c.limits() + " (reservation " + c.reservation() + " failed or was settled without it): its limits are " + live.data().spec().limits()));
    }
    return idle(this::changeLimits).apply(live, c);
  }

  private Effect<ContainerEvent, ContainerState> changeLimits(Live live, ContainerCommand.SetLimits c) {
    if (live instanceof Migrating) return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "set limits", "defined, running or stopped"));
    EventChain<ContainerEvent> events = chain(live, c.context())
        .add(m -> new ReservationAccepted(m, c.reservation()))
        .add(m -> new LimitsChangeRequested(m, c.limits()));
    if (!(live instanceof Running)) {
      // Nothing runs: the new limits apply at the next start.
      return Effect().persist(events.add(m -> new LimitsChanged(m, c.limits())).events()).thenReply(c.replyTo(), Done::new);
    }
    return intent(c.context(), c.replyTo(), events,
        () -> blocking(() -> {
          deps.runtime().setLimits(id, c.limits());
          return c.limits();
        }, LimitsApplied::new));
  }

  /**
   * How often its host checkpoints it. The spec's rules first (off, or 10 s to 24 h, shared storage only: refused
   * {@code INVALID} naming {@code checkpointEvery}, nothing persisted); the same schedule again is answered from the
   * state. Once {@code CheckpointScheduleSet} is durable the host's scheduler takes it on (off deletes the kept ones).
   */
  private Effect<ContainerEvent, ContainerState> setCheckpointSchedule(Live live, ContainerCommand.SetCheckpointSchedule c) {
    if (!(live instanceof Defined || live instanceof Running || live instanceof ContainerState.Stopped)) {
      return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "set the checkpoint schedule of", "defined, running or stopped"));
    }
    if (!onOwnHost(live)) return Effect().reply(c.replyTo(), notOnItsHost(live));
    try {
      live.data().spec().withCheckpointEvery(c.every());
    } catch (io.berth.protocol.InvalidFieldException e) {
      return Effect().reply(c.replyTo(), Replies.refused(Code.INVALID, e.field(), e.getMessage()));
    }
    if (live.data().spec().checkpointEvery().equals(c.every())) return Effect().reply(c.replyTo(), new Done(live));
    return Effect().persist(chain(live, c.context()).add(m -> new CheckpointScheduleSet(m, c.every())).events())
        .thenRun(s -> deps.runtime().scheduleCheckpoints(id, c.every()))
        .thenReply(c.replyTo(), Done::new);
  }

  private Effect<ContainerEvent, ContainerState> destroy(Live live, ContainerCommand.Destroy c) {
    if (live instanceof Migrating) return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "destroy", "defined, running or stopped"));
    timers.cancelAll();
    return intent(c.context(), c.replyTo(), chain(live, c.context()).add(DestroyRequested::new),
        () -> blocking(() -> {
          deps.runtime().destroy(id);
          return Boolean.TRUE;
        }, (ok, error) -> new Destroyed(error)));
  }

  private Effect<ContainerEvent, ContainerState> exec(Live live, ContainerCommand.Exec c) {
    if (!(live instanceof Running)) return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "exec", "running"));
    Duration timeout = Duration.ofMillis(Math.max(1, c.timeoutMillis()));
    CompletableFuture<ContainerRuntime.ExecOutput> running;
    try {
      running = deps.execs().submit(() -> deps.runtime().exec(id, c.argv(), timeout));
    } catch (io.berth.node.exec.ExecPoolFullException full) {
      return Effect().reply(c.replyTo(), Replies.refused(Code.BUSY, "exec", full.getMessage()));
    }
    running.whenComplete((out, error) -> c.replyTo().tell(error == null
        ? new ContainerReply.ExecResult(out.exitCode(), out.stdout(), out.stderr(), out.truncated())
        // A command that is not in the container is the caller's mistake, named by its field; anything else failed here.
        : Replies.cause(error) instanceof io.berth.protocol.InvalidFieldException bad ? Replies.refused(Code.INVALID, bad.field(), bad.getMessage())
        : Replies.failed(live, "exec in", Replies.describe(error))));
    return Effect().none();
  }

  // --- outcomes ------------------------------------------------------------------------------------

  private Effect<ContainerEvent, ContainerState> onStarted(ContainerState state, Started m) {
    restartRunning = false;
    if (m.error() != null && isRestarting(state)) return restartFailed((ContainerState.Stopped) state, m.error());
    if (m.error() != null) return outcomeFailed(state, Operation.START, m.error());
    // Watch before persisting: an exit reported meanwhile waits (stashed) until the start is recorded, and
    // nobody who got the reply can see the exit missed.
    watch(m.pid());
    scheduleCheckpointsIfAny(state);
    EventChain<ContainerEvent> events = chain(state, context());
    if (m.notRestored() != null && !m.notRestored().isEmpty() && state instanceof Live l && l.data().restoreCheckpoint() > 0) {
      long checkpoint = l.data().restoreCheckpoint();
      ctx.getLog().warn("container {}: checkpoint {} not restored, started cold from its disk: {}", id, checkpoint, m.notRestored());
      events.add(meta -> new CheckpointRestoreFailed(meta, checkpoint, m.notRestored()));
    }
    return outcome(state, events.add(meta -> new ContainerStarted(meta, deps.localHost(), m.pid())));
  }

  /** A container with a checkpoint schedule that runs here now (started, restored, adopted): this host's scheduler takes it on. */
  private void scheduleCheckpointsIfAny(ContainerState state) {
    if (state instanceof Live l && l.data().spec().checkpoints()) deps.runtime().scheduleCheckpoints(id, l.data().spec().checkpointEvery());
  }

  /** A restart by policy failed: record it and try again later, with a longer backoff. */
  private Effect<ContainerEvent, ContainerState> restartFailed(ContainerState.Stopped state, Throwable error) {
    String message = Replies.describe(error);
    int attempt = state.data().restartAttempts() + 1;
    Duration delay = backoff(attempt);
    ctx.getLog().warn("container {}: restart failed: {}; next attempt in {}", id, message, delay);
    EventChain<ContainerEvent> events = chain(state, context())
        .add(m -> new OperationFailed(m, Operation.RESTART, message))
        .add(m -> new RestartScheduled(m, attempt, delay.toMillis(), "the previous restart failed: " + message));
    return Effect().persist(events.events()).thenRun(s -> timers.startSingleTimer("restart", new RestartDue(attempt), delay))
        .thenUnstashAll();
  }

  private static boolean isRestarting(ContainerState state) {
    return state instanceof Live l && l.data().pending().map(p -> p.operation() == Operation.RESTART).orElse(false);
  }

  private Effect<ContainerEvent, ContainerState> onStopped(ContainerState state, Stopped m) {
    if (m.error() != null) return outcomeFailed(state, Operation.STOP, m.error());
    if (!(state instanceof Running)) return settleWithoutEvent(state);
    return outcome(state, chain(state, context()).add(meta -> new ContainerStopped(meta, m.exit().exitCode(), m.exit().signal())));
  }

  private Effect<ContainerEvent, ContainerState> onKilled(ContainerState state, Killed m) {
    if (m.error() != null) return outcomeFailed(state, Operation.KILL, m.error());
    if (!(state instanceof Running)) return settleWithoutEvent(state);
    if (m.exit().isEmpty()) {
      return outcomeFailed(state, Operation.KILL,
          new IllegalStateException("the init still runs " + KILL_WAIT.toSeconds() + " s after signal " + m.signal()));
    }
    Exit exit = m.exit().get();
    return outcome(state, chain(state, context()).add(meta -> new ContainerStopped(meta, exit.exitCode(), exit.signal())));
  }

  private Effect<ContainerEvent, ContainerState> onDestroyed(ContainerState state, Destroyed m) {
    if (m.error() != null) return outcomeFailed(state, Operation.DESTROY, m.error());
    return outcome(state, chain(state, context()).add(ContainerDestroyed::new));
  }

  private Effect<ContainerEvent, ContainerState> onLimitsApplied(ContainerState state, LimitsApplied m) {
    if (m.error() != null) return outcomeFailed(state, Operation.SET_LIMITS, m.error());
    return outcome(state, chain(state, context()).add(meta -> new LimitsChanged(meta, m.limits())));
  }

  /** The init ended. If a stop or kill is pending, its own outcome records it; otherwise this is an exit. */
  private Effect<ContainerEvent, ContainerState> onExitObserved(ContainerState state, ExitObserved m) {
    if (!(state instanceof Running r) || r.pid() != m.pid()) return Effect().none();
    // A pending stop, kill or destroy records the end of the init as its own outcome.
    Optional<Operation> op = r.data().pending().map(Pending::operation);
    if (op.isPresent() && Set.of(Operation.STOP, Operation.KILL, Operation.DESTROY).contains(op.get())) return Effect().none();
    CommandContext system = CommandContext.system(m.exit().reboot() ? "the guest rebooted" : "the init exited by itself");
    EventChain<ContainerEvent> events = chain(state, system).add(meta -> new ContainerExited(meta, m.exit().exitCode(), m.exit().signal()));
    ctx.getLog().info("container {}: init {} exited ({})", id, m.pid(), describe(m.exit()));
    if (m.exit().reboot()) {
      // Asked from inside: it runs again in place whatever its restart policy; at once, unless it reboots in a loop
      // (then with the policy's growing delay, counted from the second quick reboot).
      int attempt = attemptAfter(r);
      Duration delay = attempt <= 1 ? Duration.ZERO : backoff(attempt - 1);
      events.add(meta -> new RestartScheduled(meta, attempt, delay.toMillis(), "the guest rebooted (reboot inside)"));
      return Effect().persist(events.events()).thenRun(s -> timers.startSingleTimer("restart", new RestartDue(attempt), delay));
    }
    Optional<Duration> restart = restartDelay(r, m.exit());
    if (restart.isEmpty()) return Effect().persist(events.events());
    int attempt = attemptAfter(r);
    Duration delay = restart.get();
    events.add(meta -> new RestartScheduled(meta, attempt, delay.toMillis(),
        "restart policy " + r.data().spec().restart().wireName() + " after " + describe(m.exit())));
    return Effect().persist(events.events()).thenRun(s -> timers.startSingleTimer("restart", new RestartDue(attempt), delay));
  }

  private Effect<ContainerEvent, ContainerState> onRestartDue(ContainerState state, RestartDue m) {
    if (!(state instanceof ContainerState.Stopped s) || s.data().pending().map(p -> p.operation() != Operation.RESTART).orElse(true)) {
      return Effect().none();
    }
    current = CommandContext.system("restart attempt " + m.attempt());
    ContainerData d = s.data();
    restartRunning = true;
    runStart(d);
    return Effect().none();
  }

  // --- recovery ------------------------------------------------------------------------------------

  private void reconcile(ContainerState state) {
    if (!(state instanceof Live live) || state instanceof ContainerState.Destroyed && live.data().pending().isEmpty()) return;
    if (state instanceof Migrating m) {
      // The saga's owner restarted: settle the move with the target before anything else (see ContainerMigration).
      migrationSaga().recover(m);
      return;
    }
    if (!onOwnHost(live)) {
      ctx.getLog().warn("container {} belongs on {} but its entity recovered on {}: not touching this host's kernel",
          id, live.data().host().map(HostId::value).orElse("?"), deps.localHost());
      return;
    }
    blocking(() -> deps.runtime().observe(id), Reconciled::new);
  }

  /**
   * After a move the saga finished on the container's new host (its entity recovered there, the source's node having
   * gone down part-way): what the target's kernel holds was never observed by this incarnation, whose recovery found
   * the move still under way. Observe it now, as after any recovery: the restored copy is adopted and watched, or, gone
   * with its host meanwhile, run again. The usual move ends on the source's node and leaves this to the entity's next
   * incarnation on the target.
   */
  void reconcileIfOnItsHost(ContainerState state) {
    if (state instanceof Live live && !(state instanceof Migrating) && onOwnHost(live)) {
      ctx.getLog().info("container {}: the move ended on its own host {}: observing the kernel", id, deps.localHost());
      reconcile(state);
    }
  }

  private Effect<ContainerEvent, ContainerState> onReconciled(ContainerState state, Reconciled m) {
    if (m.error() != null) {
      ctx.getLog().error("container {}: cannot observe the kernel after recovery: {}", id, Replies.describe(m.error()));
      return Effect().none();
    }
    Live live = (Live) state;
    ContainerRuntime.Observed seen = m.observed();
    current = CommandContext.system("reconcile after recovery");
    Optional<Pending> pending = live.data().pending();
    if (pending.isPresent()) {
      current = new CommandContext(EventMeta.SYSTEM_PRINCIPAL, "finish " + pending.get().operation() + " after recovery", pending.get().correlationId());
      return finishPending(live, pending.get(), seen);
    }
    if (live instanceof ContainerState.Lost lost) {
      // Its host came back: adopt what still runs; otherwise run it again from its own disk if it ran.
      if (seen.running()) {
        return Effect().persist(chain(state, current).add(meta -> new ContainerAdopted(meta, deps.localHost(), seen.pid())).events())
            .thenRun(s -> {
              watch(seen.pid());
              scheduleCheckpointsIfAny(s);
            });
      }
      CommandContext back = CommandContext.system("host " + deps.localHost() + " came back");
      current = back;
      return Effect().persist(chain(state, back).add(meta -> new ContainerRecovered(meta, lost.host(), deps.localHost(), false,
          "its host came back: " + (lost.wasRunning() ? "runs again from its own disk" : "stays stopped"))).events())
          .thenRun(this::startIfDueHere);
    }
    if (live instanceof Running r) {
      if (seen.running()) {
        return Effect().persist(chain(state, current).add(meta -> new ContainerAdopted(meta, deps.localHost(), seen.pid())).events())
            .thenRun(s -> {
              watch(seen.pid());
              scheduleCheckpointsIfAny(s);
            });
      }
      if (seen.lastExit().isPresent()) {
        // It ended while nobody watched, and its status was recorded: an exit like any other.
        return onExitObserved(state, new ExitObserved(r.pid(), seen.lastExit().get()));
      }
      // It was lost with its host (a reboot, `berth down`): no status. The log says it runs, so it
      // runs again (invariant 3), whatever its restart policy.
      EventChain<ContainerEvent> events = chain(state, current)
          .add(meta -> new ContainerExited(meta, -1, 0))
          .add(meta -> new RestartScheduled(meta, 1, 0, "lost with its host while running; the log says it runs"));
      return Effect().persist(events.events()).thenRun(s -> self().tell(new RestartDue(1)));
    }
    if (seen.running() && (live instanceof Defined || live instanceof ContainerState.Stopped)) {
      // The log says it does not run: converge the kernel to the log (invariant 3).
      ctx.getLog().warn("container {}: running as {} although the log says {}: stopping it", id, seen.pid(), live.phase());
      blocking(() -> deps.runtime().stop(id, Duration.ofSeconds(10)), (exit, error) -> new Converged(error));
    }
    return Effect().none();
  }

  private Effect<ContainerEvent, ContainerState> finishPending(Live live, Pending pending, ContainerRuntime.Observed seen) {
    switch (pending.operation()) {
      case START, RESTART -> {
        if (seen.running()) return onStarted(live, new Started(seen.pid(), null));
        restartRunning = pending.operation() == Operation.RESTART;
        runStart(live.data());
      }
      case STOP, KILL -> {
        if (!seen.running()) return onStopped(live, new Stopped(new Exit(-1, 0), null));
        blocking(() -> deps.runtime().stop(id, Duration.ofSeconds(10)), Stopped::new);
      }
      case SET_LIMITS -> {
        // Whether the new limits reached the cgroup is unknown: put the last confirmed ones back, so the
        // kernel matches the log, and record the change as failed (the operator may ask again).
        Limits confirmed = live.data().spec().limits();
        if (seen.running()) {
          blocking(() -> {
            deps.runtime().setLimits(id, confirmed);
            return Boolean.TRUE;
          }, (ok, error) -> new Converged(error));
        }
        return outcomeFailed(live, Operation.SET_LIMITS, new IllegalStateException("interrupted by a restart of its node; limits stay " + confirmed));
      }
      case DESTROY -> blocking(() -> {
        deps.runtime().destroy(id);
        return Boolean.TRUE;
      }, (ok, error) -> new Destroyed(error));
      default -> {
        return outcomeFailed(live, pending.operation(), new IllegalStateException("interrupted by a restart of its node"));
      }
    }
    return Effect().none();
  }

  // --- failover ------------------------------------------------------------------------------------

  /**
   * Step 2 of a failover: its host {@code from} is fenced, and on shared storage the container moves to {@code to}
   * (where it starts again from the same disk image if it ran). A copy of a step already taken is answered from the
   * state; a container that is not (any more) on {@code from}, or is being moved, is refused and persists nothing.
   */
  private Effect<ContainerEvent, ContainerState> failOver(Live live, ContainerCommand.FailOver c) {
    if (c.reservation() <= live.lastReservation()) return Effect().reply(c.replyTo(), new Done(live));
    if (!(live instanceof Defined || live instanceof Running || live instanceof ContainerState.Stopped)) {
      return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "fail over", "defined, running or stopped"));
    }
    if (!live.data().host().map(c.from()::equals).orElse(false)) {
      return Effect().reply(c.replyTo(), Replies.refused(Code.WRONG_PHASE, "host", "container " + id + " is on "
          + live.data().host().map(HostId::value).orElse("no host") + ", not on the fenced host " + c.from()));
    }
    if (live instanceof Running && live.data().spec().checkpoints()) {
      // Its latest checkpoint (on shared storage, readable here) is read first: the event names the one restored.
      blocking(() -> deps.runtime().latestCheckpoint(id), (latest, error) -> new FailOverChecked(c, latest, error));
      return Effect().none();
    }
    return failOverNow(live, c, Optional.empty());
  }

  /**
   * The latest checkpoint was read: the failover is recorded now, restoring it when it is of the copy that ran on the
   * fenced host (its host, its init, taken since that init started), cold otherwise. The checks of {@link #failOver}
   * are made again (a copy of the step may have been recorded meanwhile).
   */
  private Effect<ContainerEvent, ContainerState> onFailOverChecked(ContainerState state, FailOverChecked m) {
    ContainerCommand.FailOver c = m.command();
    if (!(state instanceof Live live) || state instanceof ContainerState.Destroyed || c.reservation() <= state.lastReservation()
        || !(state instanceof Running r) || !live.data().host().map(c.from()::equals).orElse(false)) {
      return failOverUnchecked(state, c);
    }
    Optional<ContainerRuntime.CheckpointFacts> restore = Optional.empty();
    if (m.error() != null) {
      ctx.getLog().warn("container {}: its checkpoints cannot be read ({}): it fails over cold", id, Replies.describe(m.error()));
    } else if (m.latest().isPresent()) {
      ContainerRuntime.CheckpointFacts f = m.latest().get();
      boolean ofTheCopyThatRan = f.host().equals(c.from().value()) && f.initPid() == r.pid() && !f.takenAt().isBefore(r.since());
      if (ofTheCopyThatRan) restore = m.latest();
      else ctx.getLog().warn("container {}: its latest checkpoint {} is of pid {} on {} taken {}, not of the copy that ran (pid {} on {} since {}): "
          + "it fails over cold", id, f.sequence(), f.initPid(), f.host(), f.takenAt(), r.pid(), c.from(), r.since());
    }
    return failOverNow(live, c, restore);
  }

  /**
   * The state changed while the checkpoint was read (a copy of the step was recorded, the container stopped or
   * moved): {@link #failOver}'s own checks answer it, and cannot read the checkpoint again (it no longer runs on the
   * fenced host under a new reservation).
   */
  private Effect<ContainerEvent, ContainerState> failOverUnchecked(ContainerState state, ContainerCommand.FailOver c) {
    if (state instanceof Live live && !(state instanceof ContainerState.Destroyed)) return failOver(live, c);
    return Effect().reply(c.replyTo(), Replies.wrongPhase(state, "fail over", "defined, running or stopped"));
  }

  private Effect<ContainerEvent, ContainerState> failOverNow(Live live, ContainerCommand.FailOver c,
      Optional<ContainerRuntime.CheckpointFacts> restore) {
    current = c.context();
    java.time.Instant now = deps.clock().instant();
    EventChain<ContainerEvent> events = chain(live, c.context())
        .add(m -> new ReservationAccepted(m, c.reservation()))
        .add(m -> restore.map(f -> new ContainerFailedOver(m, c.from(), c.to(), c.reason(), f.sequence(), f.takenAt(),
                Math.max(0, java.time.Duration.between(f.takenAt(), m.at()).toMillis())))
            .orElseGet(() -> new ContainerFailedOver(m, c.from(), c.to(), c.reason())));
    ctx.getLog().warn("container {}: host {} fenced; fails over to {} ({}){} correlation={}", id, c.from(), c.to(), c.reason(),
        restore.map(f -> "; restores checkpoint " + f.sequence() + " taken " + java.time.Duration.between(f.takenAt(), now).toMillis()
            + " ms ago").orElse(""), c.context().correlationId());
    return Effect().persist(events.events()).thenRun(this::startIfDueHere).thenReply(c.replyTo(), Done::new);
  }

  /** Its host is fenced and holds its only disk: it is lost until recovered or its host comes back. */
  private Effect<ContainerEvent, ContainerState> markLost(Live live, ContainerCommand.MarkLost c) {
    if (live instanceof ContainerState.Lost) return Effect().reply(c.replyTo(), new Done(live));
    if (!(live instanceof Defined || live instanceof Running || live instanceof ContainerState.Stopped)) {
      return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "mark lost", "defined, running or stopped"));
    }
    if (!live.data().host().map(c.host()::equals).orElse(false)) {
      return Effect().reply(c.replyTo(), Replies.refused(Code.WRONG_PHASE, "host", "container " + id + " is on "
          + live.data().host().map(HostId::value).orElse("no host") + ", not on the fenced host " + c.host()));
    }
    if (onOwnHost(live)) {
      // The entity runs on the container's host: that host is back (its shard moved home), so nothing is lost.
      return Effect().reply(c.replyTo(), Replies.refused(Code.WRONG_PHASE, "host", "container " + id + "'s host " + c.host() + " is back"));
    }
    ctx.getLog().warn("container {}: lost with host {} ({})", id, c.host(), c.reason());
    return Effect().persist(chain(live, c.context()).add(m -> new ContainerLost(m, c.host(), c.reason())).events())
        .thenReply(c.replyTo(), Done::new);
  }

  /** Step 2 of the operator's recovery of a lost container: it runs on {@code to}, on a new disk. */
  private Effect<ContainerEvent, ContainerState> recover(Live live, ContainerCommand.Recover c) {
    if (c.reservation() <= live.lastReservation()) return Effect().reply(c.replyTo(), new Done(live));
    if (!(live instanceof ContainerState.Lost lost)) return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "recover", "lost"));
    current = c.context();
    EventChain<ContainerEvent> events = chain(live, c.context())
        .add(m -> new ReservationAccepted(m, c.reservation()))
        .add(m -> new ContainerRecovered(m, lost.host(), c.to(), c.fresh(), c.reason()));
    return Effect().persist(events.events()).thenRun(this::startIfDueHere).thenReply(c.replyTo(), Done::new);
  }

  /**
   * After a failover or recovery: the start it left pending runs now if the entity is on the new host already, else
   * where the entity next recovers, on the new host, once its shard has moved there (the next rebalance). Sharding
   * starts it there only when a message reaches it, and one that comes while the shard is handed off can be dropped
   * (CI saw a recovered container start only when asked again 30 s later): so it is woken a few times meanwhile.
   */
  private void startIfDueHere(ContainerState state) {
    if (!(state instanceof Live l) || !l.data().pending().map(p -> p.operation() == Operation.START).orElse(false)) return;
    if (onOwnHost(l)) {
      runStart(l.data());
    } else {
      deps.migration().wake(id);
    }
  }

  // --- migration (the saga's steps are in ContainerMigration) ---------------------------------------

  /** Step 2 of the directory's migration saga: take the move on (a copy is answered from the state). */
  private Effect<ContainerEvent, ContainerState> migrate(Live live, ContainerCommand.Migrate c) {
    if (c.reservation() < 1) return Effect().reply(c.replyTo(), Replies.refused(Code.INVALID, "reservation", "reservation: must be at least 1"));
    if (c.reservation() < live.lastReservation()) return Effect().reply(c.replyTo(), Replies.stale(live, c.reservation()));
    if (c.reservation() == live.lastReservation()) return Effect().reply(c.replyTo(), new Done(live));
    Optional<Pending> pending = live.data().pending();
    if (pending.isPresent()) return Effect().reply(c.replyTo(), Replies.busy(live, pending.get()));
    if (!onOwnHost(live)) return Effect().reply(c.replyTo(), notOnItsHost(live));
    if (!(live instanceof Defined || live instanceof Running || live instanceof ContainerState.Stopped)) {
      return Effect().reply(c.replyTo(), Replies.wrongPhase(live, "migrate", "defined, running or stopped"));
    }
    if (c.target().equals(deps.localHost())) {
      return Effect().reply(c.replyTo(), Replies.refused(Code.INVALID, "to", "container " + id + " runs on " + c.target() + " already"));
    }
    String migrationId = id.value() + "-m" + c.reservation();
    // Nothing runs, so nothing is checkpointed: a stopped or defined container moves its disk, cold.
    io.berth.protocol.container.MigrationMode mode = live instanceof Running ? c.mode() : io.berth.protocol.container.MigrationMode.COLD;
    EventChain<ContainerEvent> events = chain(live, c.context())
        .add(m -> new ReservationAccepted(m, c.reservation()))
        .add(m -> new MigrationRequested(m, migrationId, deps.localHost(), c.target(), mode, c.modeForced(),
            mode == io.berth.protocol.container.MigrationMode.LIVE ? c.postCopy() : io.berth.protocol.container.PostCopy.OFF, c.decision()));
    current = c.context();
    return Effect().persist(events.events()).thenRun(s -> migrationSaga().advance((Migrating) s)).thenReply(c.replyTo(), Done::new);
  }

  private Effect<ContainerEvent, ContainerState> onMigrationStep(ContainerState state, MigrationStep step) {
    if (!(state instanceof Migrating m) || !m.progress().migrationId().equals(step.migrationId())) return Effect().none();
    return migrationSaga().on(m, step);
  }

  private ContainerMigration saga;

  private ContainerMigration migrationSaga() {
    if (saga == null) saga = new ContainerMigration(this);
    return saga;
  }

  // What ContainerMigration needs of the entity: its effects, chain, context and executor.
  ContainerId id() {
    return id;
  }

  Deps deps() {
    return deps;
  }

  ActorContext<Object> context_() {
    return ctx;
  }

  EventChain<ContainerEvent> chainFor(ContainerState state) {
    return chain(state, context());
  }

  org.apache.pekko.persistence.typed.javadsl.EffectFactories<ContainerEvent, ContainerState> effects() {
    return Effect();
  }

  void watchPid(long pid) {
    watch(pid);
  }

  /** Work for the blocking executor whose outcome comes back as step {@code name} of the migration. */
  <T> void blockingStep(String migrationId, String name, Supplier<T> work) {
    blocking(work, (value, error) -> new MigrationStep(migrationId, name, value, error));
  }

  /** An ask whose answer comes back as step {@code name} of the migration. */
  <T> void pipeStep(String migrationId, String name, java.util.concurrent.CompletionStage<T> stage) {
    ctx.pipeToSelf(stage, (value, error) -> new MigrationStep(migrationId, name, value, error));
  }

  /** The outcome of a migration step's work (kernel, target, directory), sent by the entity to itself. */
  record MigrationStep(String migrationId, String name, Object value, Throwable error) implements NoSerializationVerificationNeeded {}

  // --- helpers -------------------------------------------------------------------------------------

  /** Persists the intent, then starts the kernel work; the outcome arrives as a private message. */
  private Effect<ContainerEvent, ContainerState> intent(CommandContext context, ActorRef<ContainerReply> replyTo,
      EventChain<ContainerEvent> events, Runnable work) {
    this.waiting = replyTo;
    this.current = context;
    return Effect().persist(events.events()).thenRun(s -> work.run());
  }

  /** Persists the outcome, then answers whoever waits for it. */
  private Effect<ContainerEvent, ContainerState> outcome(
      ContainerState state, EventChain<ContainerEvent> events) {
    ActorRef<ContainerReply> replyTo = waiting;
    waiting = null;
    // Then commands that waited for it (stashed while a restart ran) go on.
    return Effect().persist(events.events()).thenRun(s -> {
      if (replyTo != null) replyTo.tell(new Done(s));
    }).thenUnstashAll();
  }

  private Effect<ContainerEvent, ContainerState> outcomeFailed(ContainerState state, Operation op, Throwable error) {
    String message = Replies.describe(error);
    ctx.getLog().warn("container {}: {} failed: {}", id, op, message);
    ActorRef<ContainerReply> replyTo = waiting;
    waiting = null;
    return Effect().persist(chain(state, context()).add(m -> new OperationFailed(m, op, message)).events())
        .thenRun(s -> {
          if (replyTo != null) replyTo.tell(Replies.failed(s, op.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), message));
        }).thenUnstashAll();
  }

  private Effect<ContainerEvent, ContainerState> settleWithoutEvent(ContainerState state) {
    ActorRef<ContainerReply> replyTo = waiting;
    waiting = null;
    if (replyTo != null) replyTo.tell(new Done(state));
    return Effect().unstashAll();
  }

  /** The state after {@code events}, for work that needs it before the persist's callback. */
  private static ContainerState applyAll(ContainerState state, EventChain<ContainerEvent> events) {
    ContainerState s = state;
    for (ContainerEvent e : events.events()) s = s.apply(e);
    return s;
  }

  private void runStart(ContainerData d) {
    if (d.restoreCheckpoint() > 0) {
      // After a failover that found a checkpoint of the copy that ran: its memory comes back from it (cold if it cannot).
      blocking(() -> deps.runtime().startFromCheckpoint(d.spec(), d.address(), d.prefixLength(), d.restoreCheckpoint()),
          (r, error) -> new Started(r == null ? 0 : r.pid(), error, r == null ? null : r.notRestored()));
      return;
    }
    blocking(() -> deps.runtime().start(d.spec(), d.address(), d.prefixLength()), (pid, error) -> new Started(pid == null ? 0 : pid, error));
  }

  private ActorRef<Object> self() {
    return ctx.getSelf();
  }

  private void watch(long pid) {
    ActorRef<Object> self = ctx.getSelf();
    deps.runtime().watchExit(id, pid, exit -> self.tell(new ExitObserved(pid, exit)));
  }

  /** Runs {@code work} on the blocking executor and sends its result (or error) back as a message. */
  private <T> void blocking(Supplier<T> work, java.util.function.BiFunction<T, Throwable, Object> toMessage) {
    ctx.pipeToSelf(CompletableFuture.supplyAsync(work, deps.blocking()), toMessage::apply);
  }

  private Optional<Duration> restartDelay(Running r, Exit exit) {
    RestartPolicy policy = r.data().spec().restart();
    boolean failed = exit.signal() != 0 || exit.exitCode() != 0;
    if (policy == RestartPolicy.NEVER || policy == RestartPolicy.ON_FAILURE && !failed) return Optional.empty();
    return Optional.of(backoff(attemptAfter(r)));
  }

  /** 1 s, 2 s, 4 s ... up to {@link #MAX_RESTART_DELAY}. */
  static Duration backoff(int attempt) {
    return Duration.ofMillis(Math.min(MAX_RESTART_DELAY.toMillis(), 1000L << Math.min(16, Math.max(0, attempt - 1))));
  }

  private int attemptAfter(Running r) {
    boolean ranLongEnough = Duration.between(r.since(), deps.clock().instant()).compareTo(STABLE_RUN) >= 0;
    return ranLongEnough ? 1 : r.data().restartAttempts() + 1;
  }

  private boolean onOwnHost(Live live) {
    return live.data().host().map(deps.localHost()::equals).orElse(false);
  }

  private EventChain<ContainerEvent> chain(ContainerState state, CommandContext context) {
    return new EventChain<>(deps.clock(), context, state.lastEventHash());
  }

  private CommandContext context() {
    return current != null ? current : CommandContext.system("outcome of an operation");
  }

  private static String describe(Exit exit) {
    if (exit.reboot()) return "a reboot from inside";
    return exit.signal() != 0 ? "signal " + exit.signal() : "exit code " + exit.exitCode();
  }

  private static String verb(ContainerCommand command) {
    return command.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }
}
