package io.berth.node.ops;

import io.berth.node.container.ContainerEntity;
import io.berth.node.directory.Directory;
import io.berth.node.host.HostEntity;
import io.berth.node.saga.SagaSettings;
import io.berth.persistence.JournalHealth;
import io.berth.persistence.audit.AuditService;
import io.berth.persistence.audit.ChainReport;
import io.berth.protocol.access.AccessReply;
import io.berth.protocol.access.AccessState;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.Role;
import io.berth.protocol.access.TokenScope;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.container.PostCopy;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@link BerthOperations} over the real cluster: the directory singleton places and allocates, the
 * sharded entities act, the audit service reads the journal. Every call that would persist is refused
 * at once with {@code UNAVAILABLE} while the journal is known to be down (nothing is half-done then).
 */
public final class ClusterOperations implements BerthOperations {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClusterOperations.class);

  /** How long one entity may take to make an outcome durable (a stop waits for its own timeout on top). */
  static final Duration ASK = Duration.ofSeconds(30);

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final ActorRef<DirectoryCommand> directory;
  private final AuditService audit;
  private final Templates templates;
  private final SagaSettings sagas;
  private final io.berth.node.fence.FencingSettings fencing;
  private final Checkpoints checkpoints;
  private final io.berth.node.access.ClusterAccess access;
  /**
   * What this node last read of the directory and of each container. While the journal is down the directory cannot
   * recover and entities cannot start, so reads answer from this (the API marks them possibly stale).
   */
  private final java.util.concurrent.atomic.AtomicReference<DirectoryState> lastDirectory = new java.util.concurrent.atomic.AtomicReference<>();
  private final Map<ContainerId, ContainerState> lastStates = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<HostId, HostReply> lastHosts = new java.util.concurrent.ConcurrentHashMap<>();

  /** The containers' periodic checkpoints as this node's shared root holds them (blocking: small files on shared storage). */
  public interface Checkpoints {
    CheckpointView of(ContainerId id);
  }

  /** The node's template store, behind what the API needs of it. */
  public interface Templates {
    CompletionStage<List<TemplateView>> list();

    CompletionStage<TemplateView> importTemplate(String name, Path source, CommandContext context);

    CompletionStage<TemplateView> buildTemplate(io.berth.isolation.template.TemplateBuild build, CommandContext context);
  }

  public ClusterOperations(ActorSystem<?> system, ActorRef<DirectoryCommand> directory, AuditService audit, Templates templates,
      SagaSettings sagas, io.berth.node.fence.FencingSettings fencing, Checkpoints checkpoints, io.berth.node.access.ClusterAccess access) {
    this.access = access;
    this.fencing = fencing;
    this.checkpoints = checkpoints;
    this.system = system;
    this.sagas = sagas;
    this.sharding = ClusterSharding.get(system);
    this.directory = directory;
    this.audit = audit;
    this.templates = templates;
  }

  // --- containers ---------------------------------------------------------------------------------

  /**
   * A saga the directory runs (see {@link Directory}): it answers once the container's entity has answered and
   * both logs hold the outcome. If that takes longer than the saga's own patience and settle, the caller is told
   * it goes on; the logs finish it either way.
   */
  @Override
  public CompletionStage<ContainerReply> create(ContainerSpec spec, boolean start, CommandContext context) {
    return guarded(() -> askSaga("create of container " + spec.id(), spec.id(),
        r -> new DirectoryCommand.CreateContainer(spec, start, context, r)));
  }

  @Override
  public CompletionStage<ContainerReply> start(ContainerId id, CommandContext context) {
    return guarded(() -> askKnown(id, r -> new ContainerCommand.Start(context, r), ASK));
  }

  @Override
  public CompletionStage<ContainerReply> stop(ContainerId id, long timeoutMillis, CommandContext context) {
    return guarded(() -> askKnown(id, r -> new ContainerCommand.Stop(timeoutMillis, context, r), ASK.plusMillis(timeoutMillis)));
  }

  @Override
  public CompletionStage<ContainerReply> kill(ContainerId id, int signal, CommandContext context) {
    return guarded(() -> askKnown(id, r -> new ContainerCommand.Kill(signal, context, r), ASK));
  }

  @Override
  public CompletionStage<ContainerReply> destroy(ContainerId id, CommandContext context) {
    return guarded(() -> askKnown(id, r -> new ContainerCommand.Destroy(context, r), ASK).thenCompose(reply -> {
      if (!(reply instanceof ContainerReply.Done)) return done(reply);
      return askDirectory(r -> new DirectoryCommand.Release(id, context, r)).thenApply(released -> reply);
    }));
  }

  /** A saga the directory runs, as {@link #create}: the host must take the new limits before the container gets them. */
  @Override
  public CompletionStage<ContainerReply> setLimits(ContainerId id, Limits limits, CommandContext context) {
    return guarded(() -> askSaga("resize of container " + id, id, r -> new DirectoryCommand.ResizeContainer(id, limits, context, r)));
  }

  @Override
  public CompletionStage<ContainerReply> migrate(ContainerId id, Optional<HostId> target, Optional<MigrationMode> mode, PostCopy postCopy,
      CommandContext context) {
    // The directory places it from its spec as its entity holds it; the entity then runs the move from its own log.
    return guarded(() -> get(id).thenCompose(state -> {
      if (!(state instanceof ContainerState.Live live) || state instanceof ContainerState.Destroyed) {
        return done(new ContainerReply.Refused(new Rejection(Code.NOT_FOUND, "container", "container " + id + " does not exist")));
      }
      return askSaga("migration of container " + id, id, r -> new DirectoryCommand.MigrateContainer(live.data().spec(), target,
          mode.orElse(MigrationMode.LIVE), mode.isPresent(), postCopy, context, r));
    }));
  }

  /** The container's own entity decides (the spec's rules), records it and hands it to its host's scheduler. */
  @Override
  public CompletionStage<ContainerReply> setCheckpointSchedule(ContainerId id, Duration every, CommandContext context) {
    return guarded(() -> askKnown(id, r -> new ContainerCommand.SetCheckpointSchedule(every, context, r), ASK));
  }

  @Override
  public CompletionStage<CheckpointView> checkpoints(ContainerId id) {
    return CompletableFuture.supplyAsync(() -> checkpoints.of(id),
        system.dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking()));
  }

  @Override
  public CompletionStage<ContainerReply> recover(ContainerId id, boolean fromCheckpoint, CommandContext context) {
    return guarded(() -> get(id).thenCompose(state -> {
      if (!(state instanceof ContainerState.Live) || state instanceof ContainerState.Destroyed) {
        return done(new ContainerReply.Refused(new Rejection(Code.NOT_FOUND, "container", "container " + id + " does not exist")));
      }
      if (!(state instanceof ContainerState.Lost lost)) {
        return done(new ContainerReply.Refused(new Rejection(Code.WRONG_PHASE, "phase", "container " + id + " is " + state.phase()
            + "; recover needs a lost container (its host fenced, its disk that host's own)")));
      }
      if (fromCheckpoint) {
        return done(new ContainerReply.Refused(new Rejection(Code.INVALID, "from-checkpoint", "container " + id
            + " has no checkpoint: its disk is local (lost with its host), and checkpoints are kept on shared storage for --storage shared "
            + "containers only, which fail over by themselves; --empty runs it on a new, empty disk")));
      }
      return host(lost.host()).thenCompose(reply -> {
        if (!(reply instanceof HostReply.Done d) || !(d.state() instanceof HostState.Fenced fenced)) {
          return done(new ContainerReply.Refused(new Rejection(Code.WRONG_PHASE, "host", "host " + lost.host() + " is "
              + (reply instanceof HostReply.Done d2 ? d2.state().phase() : "not known") + ", not fenced: its node may still run " + id)));
        }
        // Its watchdog was last fed before the fence; the long deadline ends every container it holds.
        java.time.Instant safe = fenced.since().plus(fencing.localDeadline()).plus(fencing.margin());
        java.time.Instant now = java.time.Instant.now();
        if (now.isBefore(safe)) {
          return done(new ContainerReply.Refused(new Rejection(Code.WRONG_PHASE, "host", "host " + lost.host() + " was fenced at "
              + fenced.since() + "; its watchdog ends the containers on its own disks within " + fencing.localDeadline().toSeconds()
              + " s of its last feed, so " + id + " may still run there until " + safe + ": recover after that (in "
              + (java.time.Duration.between(now, safe).toSeconds() + 1) + " s)")));
        }
        return askSaga("recovery of container " + id, id, r -> new DirectoryCommand.RecoverContainer(lost.data().spec(), lost.host(), context, r));
      });
    }));
  }

  @Override
  public CompletionStage<ContainerReply> exec(ContainerId id, List<String> argv, long timeoutMillis, CommandContext context) {
    return askKnown(id, r -> new ContainerCommand.Exec(argv, timeoutMillis, context, r), ASK.plusMillis(timeoutMillis));
  }

  /** {@link ContainerState.Empty} for a name the directory does not know: no entity is started to find that out. */
  @Override
  public CompletionStage<ContainerState> get(ContainerId id) {
    return locate(id).thenCompose(host -> host.isEmpty() ? done(ContainerState.empty(id)) : state(id));
  }

  @Override
  public CompletionStage<List<ContainerState>> list() {
    return readDirectory().thenCompose(directory -> {
      List<CompletableFuture<ContainerState>> gets = new ArrayList<>();
      for (ContainerId id : directory.containers()) gets.add(state(id).toCompletableFuture());
      return CompletableFuture.allOf(gets.toArray(CompletableFuture[]::new))
          .thenApply(v -> gets.stream().map(CompletableFuture::join)
              .filter(s -> !(s instanceof ContainerState.Empty) && !(s instanceof ContainerState.Destroyed)).toList());
    });
  }

  // --- hosts --------------------------------------------------------------------------------------

  @Override
  public CompletionStage<List<HostView>> hosts() {
    return readDirectory().thenCompose(dir -> {
      Cluster cluster = Cluster.get(system);
      Set<HostId> reachable = new TreeSet<>();
      Set<HostId> known = new TreeSet<>();
      for (Member m : cluster.state().getMembers()) {
        Optional<HostId> h = Directory.hostOf(m);
        if (h.isEmpty()) continue;
        known.add(h.get());
        if (m.status() == MemberStatus.up() && !cluster.state().getUnreachable().contains(m)) reachable.add(h.get());
      }
      // What is held on each host: the allocations, and the reservations of sagas under way.
      List<DirectoryState.Held> held = dir.held();
      held.forEach(a -> known.add(a.host()));
      Map<HostId, long[]> sums = new HashMap<>();
      for (DirectoryState.Held a : held) {
        long[] s = sums.computeIfAbsent(a.host(), h -> new long[6]);
        s[0] += a.limits().cpuMillis();
        s[1] += a.limits().memoryBytes();
        s[2] += a.limits().pids();
        s[3] += a.limits().cpuGuaranteeMillis();
        s[4] += a.limits().memoryGuaranteeBytes();
        s[5] += 1;
      }
      List<CompletableFuture<Optional<HostView>>> views = new ArrayList<>();
      for (HostId h : known) {
        long[] s = sums.getOrDefault(h, new long[6]);
        views.add(host(h).toCompletableFuture()
            .thenApply(r -> r instanceof HostReply.Done d && !(d.state() instanceof HostState.Unregistered)
                ? Optional.of(new HostView(d.state(), s[0], s[1], s[2], s[3], s[4], d.usage(), (int) s[5], reachable.contains(h)))
                : Optional.<HostView>empty())
            .exceptionally(e -> Optional.empty()));
      }
      return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new))
          .thenApply(v -> views.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
    });
  }

  /** A host's state; while the journal is down, the last one this node saw (its entity may not be able to start). */
  @Override
  public CompletionStage<HostReply> host(HostId id) {
    CompletionStage<HostReply> asked = askHost(id, HostCommand.Get::new).thenApply(r -> {
      lastHosts.put(id, r);
      return r;
    });
    return JournalHealth.get(system).orWhenUnavailable(asked, why -> {
      HostReply held = lastHosts.get(id);
      return held != null ? done(held) : CompletableFuture.failedFuture(new io.berth.persistence.PersistenceUnavailableException(why
          + "; this node holds no earlier view of host " + id));
    });
  }

  @Override
  public CompletionStage<HostReply> cordon(HostId id, CommandContext context) {
    return guarded(() -> askHost(id, r -> new HostCommand.Cordon(context, r)).thenCompose(this::onceTheDirectorySeesIt));
  }

  @Override
  public CompletionStage<HostReply> drain(HostId id, io.berth.protocol.host.DrainMode mode, int parallel, CommandContext context) {
    return guarded(() -> askHost(id, r -> new HostCommand.Drain(mode, parallel, context, r)).thenCompose(this::onceTheDirectorySeesIt));
  }

  @Override
  public CompletionStage<HostReply> markDrained(HostId id, List<String> notMoved, CommandContext context) {
    return guarded(() -> askHost(id, r -> new HostCommand.MarkDrained(notMoved, context, r)));
  }

  @Override
  public CompletionStage<HostReply> uncordon(HostId id, CommandContext context) {
    return guarded(() -> askHost(id, r -> new HostCommand.Uncordon(context, r)).thenCompose(this::onceTheDirectorySeesIt));
  }

  /**
   * A host's record changed: answered once the directory places no create on a view of the hosts older than the
   * change ({@link Directory#VIEW_BOUND} after the host entity made it durable), so every create asked after this
   * answer honours it (a cordoned host gets none, an uncordoned one may).
   */
  private CompletionStage<HostReply> onceTheDirectorySeesIt(HostReply reply) {
    if (!(reply instanceof HostReply.Done)) return done(reply);
    CompletableFuture<HostReply> later = new CompletableFuture<>();
    system.scheduler().scheduleOnce(Directory.VIEW_BOUND, () -> later.complete(reply), system.executionContext());
    return later;
  }

  // --- access -------------------------------------------------------------------------------------

  @Override
  public CompletionStage<AccessState> accessTokens() {
    return access.tokens();
  }

  @Override
  public CompletionStage<AccessReply> issueToken(String name, Credential credential, Role role,
      Optional<TokenScope> scope, Optional<Instant> expiresAt, CommandContext context) {
    return access.issue(name, credential, role, scope, expiresAt, context);
  }

  @Override
  public CompletionStage<AccessReply> revokeToken(String name, CommandContext context) {
    return access.revoke(name, context);
  }

  // --- templates ----------------------------------------------------------------------------------

  @Override
  public CompletionStage<List<TemplateView>> templates() {
    return templates.list();
  }

  @Override
  public CompletionStage<TemplateView> importTemplate(String name, Path source, CommandContext context) {
    return templates.importTemplate(name, source, context);
  }

  @Override
  public CompletionStage<TemplateView> buildTemplate(io.berth.isolation.template.TemplateBuild build, CommandContext context) {
    return templates.buildTemplate(build, context);
  }

  // --- audit --------------------------------------------------------------------------------------

  @Override
  public CompletionStage<List<AuditEntry>> history(EntityRef entity, long fromSeqNr, int limit) {
    return audit.history(entity.persistenceId(), fromSeqNr, limit)
        .thenApply(page -> page.entries().stream().map(ClusterOperations::entry).toList());
  }

  @Override
  public CompletionStage<List<AuditEntry>> timeline(Instant since, Instant until, int limit) {
    return audit.timeline(since, until, Optional.empty(), limit)
        .thenApply(page -> page.entries().stream().map(ClusterOperations::entry).toList());
  }

  @Override
  public CompletionStage<ContainerState> containerAt(ContainerId id, Instant at) {
    return audit.containerStateAt(id, at);
  }

  @Override
  public CompletionStage<ContainerState> containerBefore(ContainerId id, long sequenceNr) {
    return guarded(() -> audit.containerStateBefore(id, sequenceNr));
  }

  @Override
  public CompletionStage<VerifyReport> verify(Optional<EntityRef> entity) {
    if (entity.isPresent()) {
      return audit.verify(entity.get().persistenceId()).thenApply(report -> {
        if (report instanceof ChainReport.Broken b) {
          return new VerifyReport(1, b.sequenceNr(), List.of(new BrokenLink(b.persistenceId(), b.sequenceNr(), b.check().label(), b.problem())));
        }
        return new VerifyReport(1, ((ChainReport.Intact) report).events(), List.of());
      });
    }
    return audit.verifyAll().thenApply(r -> new VerifyReport(r.entities(), r.events(),
        r.broken().stream().map(b -> new BrokenLink(b.persistenceId(), b.sequenceNr(), b.check().label(), b.problem())).toList()));
  }

  @Override
  public Source<AuditEntry, NotUsed> events(Optional<String> offset) {
    // From an offset: everything after it. Without one: from now on.
    Instant since = offset.isPresent() ? Instant.EPOCH : Instant.now();
    return audit.liveTimeline(since, offset).map(ClusterOperations::entry);
  }

  private static AuditEntry entry(io.berth.persistence.audit.AuditEntry e) {
    return new AuditEntry(e.persistenceId(), e.sequenceNr(), e.at(), e.type(), e.principal(), e.reason(), e.correlationId(),
        e.offset() == null ? "" : e.offset(), e.event());
  }

  // --- plumbing -----------------------------------------------------------------------------------

  private <T> CompletionStage<T> guarded(java.util.function.Supplier<CompletionStage<T>> call) {
    return JournalHealth.get(system).guard(call);
  }

  /**
   * Asks a container's entity, once the directory knows the name: a command or read about a name that does not
   * exist must not start an entity (it would put the name's shard on whichever member was asked).
   */
  private CompletionStage<ContainerReply> askKnown(ContainerId id,
      org.apache.pekko.japi.function.Function<ActorRef<ContainerReply>, ContainerCommand> make, Duration timeout) {
    return locate(id).thenCompose(host -> host.isEmpty()
        ? done(new ContainerReply.Refused(new Rejection(Code.NOT_FOUND, "container", "container " + id + " does not exist")))
        : askWhileMoving(id, make, timeout, MOVING_RETRIES));
  }

  /** How often a command is asked again while the container's shard moves to its host (a migration's last step). */
  static final int MOVING_RETRIES = 12;
  static final Duration MOVING_PAUSE = Duration.ofMillis(500);

  /**
   * Asks the entity; when it answers that it is not on its host (its shard follows a migration to the target at the
   * next rebalance, a couple of seconds) while that host's member is up, asks again for a few seconds.
   */
  private CompletionStage<ContainerReply> askWhileMoving(ContainerId id,
      org.apache.pekko.japi.function.Function<ActorRef<ContainerReply>, ContainerCommand> make, Duration timeout, int retries) {
    return sharding.entityRefFor(ContainerEntity.TYPE_KEY, id.value()).ask(make, timeout).thenCompose(reply -> {
      boolean moving = reply instanceof ContainerReply.Refused r && r.rejection().code() == Code.UNAVAILABLE && "host".equals(r.rejection().field());
      if (!moving || retries <= 0) return done(reply);
      CompletableFuture<ContainerReply> later = new CompletableFuture<>();
      system.scheduler().scheduleOnce(MOVING_PAUSE, () -> askWhileMoving(id, make, timeout, retries - 1)
          .whenComplete((r, e) -> { if (e != null) later.completeExceptionally(e); else later.complete(r); }), system.executionContext());
      return later;
    });
  }

  /** The state of a container the directory knows; while the journal is down, the last one this node saw. */
  private CompletionStage<ContainerState> state(ContainerId id) {
    CompletionStage<ContainerState> asked = sharding.entityRefFor(ContainerEntity.TYPE_KEY, id.value()).ask(ContainerCommand.Get::new, ASK)
        .thenApply(reply -> {
          ContainerState s = ((ContainerReply.Done) reply).state();
          lastStates.put(id, s);
          return s;
        });
    return JournalHealth.get(system).orWhenUnavailable(asked, why -> {
      ContainerState held = lastStates.get(id);
      return held != null ? done(held) : CompletableFuture.failedFuture(new io.berth.persistence.PersistenceUnavailableException(why
          + "; container " + id + " is not in memory and this node holds no earlier view of it"));
    });
  }

  /** Where the directory has the container (running, or being created); empty for a name it does not know. */
  private CompletionStage<Optional<HostId>> locate(ContainerId id) {
    CompletionStage<Optional<HostId>> asked = askDirectory(r -> new DirectoryCommand.Locate(id, r)).thenApply(r -> ((DirectoryReply.Located) r).host());
    return JournalHealth.get(system).orWhenUnavailable(asked, why -> {
      DirectoryState held = lastDirectory.get();
      return held != null ? done(held.hostOf(id)) : CompletableFuture.failedFuture(new io.berth.persistence.PersistenceUnavailableException(why
          + "; this node has not read the directory yet"));
    });
  }

  @Override
  public Optional<String> possiblyStale() {
    return JournalHealth.get(system).unavailable();
  }

  /**
   * Asks the directory to run a saga and waits for its answer. A wait that ends without one is not the saga's end:
   * the caller is told so (unavailable), and the logs finish it ({@code berth ct show} shows where it stands).
   */
  private CompletionStage<ContainerReply> askSaga(String what, ContainerId id,
      org.apache.pekko.japi.function.Function<ActorRef<ContainerReply>, DirectoryCommand> make) {
    Duration wait = sagas.callerWait();
    return AskPattern.ask(directory, make, wait, system.scheduler()).exceptionally(error -> {
      Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
      if (!(cause instanceof java.util.concurrent.TimeoutException)) throw new java.util.concurrent.CompletionException(cause);
      log.warn("{}: no answer from the directory within {}; the saga goes on in the logs", what, wait);
      return new ContainerReply.Refused(new Rejection(Code.UNAVAILABLE, "", what + ": no answer within " + wait.toSeconds()
          + " s (the directory may have moved to another node); it goes on and settles by itself: `berth ct show " + id + "` shows where it stands"));
    });
  }

  private CompletionStage<HostReply> askHost(HostId id, org.apache.pekko.japi.function.Function<ActorRef<HostReply>, HostCommand> make) {
    return sharding.entityRefFor(HostEntity.TYPE_KEY, id.value()).ask(make, ASK);
  }

  private CompletionStage<DirectoryReply> askDirectory(org.apache.pekko.japi.function.Function<ActorRef<DirectoryReply>, DirectoryCommand> make) {
    return AskPattern.ask(directory, make, ASK, system.scheduler());
  }

  /**
   * The directory's whole state; while the journal is down (the directory cannot recover then), the last one this
   * node read. {@link io.berth.node.boot.NodeServices} reads it every few seconds, so every node holds a recent one.
   */
  public CompletionStage<DirectoryState> readDirectory() {
    CompletionStage<DirectoryState> asked = askDirectory(DirectoryCommand.Read::new).thenApply(r -> {
      DirectoryState s = ((DirectoryReply.Snapshot) r).state();
      lastDirectory.set(s);
      // What the directory no longer knows (destroyed) is dropped from the views held for an outage.
      java.util.Set<ContainerId> known = new java.util.HashSet<>(s.containers());
      lastStates.keySet().retainAll(known);
      return s;
    });
    return JournalHealth.get(system).orWhenUnavailable(asked, why -> {
      DirectoryState held = lastDirectory.get();
      return held != null ? done(held) : CompletableFuture.failedFuture(new io.berth.persistence.PersistenceUnavailableException(why
          + "; this node has not read the directory yet"));
    });
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
