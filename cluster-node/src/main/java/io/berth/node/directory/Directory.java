package io.berth.node.directory;

import io.berth.node.common.EventChain;
import io.berth.node.placement.ClusterAllocation;
import io.berth.node.placement.ContainerShare;
import io.berth.node.placement.HostCandidate;
import io.berth.node.placement.Placement;
import io.berth.node.placement.PlacementPolicy;
import io.berth.node.placement.Placer;
import io.berth.node.saga.SagaRun;
import io.berth.node.saga.SagaSettings;
import io.berth.node.saga.StepAnswer;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.directory.Allocation;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryEvent;
import io.berth.protocol.directory.DirectoryEvent.*;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.directory.Reservation;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.Limits;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The cluster directory: one writer (a cluster singleton) for placement decisions, resource allocations and
 * container addresses, so concurrent creates never overcommit a host or share an address, and the coordinator
 * of the create and resize sagas (see {@link io.berth.node.saga}).
 *
 * <p>A create: placement decides and {@code ContainerReserved} holds the name, the share and the address
 * (step 1); the container's entity is asked to define (and start) it under that reservation (step 2, in its own
 * log); its answer confirms ({@code ReservationConfirmed}, step 3). A resize: {@code ResizeReserved} holds the
 * larger of the old and new limits on the host, the entity applies them, and the allocation follows what the
 * entity recorded. An unanswered step is asked again; a reservation is released only when the entity has answered
 * that it did not and will not carry it out. After recovery (the singleton's node died, or the directory was
 * restarted) every unsettled reservation is settled by asking its entity.
 *
 * <p>Host discovery: every node joins with the role {@code host-<id>}; the members that are up are the
 * candidate hosts, the unreachable ones are named in refusals but never chosen.
 *
 * <p>Creates are placed on the directory's own view of the hosts (capacity, labels, cordon, drain, fence, as the
 * host entities hold them), never by asking every host per create. The view is read again in the background every
 * {@link Settings#viewRefresh} and is used for a create only while it is at most {@link Settings#viewBound} old
 * (measured from when its asks were sent) and was read under the membership of now (a member that came, went or
 * became unreachable since makes the next create wait for a new read); otherwise the create waits for a read asked
 * after it arrived, which is what every create did before. So a host command answered {@code viewBound} after its
 * host entity made it durable is in the view of every create that arrives after that answer:
 * {@code ClusterOperations} answers cordon, uncordon and drain that much later ({@link #VIEW_BOUND}), and a node
 * waits as long after it registered its host.
 *
 * <p>Writes are batched: creates, confirmations and releases that arrive while a write is in flight are queued
 * and decided together when it ends, each against the state as the ones before it in the queue left it (so no two
 * take the last capacity or the same address), each with its own events, reason and principal, in one write
 * ({@code persist} of the list). A create refused in a batch (no room, a name taken by an earlier one) persists
 * nothing and does not hold back the others.
 */
public final class Directory extends EventSourcedBehavior<Object, DirectoryEvent, DirectoryState> {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Directory.class);

  public static final PersistenceId PERSISTENCE_ID = PersistenceId.of("directory", "cluster");
  public static final String HOST_ROLE_PREFIX = "host-";

  /**
   * How old the directory's view of the hosts may be for a create to be placed on it (from when its asks were sent).
   * Whoever changes a host's record and must see it honoured by every later create waits this long after the host
   * entity answered before answering its own caller ({@code ClusterOperations}, the node's registration).
   */
  public static final Duration VIEW_BOUND = Duration.ofMillis(500);

  /** How often the view of the hosts is read again in the background: well inside {@link #VIEW_BOUND}. */
  public static final Duration VIEW_REFRESH = Duration.ofMillis(200);

  /**
   * @param viewBound   see {@link #VIEW_BOUND}
   * @param viewRefresh see {@link #VIEW_REFRESH}; shorter than {@code viewBound}, so a create rarely waits for a read
   */
  public record Settings(AddressPool addresses, PlacementPolicy policy, SagaSettings sagas, Clock clock,
      Function<DirectoryEvent, Set<String>> tagger, Duration viewBound, Duration viewRefresh) {
    public Settings {
      if (viewRefresh.isNegative() || viewRefresh.isZero() || viewRefresh.compareTo(viewBound) >= 0) {
        throw new IllegalArgumentException("the directory's view refresh (" + viewRefresh + ") must be positive and shorter than its bound ("
            + viewBound + ")");
      }
    }

    /** The product's bound and refresh. */
    public Settings(AddressPool addresses, PlacementPolicy policy, SagaSettings sagas, Clock clock,
        Function<DirectoryEvent, Set<String>> tagger) {
      this(addresses, policy, sagas, clock, tagger, VIEW_BOUND, VIEW_REFRESH);
    }
  }

  // --- private messages, sent by the directory to itself (never leave the JVM) ----------------------

  /** Time to read the hosts' views again (the background refresh). */
  private enum RefreshHosts implements NoSerializationVerificationNeeded { INSTANCE }

  /** The hosts' views, asked at {@code askedNanos} (monotonic) under {@code members}. */
  private record HostsRead(Map<HostId, Boolean> members, long askedNanos, List<HostCandidate> hosts, Throwable error)
      implements NoSerializationVerificationNeeded {}

  /** Decide and write what is queued (sent by the directory to itself once something is queued). */
  private enum Flush implements NoSerializationVerificationNeeded { INSTANCE }

  /** What waits for the directory's next write, in the order it arrived. */
  private sealed interface Queued {}

  private record QueuedCreate(DirectoryCommand.CreateContainer command, long arrivedNanos) implements Queued {}

  private record QueuedConfirm(SagaRun run, HostId host, Limits limits) implements Queued {}

  private record QueuedRelease(DirectoryCommand.Release command) implements Queued {}

  /** Same, for a resize. */
  private record HostsForResize(DirectoryCommand.ResizeContainer command, List<HostCandidate> hosts, Throwable error)
      implements NoSerializationVerificationNeeded {}

  /** Same, for a migration. */
  private record HostsForMigrate(DirectoryCommand.MigrateContainer command, List<HostCandidate> hosts, Throwable error)
      implements NoSerializationVerificationNeeded {}

  /** The states of a fenced host's containers and the survivors, gathered for its failover. */
  private record FailoverGathered(DirectoryCommand.FailOverHost command, List<ContainerState> states, List<HostCandidate> hosts, Throwable error)
      implements NoSerializationVerificationNeeded {}

  /**
   * Wake the moved containers' entities ({@code attempt} from 1): sharding starts an entity only when a message
   * reaches it, and after a failover its shard moves to the new host at the next rebalance, where the pending start
   * runs once the entity recovers. Asked every {@link #WAKE_EVERY} until each runs there, at most {@link #WAKES} times
   * (2 min): a wake that reaches the region while the shard moves waits there and starts the entity the moment it
   * has its new home, so the interval is what a failover may lose to it.
   */
  private record WakeMoved(List<ContainerId> containers, int attempt) implements NoSerializationVerificationNeeded {}

  private static final Duration WAKE_EVERY = Duration.ofMillis(500);
  private static final int WAKES = 240;

  private record Woken(List<ContainerId> left, int attempt) implements NoSerializationVerificationNeeded {}

  /** The hosts' views were gathered for a recovery. */
  private record HostsForRecover(DirectoryCommand.RecoverContainer command, List<HostCandidate> hosts, Throwable error)
      implements NoSerializationVerificationNeeded {}

  /** The container's entity answered an ask of reservation {@code number} (or the ask failed). */
  private record Answered(long number, boolean settling, ContainerReply reply, Throwable error) implements NoSerializationVerificationNeeded {}

  /** Time to ask reservation {@code number}'s entity again. */
  private record AskAgain(long number) implements NoSerializationVerificationNeeded {}

  private final ActorContext<Object> ctx;
  private final TimerScheduler<Object> timers;
  private final Settings settings;
  private final DirectoryPorts ports;
  /** The sagas under way, by reservation number (transient: the log holds them; see {@link SagaRun}). */
  private final Map<Long, SagaRun> runs = new HashMap<>();
  /** What waits for the next write (transient: a create lost with it was never reserved, and its caller's wait ends). */
  private final List<Queued> queue = new java.util.ArrayList<>();
  private boolean flushSent;
  /** The view of the hosts creates are placed on: read under {@code viewMembers}, asked at {@code viewAskedNanos}. */
  private List<HostCandidate> viewHosts;
  private Map<HostId, Boolean> viewMembers;
  private long viewAskedNanos;
  private boolean reading;

  public static Behavior<DirectoryCommand> create(Settings settings, DirectoryPorts ports) {
    Behavior<Object> b = Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Directory(ctx, timers, settings, ports)));
    return b.narrow();
  }

  private Directory(ActorContext<Object> ctx, TimerScheduler<Object> timers, Settings settings, DirectoryPorts ports) {
    super(PERSISTENCE_ID, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.ctx = ctx;
    this.timers = timers;
    this.settings = settings;
    this.ports = ports;
  }

  @Override
  public DirectoryState emptyState() {
    return DirectoryState.EMPTY;
  }

  @Override
  public EventHandler<DirectoryState, DirectoryEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(DirectoryState::apply);
  }

  @Override
  public Set<String> tagsFor(DirectoryEvent event) {
    return settings.tagger().apply(event);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(200, 2);
  }

  @Override
  public SignalHandler<DirectoryState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::settleAfterRecovery).build();
  }

  @Override
  public CommandHandler<Object, DirectoryEvent, DirectoryState> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(DirectoryCommand.Read.class, (state, c) -> Effect().reply(c.replyTo(), new DirectoryReply.Snapshot(state)))
        .onCommand(DirectoryCommand.Locate.class,
            (state, c) -> Effect().reply(c.replyTo(), new DirectoryReply.Located(c.container(), state.hostOf(c.container()))))
        .onCommand(DirectoryCommand.CreateContainer.class, this::onCreate)
        .onCommand(RefreshHosts.class, (state, m) -> {
          readHosts();
          return Effect().none();
        })
        .onCommand(HostsRead.class, this::onHostsRead)
        .onCommand(Flush.class, this::flush)
        .onCommand(DirectoryCommand.ResizeContainer.class, this::onResize)
        .onCommand(HostsForResize.class, this::reserveResize)
        .onCommand(DirectoryCommand.MigrateContainer.class, this::onMigrate)
        .onCommand(HostsForMigrate.class, this::reserveMigrate)
        .onCommand(DirectoryCommand.SettleMigration.class, this::settleMigration)
        .onCommand(DirectoryCommand.FailOverHost.class, this::onFailOverHost)
        .onCommand(FailoverGathered.class, this::failOver)
        .onCommand(DirectoryCommand.RecoverContainer.class, this::onRecover)
        .onCommand(HostsForRecover.class, this::reserveRecover)
        .onCommand(WakeMoved.class, (state, m) -> wake(m))
        .onCommand(Woken.class, (state, m) -> woken(m))
        .onCommand(DirectoryCommand.Release.class, this::onRelease)
        .onCommand(Answered.class, this::onAnswer)
        .onCommand(AskAgain.class, (state, m) -> askAgain(m))
        .build();
  }

  // --- create --------------------------------------------------------------------------------------

  private Effect<DirectoryEvent, DirectoryState> onCreate(DirectoryState state, DirectoryCommand.CreateContainer c) {
    Optional<ContainerReply> refusal = refuseCreate(state, c.spec().id());
    if (refusal.isPresent()) return Effect().reply(c.replyTo(), refusal.get());
    enqueue(new QueuedCreate(c, System.nanoTime()));
    return Effect().none();
  }

  /**
   * Step 1 of a create, in a batch: place it on the view against the state as the batch left it so far, hold the
   * share and the address under a new reservation; the entity is asked once the write is durable.
   */
  private void reserveCreate(Batch b, DirectoryCommand.CreateContainer c) {
    ContainerId id = c.spec().id();
    Optional<ContainerReply> refusal = refuseCreate(b.state, id);
    if (refusal.isPresent()) {
      b.reply(c.replyTo(), refusal.get());
      return;
    }
    Placement placement = Placer.place(b.view(), c.spec(), settings.policy());
    if (placement instanceof Placement.Refusal r) {
      b.reply(c.replyTo(), new ContainerReply.Refused(r.rejection()));
      return;
    }
    Placement.Decision decision = (Placement.Decision) placement;
    Optional<String> address = settings.addresses().lowestFree(b.usedAddresses());
    if (address.isEmpty()) {
      b.reply(c.replyTo(), refused(Code.NO_CAPACITY, "address",
          "no free address for container " + id + ": all " + settings.addresses().size() + " addresses of the pool are in use"));
      return;
    }
    long number = b.state.lastReservation() + 1;
    HostId host = decision.host();
    int prefix = settings.addresses().prefixLength();
    b.take(chain(b.state, c.context())
        .add(meta -> new ContainerReserved(meta, number, id, host, c.spec().limits(), c.spec().placement().antiAffinityGroup(), address.get(),
            decision.reason()))
        .events());
    b.placed(id, address.get());
    SagaRun run = SagaRun.forward(number, id, "create of container " + id, c.context(),
        r -> new ContainerCommand.Define(c.spec(), host, decision.reason(), address.get(), prefix, c.start(), number, c.context(), r),
        c.replyTo());
    b.after(s -> begin(run));
  }

  private static Optional<ContainerReply> refuseCreate(DirectoryState state, ContainerId id) {
    Reservation r = state.reservations().get(id);
    if (r != null) {
      return Optional.of(refused(Code.BUSY, "container", "container " + id + " is being " + doing(r)
          + " (reservation " + r.number() + " since " + r.since() + ", correlation " + r.correlationId() + ")"));
    }
    if (state.allocations().containsKey(id)) return Optional.of(refused(Code.ALREADY_EXISTS, "container", "container " + id + " exists already"));
    return Optional.empty();
  }

  // --- resize --------------------------------------------------------------------------------------

  private Effect<DirectoryEvent, DirectoryState> onResize(DirectoryState state, DirectoryCommand.ResizeContainer c) {
    Optional<ContainerReply> refusal = refuseResize(state, c.container());
    if (refusal.isPresent()) return Effect().reply(c.replyTo(), refusal.get());
    ctx.pipeToSelf(ports.hosts(), (hosts, error) -> new HostsForResize(c, hosts, error));
    return Effect().none();
  }

  /** Step 1 of a resize: the host must take the new limits (no overcommit); it holds the larger of old and new. */
  private Effect<DirectoryEvent, DirectoryState> reserveResize(DirectoryState state, HostsForResize m) {
    DirectoryCommand.ResizeContainer c = m.command();
    ContainerId id = c.container();
    Optional<ContainerReply> refusal = refuseResize(state, id);
    if (refusal.isPresent()) return Effect().reply(c.replyTo(), refusal.get());
    Allocation current = state.allocations().get(id);
    if (m.error() != null) {
      return Effect().reply(c.replyTo(), refused(Code.UNAVAILABLE, "", "cannot read host " + current.host() + ": " + m.error().getMessage()));
    }
    if (m.hosts().stream().noneMatch(h -> h.id().equals(current.host()))) {
      // Registered (it holds the container) but not among the hosts that answer: down, fenced or still joining.
      return Effect().reply(c.replyTo(), refused(Code.UNAVAILABLE, "host", "host " + current.host() + " of container " + id
          + " is not reachable (down, fenced or still joining): its limits can change once it is back"));
    }
    Optional<Rejection> misfit = view(state, m.hosts()).checkLimits(current.host(), id, c.limits());
    if (misfit.isPresent()) return Effect().reply(c.replyTo(), new ContainerReply.Refused(misfit.get()));
    long number = state.lastReservation() + 1;
    var events = chain(state, c.context()).add(meta -> new ResizeReserved(meta, number, id, c.limits())).events();
    SagaRun run = SagaRun.forward(number, id, "resize of container " + id + " to " + c.limits(), c.context(),
        r -> new ContainerCommand.SetLimits(c.limits(), number, c.context(), r), c.replyTo());
    return Effect().persist(events).thenRun(s -> begin(run));
  }

  private static Optional<ContainerReply> refuseResize(DirectoryState state, ContainerId id) {
    Reservation r = state.reservations().get(id);
    if (r != null) {
      return Optional.of(refused(Code.BUSY, "container", "container " + id + " is being " + doing(r)
          + " (reservation " + r.number() + " since " + r.since() + ")"));
    }
    if (!state.allocations().containsKey(id)) return Optional.of(refused(Code.NOT_FOUND, "container", "container " + id + " does not exist"));
    return Optional.empty();
  }

  // --- migrate -------------------------------------------------------------------------------------

  private Effect<DirectoryEvent, DirectoryState> onMigrate(DirectoryState state, DirectoryCommand.MigrateContainer c) {
    Optional<ContainerReply> refusal = refuseMigrate(state, c);
    if (refusal.isPresent()) return Effect().reply(c.replyTo(), refusal.get());
    ctx.pipeToSelf(ports.hosts(), (hosts, error) -> new HostsForMigrate(c, hosts, error));
    return Effect().none();
  }

  /**
   * Step 1 of a migration: placement picks the target (or checks the operator's), never the container's own host,
   * and the target holds the container's share from now on, beside the source's, until the entity settles the move.
   */
  private Effect<DirectoryEvent, DirectoryState> reserveMigrate(DirectoryState state, HostsForMigrate m) {
    DirectoryCommand.MigrateContainer c = m.command();
    ContainerId id = c.spec().id();
    Optional<ContainerReply> refusal = refuseMigrate(state, c);
    if (refusal.isPresent()) return Effect().reply(c.replyTo(), refusal.get());
    if (m.error() != null) {
      return Effect().reply(c.replyTo(), refused(Code.UNAVAILABLE, "", "cannot read the hosts to place container " + id + ": " + m.error().getMessage()));
    }
    HostId source = state.allocations().get(id).host();
    if (c.target().isPresent() && m.hosts().stream().noneMatch(h -> h.id().equals(c.target().get()))) {
      return Effect().reply(c.replyTo(), refused(Code.NOT_FOUND, "to", "host " + c.target().get() + " is not registered; registered hosts: "
          + String.join(", ", m.hosts().stream().map(h -> h.id().value()).sorted().toList())));
    }
    // The operator's target replaces any pin; without one, a pinned container has nowhere to go but its pin.
    var placement = c.target().map(t -> new io.berth.protocol.spec.PlacementConstraints(Optional.of(t), c.spec().placement().hostLabels(),
        c.spec().placement().antiAffinityGroup())).orElse(c.spec().placement());
    var spec = new io.berth.protocol.spec.ContainerSpec(id, c.spec().template(), c.spec().hostname(), c.spec().command(), c.spec().limits(),
        c.spec().restart(), c.spec().labels(), placement, c.spec().privileged());
    Placement decided = Placer.place(view(state, m.hosts()), spec, settings.policy(), Map.of(source, "the container's current host"), "--to");
    if (decided instanceof Placement.Refusal r) return Effect().reply(c.replyTo(), new ContainerReply.Refused(r.rejection()));
    Placement.Decision decision = (Placement.Decision) decided;
    HostId target = decision.host();
    String why = decision.reason();
    long number = state.lastReservation() + 1;
    var events = chain(state, c.context()).add(meta -> new MigrationReserved(meta, number, id, target, why)).events();
    SagaRun run = SagaRun.forward(number, id, "migration of container " + id + " to " + target, c.context(),
        r -> new ContainerCommand.Migrate(target, c.mode(), c.modeForced(), c.postCopy(), why, number, c.context(), r), c.replyTo());
    return Effect().persist(events).thenRun(s -> begin(run));
  }

  private static Optional<ContainerReply> refuseMigrate(DirectoryState state, DirectoryCommand.MigrateContainer c) {
    ContainerId id = c.spec().id();
    Reservation r = state.reservations().get(id);
    if (r != null) {
      return Optional.of(refused(Code.BUSY, "container", "container " + id + " is being " + doing(r) + " (reservation " + r.number()
          + " since " + r.since() + ", correlation " + r.correlationId() + "): one operation at a time"));
    }
    Allocation a = state.allocations().get(id);
    if (a == null) return Optional.of(refused(Code.NOT_FOUND, "container", "container " + id + " does not exist"));
    if (c.spec().storage() == io.berth.protocol.spec.Storage.SHARED) {
      // Its disk must never be mounted on two hosts at once, and a live move holds the source (and its mount) until
      // the target runs: moving a shared disk needs a hand-over of the mount that is not built yet.
      return Optional.of(refused(Code.INVALID, "storage", "container " + id + " is on shared storage: moving it between hosts is not"
          + " supported yet (its disk image must never be mounted on two hosts at once); it fails over by itself when its host dies"));
    }
    if (c.target().isPresent() && c.target().get().equals(a.host())) {
      return Optional.of(refused(Code.INVALID, "to", "container " + id + " runs on host " + a.host() + " already: name another host"));
    }
    return Optional.empty();
  }

  /**
   * The entity ended its move: the allocation follows it to the target ({@code completed}), or the target's share
   * is freed. A copy (the entity asks until answered) finds nothing left to settle and is answered the same.
   */
  private Effect<DirectoryEvent, DirectoryState> settleMigration(DirectoryState state, DirectoryCommand.SettleMigration c) {
    Reservation r = state.reservations().get(c.container());
    if (r == null || r.number() != c.reservation() || r.kind() != Reservation.Kind.MIGRATE) {
      return Effect().reply(c.replyTo(), new DirectoryReply.Done(state));
    }
    SagaRun run = end(r.number());
    Allocation a = state.allocations().get(c.container());
    EventChain<DirectoryEvent> events = chain(state, c.context());
    if (c.completed()) events.add(meta -> new ReservationConfirmed(meta, r.number(), c.container(), r.host(), a.limits()));
    else events.add(meta -> new ReservationReleased(meta, r.number(), c.container(), "the move to " + r.host() + " was aborted"));
    return Effect().persist(events.events()).thenRun(s -> {
      log.info("migration of container {} to {}: {} (reservation {}) correlation={}", c.container(), r.host(),
          c.completed() ? "completed, allocation moved" : "aborted, target's share freed", r.number(), c.context().correlationId());
      if (run != null) run.caller().ifPresent(caller -> caller.tell(refused(Code.UNAVAILABLE, "container", "the " + run.what() + " ended before it was acknowledged")));
    }).thenReply(c.replyTo(), DirectoryReply.Done::new);
  }

  private static String doing(Reservation r) {
    return switch (r.kind()) {
      case CREATE -> "created";
      case RESIZE -> "resized";
      case MIGRATE -> "migrated to " + r.host();
    };
  }

  // --- failover ------------------------------------------------------------------------------------

  /** A fenced host: ask its containers' entities what they are (their specs decide) and the survivors what they hold. */
  private Effect<DirectoryEvent, DirectoryState> onFailOverHost(DirectoryState state, DirectoryCommand.FailOverHost c) {
    List<ContainerId> theirs = state.allocations().entrySet().stream()
        .filter(e -> e.getValue().host().equals(c.host()) && !state.reservations().containsKey(e.getKey()))
        .map(Map.Entry::getKey).sorted(java.util.Comparator.comparing(ContainerId::value)).toList();
    if (theirs.isEmpty()) {
      log.info("failover of host {}: nothing of it left to move or mark lost", c.host());
      return Effect().reply(c.replyTo(), new DirectoryReply.Done(state));
    }
    List<java.util.concurrent.CompletableFuture<ContainerState>> asks = theirs.stream()
        .map(id -> ports.ask(id, ContainerCommand.Get::new, settings.sagas().stepTimeout()).toCompletableFuture()
            .thenApply(reply -> reply instanceof ContainerReply.Done d ? d.state() : null))
        .toList();
    var all = java.util.concurrent.CompletableFuture.allOf(asks.toArray(java.util.concurrent.CompletableFuture[]::new))
        .thenCompose(v -> ports.hosts().thenApply(hosts -> new FailoverGathered(c, asks.stream().map(java.util.concurrent.CompletableFuture::join)
            .filter(java.util.Objects::nonNull).toList(), hosts, null)));
    ctx.pipeToSelf(all, (gathered, error) -> gathered != null ? gathered : new FailoverGathered(c, List.of(), List.of(), error));
    return Effect().none();
  }

  /**
   * Step 1 of a failover: each container that fails over gets a move reservation on its target (as a migration's, so
   * the survivors' capacity holds it and the entity settles it the same way), then its entity is asked to take it
   * (step 2, {@code FailOver}); each other one is marked lost in its own log. A failed gather is answered as such;
   * the host's watcher asks again.
   */
  private Effect<DirectoryEvent, DirectoryState> failOver(DirectoryState state, FailoverGathered m) {
    DirectoryCommand.FailOverHost c = m.command();
    if (m.error() != null) {
      log.warn("failover of host {}: cannot read its containers or the survivors: {}", c.host(), m.error().toString());
      return Effect().reply(c.replyTo(), new DirectoryReply.Done(state));
    }
    // Only what is still unsettled on the host now (a command may have moved a container meanwhile).
    List<ContainerState> still = m.states().stream().filter(s -> state.allocations().containsKey(s.id())
        && state.allocations().get(s.id()).host().equals(c.host()) && !state.reservations().containsKey(s.id())).toList();
    FailoverPlan plan = FailoverPlan.of(c.host(), still, view(state, m.hosts()), settings.policy(), settings.clock().instant().toString());
    EventChain<DirectoryEvent> events = chain(state, c.context());
    List<SagaRun> runs = new java.util.ArrayList<>();
    long number = state.lastReservation();
    for (FailoverPlan.Move move : plan.moves()) {
      long n = ++number;
      events.add(meta -> new MigrationReserved(meta, n, move.container(), move.target(), move.reason()));
      runs.add(SagaRun.forward(n, move.container(), "failover of container " + move.container() + " to " + move.target(), c.context(),
          r -> new ContainerCommand.FailOver(c.host(), move.target(), move.reason(), n, c.context(), r), null));
    }
    List<FailoverPlan.Lost> toMark = plan.lost().stream().filter(l -> l.failsOver() || c.markLost()).toList();
    log.warn("failover of host {} ({}): {} to move {}, {} marked lost {}, {} left as they are {}", c.host(), c.evidence(), plan.moves().size(),
        plan.moves().stream().map(mv -> mv.container() + "->" + mv.target()).toList(), toMark.size(),
        toMark.stream().map(FailoverPlan.Lost::container).toList(), plan.skipped().size(), plan.skipped());
    Runnable markLost = () -> {
      for (FailoverPlan.Lost lost : toMark) {
        ports.ask(lost.container(), r -> new ContainerCommand.MarkLost(c.host(), lost.reason(), c.context(), r), settings.sagas().stepTimeout())
            .whenComplete((reply, error) -> {
              if (error != null || reply instanceof ContainerReply.Refused) {
                log.warn("container {}: not marked lost ({}); the host's watcher asks again", lost.container(), error != null ? error.toString() : reply);
              }
            });
      }
    };
    if (runs.isEmpty()) {
      markLost.run();
      return Effect().reply(c.replyTo(), new DirectoryReply.Done(state));
    }
    List<ContainerId> moved = plan.moves().stream().map(FailoverPlan.Move::container).toList();
    return Effect().persist(events.events()).thenRun(s -> {
      runs.forEach(this::begin);
      markLost.run();
      timers.startSingleTimer("wake-" + c.host().value() + "-" + s.lastReservation(), new WakeMoved(moved, 1), WAKE_EVERY);
    }).thenReply(c.replyTo(), DirectoryReply.Done::new);
  }

  private Effect<DirectoryEvent, DirectoryState> wake(WakeMoved m) {
    List<java.util.concurrent.CompletableFuture<Optional<ContainerId>>> asks = m.containers().stream()
        .map(id -> ports.ask(id, ContainerCommand.Get::new, Duration.ofSeconds(5)).toCompletableFuture()
            .thenApply(reply -> reply instanceof ContainerReply.Done d && (d.state() instanceof ContainerState.Running
                || !(d.state() instanceof ContainerState.Live l) || l.data().pending().isEmpty()) ? Optional.<ContainerId>empty() : Optional.of(id))
            .exceptionally(e -> Optional.of(id)))
        .toList();
    var all = java.util.concurrent.CompletableFuture.allOf(asks.toArray(java.util.concurrent.CompletableFuture[]::new))
        .thenApply(v -> asks.stream().map(java.util.concurrent.CompletableFuture::join).flatMap(Optional::stream).toList());
    ctx.pipeToSelf(all, (left, error) -> new Woken(left == null ? m.containers() : left, m.attempt()));
    return Effect().none();
  }

  private Effect<DirectoryEvent, DirectoryState> woken(Woken m) {
    if (m.left().isEmpty()) return Effect().none();
    if (m.attempt() >= WAKES) {
      log.warn("failover: containers {} did not start on their new hosts after {} wakes", m.left(), WAKES);
      return Effect().none();
    }
    timers.startSingleTimer("wake-" + m.left().get(0).value(), new WakeMoved(m.left(), m.attempt() + 1), WAKE_EVERY);
    return Effect().none();
  }

  // --- recover -------------------------------------------------------------------------------------

  private Effect<DirectoryEvent, DirectoryState> onRecover(DirectoryState state, DirectoryCommand.RecoverContainer c) {
    Optional<ContainerReply> refusal = refuseRecover(state, c);
    if (refusal.isPresent()) return Effect().reply(c.replyTo(), refusal.get());
    ctx.pipeToSelf(ports.hosts(), (hosts, error) -> new HostsForRecover(c, hosts, error));
    return Effect().none();
  }

  /** Step 1 of a recovery: placement picks a survivor (never the lost host), held as a move until the entity settles. */
  private Effect<DirectoryEvent, DirectoryState> reserveRecover(DirectoryState state, HostsForRecover m) {
    DirectoryCommand.RecoverContainer c = m.command();
    ContainerId id = c.spec().id();
    Optional<ContainerReply> refusal = refuseRecover(state, c);
    if (refusal.isPresent()) return Effect().reply(c.replyTo(), refusal.get());
    if (m.error() != null) {
      return Effect().reply(c.replyTo(), refused(Code.UNAVAILABLE, "", "cannot read the hosts to place container " + id + ": " + m.error().getMessage()));
    }
    var free = new io.berth.protocol.spec.PlacementConstraints(Optional.empty(), c.spec().placement().hostLabels(), c.spec().placement().antiAffinityGroup());
    Placement decided = Placer.place(view(state, m.hosts()).withRemoved(c.lostOn(), id), c.spec().withPlacement(free), settings.policy(),
        Map.of(c.lostOn(), "the lost container's fenced host"), "--host");
    if (decided instanceof Placement.Refusal r) return Effect().reply(c.replyTo(), new ContainerReply.Refused(r.rejection()));
    Placement.Decision decision = (Placement.Decision) decided;
    long number = state.lastReservation() + 1;
    String why = "recovered on a new disk by " + c.context().principal() + ": " + decision.reason();
    var events = chain(state, c.context()).add(meta -> new MigrationReserved(meta, number, id, decision.host(), why)).events();
    SagaRun run = SagaRun.forward(number, id, "recovery of container " + id + " on " + decision.host(), c.context(),
        r -> new ContainerCommand.Recover(decision.host(), true, why, number, c.context(), r), c.replyTo());
    return Effect().persist(events).thenRun(s -> begin(run));
  }

  private static Optional<ContainerReply> refuseRecover(DirectoryState state, DirectoryCommand.RecoverContainer c) {
    ContainerId id = c.spec().id();
    Reservation r = state.reservations().get(id);
    if (r != null) return Optional.of(refused(Code.BUSY, "container", "container " + id + " is being " + doing(r) + " (reservation " + r.number() + ")"));
    Allocation a = state.allocations().get(id);
    if (a == null) return Optional.of(refused(Code.NOT_FOUND, "container", "container " + id + " does not exist"));
    if (!a.host().equals(c.lostOn())) {
      return Optional.of(refused(Code.WRONG_PHASE, "container", "container " + id + " is held on " + a.host() + ", not on " + c.lostOn()));
    }
    return Optional.empty();
  }

  // --- destroy -------------------------------------------------------------------------------------

  /** The container was destroyed: free its share and address, and whatever reservation it still had (with the next write). */
  private Effect<DirectoryEvent, DirectoryState> onRelease(DirectoryState state, DirectoryCommand.Release c) {
    boolean queuedConfirm = queue.stream().anyMatch(q -> q instanceof QueuedConfirm qc && qc.run().container().equals(c.container()));
    if (!state.holds(c.container()) && !queuedConfirm) return Effect().reply(c.replyTo(), new DirectoryReply.Done(state));
    enqueue(new QueuedRelease(c));
    return Effect().none();
  }

  private void release(Batch b, DirectoryCommand.Release c) {
    ContainerId id = c.container();
    Reservation r = b.state.reservations().get(id);
    boolean allocated = b.state.allocations().containsKey(id);
    if (r != null || allocated) {
      EventChain<DirectoryEvent> events = chain(b.state, c.context());
      if (r != null) events.add(meta -> new ReservationReleased(meta, r.number(), id, "container " + id + " was destroyed"));
      if (allocated) events.add(meta -> new AllocationReleased(meta, id));
      b.take(events.events());
      b.changed();
      b.released++;
    }
    SagaRun run = r == null ? null : end(r.number());
    b.after(s -> {
      if (run != null) {
        run.caller().ifPresent(caller -> caller.tell(refused(Code.NOT_FOUND, "container",
            "container " + id + " was destroyed before the " + run.what() + " finished")));
      }
      c.replyTo().tell(new DirectoryReply.Done(s));
    });
  }

  // --- the queue and its writes --------------------------------------------------------------------

  private void enqueue(Queued q) {
    queue.add(q);
    if (!flushSent) {
      flushSent = true;
      // To the back of the mailbox: whatever arrived before it (or waited for the last write) joins this batch.
      ctx.getSelf().tell(Flush.INSTANCE);
    }
  }

  /**
   * Decides everything queued, in order, and writes it in one persist. A create waits while the view of the hosts
   * is not good enough for it (see the class comment): the ones that arrived after it wait behind it, so creates are
   * decided in the order they came; confirmations and releases need no view and never wait.
   */
  private Effect<DirectoryEvent, DirectoryState> flush(DirectoryState state, Flush m) {
    flushSent = false;
    if (queue.isEmpty()) return Effect().none();
    Batch b = new Batch(state);
    boolean blocked = false;
    long now = System.nanoTime();
    boolean membersSame = viewHosts != null && ports.members().equals(viewMembers);
    for (java.util.Iterator<Queued> it = queue.iterator(); it.hasNext(); ) {
      Queued q = it.next();
      if (q instanceof QueuedCreate qc) {
        if (blocked || !viewServes(qc, now, membersSame)) {
          blocked = true;
          continue;
        }
        b.waitedNanos = Math.max(b.waitedNanos, now - qc.arrivedNanos());
        reserveCreate(b, qc.command());
      } else if (q instanceof QueuedConfirm qc) {
        confirmQueued(b, qc);
      } else if (q instanceof QueuedRelease qr) {
        release(b, qr.command());
      }
      it.remove();
    }
    if (blocked) readHosts();
    if (b.events.isEmpty()) {
      b.afterWrite(state);
      return Effect().none();
    }
    long writing = System.nanoTime();
    return Effect().persist(b.events).thenRun(written -> {
      log.info("directory: wrote {} reserved, {} confirmed, {} released in one write of {} events ({} ms; {} refused; the longest wait of a"
          + " create {} ms)", b.reserved, b.confirmed, b.released, b.events.size(), (System.nanoTime() - writing) / 1_000_000, b.refused,
          b.waitedNanos / 1_000_000);
      b.afterWrite(written);
    });
  }

  /**
   * Whether the view may place {@code create}: read after it arrived (as good as asking at once), or young enough
   * and read under the membership of now.
   */
  private boolean viewServes(QueuedCreate create, long now, boolean membersSame) {
    if (viewHosts == null) return false;
    if (viewAskedNanos - create.arrivedNanos() >= 0) return true;
    return membersSame && now - viewAskedNanos <= settings.viewBound().toNanos();
  }

  /** Reads the hosts' views again, unless a read is under way. */
  private void readHosts() {
    if (reading) return;
    reading = true;
    Map<HostId, Boolean> members = ports.members();
    long asked = System.nanoTime();
    ctx.pipeToSelf(ports.hosts(members), (hosts, error) -> new HostsRead(members, asked, hosts, error));
  }

  private Effect<DirectoryEvent, DirectoryState> onHostsRead(DirectoryState state, HostsRead m) {
    reading = false;
    if (m.error() == null) {
      viewHosts = List.copyOf(m.hosts());
      viewMembers = Map.copyOf(m.members());
      viewAskedNanos = m.askedNanos();
    } else {
      // The creates that waited for this read get the error, as a create whose hosts could not be read always did.
      String why = m.error().getMessage();
      log.warn("directory: cannot read the hosts' views: {}", m.error().toString());
      for (java.util.Iterator<Queued> it = queue.iterator(); it.hasNext(); ) {
        if (it.next() instanceof QueuedCreate qc && m.askedNanos() - qc.arrivedNanos() >= 0) {
          it.remove();
          qc.command().replyTo().tell(refused(Code.UNAVAILABLE, "", "cannot read the hosts to place container " + qc.command().spec().id() + ": " + why));
        }
      }
    }
    if (queue.stream().anyMatch(q -> q instanceof QueuedCreate) && !flushSent) {
      flushSent = true;
      ctx.getSelf().tell(Flush.INSTANCE);
    }
    return Effect().none();
  }

  /** One write's worth of decisions: the state as they leave it, their events, and what to do once they are durable. */
  private final class Batch {
    DirectoryState state;
    final List<DirectoryEvent> events = new java.util.ArrayList<>();
    private final List<java.util.function.Consumer<DirectoryState>> after = new java.util.ArrayList<>();
    private ClusterAllocation view;
    private Set<String> used;
    int reserved;
    int confirmed;
    int released;
    int refused;
    long waitedNanos;

    Batch(DirectoryState state) {
      this.state = state;
    }

    void take(List<DirectoryEvent> made) {
      for (DirectoryEvent e : made) {
        state = state.apply(e);
        events.add(e);
        if (e instanceof ContainerReserved) reserved++;
        if (e instanceof ReservationConfirmed) confirmed++;
      }
    }

    /** The hosts as placement sees them, with everything held so far in this batch too. */
    ClusterAllocation view() {
      if (view == null) view = Directory.view(state, viewHosts);
      return view;
    }

    Set<String> usedAddresses() {
      if (used == null) {
        used = new java.util.HashSet<>();
        for (DirectoryState.Held h : state.held()) used.add(h.address());
      }
      return used;
    }

    /** A create of this batch was reserved: its share and address are held for the next decisions. */
    void placed(ContainerId id, String address) {
      Reservation r = state.reservations().get(id);
      if (view != null) view = view.withPlaced(r.host(), id, new ContainerShare(r.limits(), r.antiAffinityGroup()));
      if (used != null) used.add(address);
    }

    /** Something other than a create changed what is held: the view and the addresses are read again from the state. */
    void changed() {
      view = null;
      used = null;
    }

    void reply(ActorRef<ContainerReply> to, ContainerReply reply) {
      refused++;
      after.add(s -> to.tell(reply));
    }

    void after(java.util.function.Consumer<DirectoryState> action) {
      after.add(action);
    }

    void afterWrite(DirectoryState written) {
      after.forEach(a -> a.accept(written));
    }
  }

  // --- the sagas: asking the entity, and deciding from its answers ---------------------------------

  private void begin(SagaRun run) {
    runs.put(run.number(), run);
    ask(run);
  }

  private void ask(SagaRun run) {
    boolean settling = run.settling();
    var question = run.nextAsk();
    ctx.pipeToSelf(ports.ask(run.container(), question, settings.sagas().stepTimeout()),
        (reply, error) -> new Answered(run.number(), settling, reply, error));
  }

  private Effect<DirectoryEvent, DirectoryState> askAgain(AskAgain m) {
    SagaRun run = runs.get(m.number());
    if (run != null) ask(run);
    return Effect().none();
  }

  private Effect<DirectoryEvent, DirectoryState> onAnswer(DirectoryState state, Answered m) {
    SagaRun run = runs.get(m.number());
    if (run == null) return Effect().none(); // settled already: a late answer to an earlier copy
    StepAnswer answer = StepAnswer.of(m.reply(), m.error());
    if (answer instanceof StepAnswer.Holds holds) return decide(state, run, holds.state(), m.settling(), m.reply());
    if (m.settling() != run.settling()) {
      // A late answer to a forward ask while the settle is under way: the settle decides; keep the entity's word.
      if (answer instanceof StepAnswer.Refused) run.settle(m.reply());
      return Effect().none();
    }
    if (answer instanceof StepAnswer.Refused refusal && !m.settling()) {
      if (!refusal.recorded() && run.asks() == 1) {
        // The only copy of the step ever sent was refused, and a refusal persists nothing: final.
        return releaseRun(state, run, refusal.rejection().message(), m.reply());
      }
      // A failure the entity recorded, or earlier copies may still arrive: settle, and decide from its state.
      run.settle(m.reply());
      ask(run);
      return Effect().none();
    }
    // No answer (a timeout, busy, not on its host yet; or a settle refused): ask again, never compensate.
    String why = answer instanceof StepAnswer.NoAnswer n ? n.why() : ((StepAnswer.Refused) answer).rejection().message();
    if (!run.settling() && run.patienceSpent(settings.sagas().patience())) {
      log.warn("{} (reservation {}): no answer within {} ({}); settling it with container {}", run.what(), run.number(),
          settings.sagas().patience(), why, run.container());
      run.settle(null);
    } else if (run.asks() % 10 == 0) {
      log.warn("{} (reservation {}): asked {} times, no answer yet ({})", run.what(), run.number(), run.asks(), why);
    }
    timers.startSingleTimer(timerKey(run.number()), new AskAgain(run.number()), settings.sagas().pauseAfter(run.asks()));
    return Effect().none();
  }

  /**
   * The entity answered with its state: the reservation is confirmed when the entity holds it (the allocation
   * follows what the entity recorded), released when it holds nothing of it. Only a settle's answer can release:
   * a forward step is answered with a state only once carried out.
   */
  private Effect<DirectoryEvent, DirectoryState> decide(DirectoryState state, SagaRun run, ContainerState entity, boolean settled,
      ContainerReply reply) {
    Reservation r = state.reservations().get(run.container());
    if (r == null || r.number() != run.number()) {
      end(run.number());
      return Effect().none(); // released meanwhile (the container was destroyed)
    }
    boolean exists = entity instanceof ContainerState.Live && !(entity instanceof ContainerState.Destroyed);
    ContainerId id = run.container();
    boolean carriedOut = exists && entity.lastReservation() == r.number();
    if (!carriedOut && !settled) {
      // A state that does not show the step, yet not the answer to a settle: only a settle's answer may release.
      run.settle(null);
      ask(run);
      return Effect().none();
    }
    if (r.kind() == Reservation.Kind.MIGRATE) return decideMigration(state, run, r, entity, carriedOut, reply);
    if (r.kind() == Reservation.Kind.CREATE) {
      if (carriedOut) {
        ContainerState.Live live = (ContainerState.Live) entity;
        return confirm(state, run, live.data().host().orElse(r.host()), live.data().spec().limits(), reply);
      }
      return releaseRun(state, run, "container " + id + " holds nothing of reservation " + r.number() + " (it is " + entity.phase()
          + (entity.lastReservation() == r.number() ? " and declined it" : "") + ")", null);
    }
    // A resize: the allocation follows the limits the entity recorded.
    if (!exists) return releaseRun(state, run, "container " + id + " is " + entity.phase(), null);
    Limits recorded = ((ContainerState.Live) entity).data().spec().limits();
    Allocation current = state.allocations().get(id);
    if (!recorded.equals(r.limits()) && recorded.equals(current.limits())) {
      return releaseRun(state, run, "container " + id + " kept its limits " + recorded, null);
    }
    return confirm(state, run, current.host(), recorded, reply);
  }

  /**
   * A move's step 2 was answered: while the entity moves the container, the reservation stays (the entity settles it
   * at its end with {@code SettleMigration}) and the caller learns that the move is under way. An entity that has
   * ended the move already (found so after the directory's recovery) settles it by where it now is.
   */
  private Effect<DirectoryEvent, DirectoryState> decideMigration(DirectoryState state, SagaRun run, Reservation r, ContainerState entity,
      boolean carriedOut, ContainerReply reply) {
    if (!carriedOut) {
      return releaseRun(state, run, "container " + run.container() + " holds nothing of reservation " + r.number() + " (it is "
          + entity.phase() + ")", null);
    }
    if (entity instanceof ContainerState.Migrating) {
      end(run.number());
      run.caller().ifPresent(caller -> caller.tell(run.verdictOr(reply)));
      return Effect().none();
    }
    ContainerState.Live live = (ContainerState.Live) entity;
    if (live.data().host().map(r.host()::equals).orElse(false)) {
      return confirm(state, run, r.host(), state.allocations().get(run.container()).limits(), reply);
    }
    return releaseRun(state, run, "the move of container " + run.container() + " to " + r.host() + " ended without it", null);
  }

  private Effect<DirectoryEvent, DirectoryState> confirm(DirectoryState state, SagaRun run, HostId host, Limits limits, ContainerReply reply) {
    end(run.number());
    // The caller is answered before the confirmation is durable: what it acknowledges (the entity's outcome) is
    // durable in the entity's log already, and the confirmation follows from it after any crash (the recovered
    // directory settles the reservation and finds it carried out). The confirmation goes with the directory's next
    // write, together with whatever else is queued; until then the reservation holds the container's share and
    // address, so nothing can take them. This keeps the directory's own write off the create's critical path.
    // Queued before the caller is told: its write is then asked before anything the caller sends on the answer, and
    // what it sends waits for the write (a read after a create's answer sees it confirmed).
    enqueue(new QueuedConfirm(run, host, limits));
    run.caller().ifPresent(caller -> caller.tell(run.verdictOr(reply)));
    return Effect().none();
  }

  /** A confirmation in a batch: recorded unless the reservation was settled otherwise meanwhile (a destroy released it). */
  private void confirmQueued(Batch b, QueuedConfirm q) {
    SagaRun run = q.run();
    Reservation r = b.state.reservations().get(run.container());
    if (r == null || r.number() != run.number()) {
      log.info("{}: reservation {} was settled before its confirmation was written (the container was destroyed); nothing to confirm",
          run.what(), run.number());
      return;
    }
    b.take(chain(b.state, run.context()).add(meta -> new ReservationConfirmed(meta, run.number(), run.container(), q.host(), q.limits())).events());
    b.changed();
    b.after(s -> log.info("{} on host {}: confirmed (reservation {}, {} ms, {} asks) correlation={}",
        run.what(), q.host(), run.number(), run.elapsedMillis(), run.asks(), run.context().correlationId()));
  }

  private Effect<DirectoryEvent, DirectoryState> releaseRun(DirectoryState state, SagaRun run, String reason, ContainerReply reply) {
    Reservation r = state.reservations().get(run.container());
    end(run.number());
    if (r == null || r.number() != run.number()) return Effect().none();
    var events = chain(state, run.context()).add(meta -> new ReservationReleased(meta, run.number(), run.container(), reason)).events();
    ContainerReply answer = run.verdictOr(reply != null ? reply
        : refused(Code.UNAVAILABLE, "container", run.what() + " did not happen: " + reason + "; nothing is held for it"));
    return Effect().persist(events).thenRun(s -> {
      log.info("{}: released (reservation {}): {} correlation={}", run.what(), run.number(), reason, run.context().correlationId());
      run.caller().ifPresent(caller -> caller.tell(answer));
    });
  }

  private SagaRun end(long number) {
    timers.cancel(timerKey(number));
    return runs.remove(number);
  }

  /** After recovery (a new singleton, a restart): settle every reservation the log holds unsettled. */
  private void settleAfterRecovery(DirectoryState state) {
    timers.startTimerWithFixedDelay("host-views", RefreshHosts.INSTANCE, settings.viewRefresh());
    readHosts();
    if (state.reservations().isEmpty()) return;
    log.info("directory recovered with {} unsettled reservations: asking each container's entity what it holds", state.reservations().size());
    for (Map.Entry<ContainerId, Reservation> e : state.reservations().entrySet()) {
      Reservation r = e.getValue();
      CommandContext context = new CommandContext(EventMeta.SYSTEM_PRINCIPAL,
          "settle reservation " + r.number() + " after the directory's recovery", r.correlationId());
      String what = r.kind().name().toLowerCase(java.util.Locale.ROOT) + " of container " + e.getKey();
      begin(SagaRun.recovered(r.number(), e.getKey(), what, context));
    }
  }

  // --- helpers -------------------------------------------------------------------------------------

  private EventChain<DirectoryEvent> chain(DirectoryState state, CommandContext context) {
    return new EventChain<>(settings.clock(), context, state.lastEventHash());
  }

  private static String timerKey(long number) {
    return "reservation-" + number;
  }

  /** The hosts as placement sees them, with everything the directory holds on them (reservations included). */
  private static ClusterAllocation view(DirectoryState state, List<HostCandidate> hosts) {
    ClusterAllocation view = ClusterAllocation.of(hosts);
    for (DirectoryState.Held h : state.held()) {
      view = view.withPlaced(h.host(), h.container(), new ContainerShare(h.limits(), h.antiAffinityGroup()));
    }
    return view;
  }

  /** The members that are up (or weakly up) and run a host, by host. */
  public static Map<HostId, Member> upHosts(org.apache.pekko.cluster.ClusterEvent.CurrentClusterState state) {
    Map<HostId, Member> hosts = new java.util.TreeMap<>();
    for (Member m : state.getMembers()) {
      if (m.status() != MemberStatus.up() && m.status() != MemberStatus.weaklyUp()) continue;
      hostOf(m).ifPresent(h -> hosts.put(h, m));
    }
    return hosts;
  }

  /** The host a member runs, from its role {@code host-<id>}. */
  public static Optional<HostId> hostOf(Member member) {
    for (String role : member.getRoles()) {
      if (role.startsWith(HOST_ROLE_PREFIX)) return Optional.of(HostId.of(role.substring(HOST_ROLE_PREFIX.length())));
    }
    return Optional.empty();
  }

  private static ContainerReply refused(Code code, String field, String message) {
    return new ContainerReply.Refused(new Rejection(code, field, message));
  }
}
