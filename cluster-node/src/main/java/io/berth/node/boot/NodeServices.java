package io.berth.node.boot;

import io.berth.isolation.HostResources;
import io.berth.isolation.IsolationLayer;
import io.berth.node.agent.ContainerRuntime;
import io.berth.node.api.ApiServer;
import io.berth.node.cluster.HostAllocationStrategy;
import io.berth.node.cluster.OneShardPerEntity;
import io.berth.node.container.ContainerEntity;
import io.berth.node.directory.Directory;
import io.berth.node.directory.DirectoryPorts;
import io.berth.node.host.HostEntity;
import io.berth.node.ops.ClusterOperations;
import io.berth.node.template.ClusterTemplates;
import io.berth.node.template.TemplateAgent;
import io.berth.persistence.BerthPersistence;
import io.berth.persistence.BerthTags;
import io.berth.persistence.CassandraSchema;
import io.berth.persistence.audit.AuditService;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.host.HostState;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * The node's running parts, started in order: schema, cluster membership, the directory singleton, the
 * sharded host and container entities (placed by {@link HostAllocationStrategy}), the host's registration,
 * the REST API. Each step is bounded and its failure names the step.
 */
public final class NodeServices {
  private final ClusterOperations operations;
  private final ServerBinding binding;
  private final ActorRef<DirectoryCommand> directory;

  private NodeServices(ClusterOperations operations, ServerBinding binding, ActorRef<DirectoryCommand> directory) {
    this.operations = operations;
    this.binding = binding;
    this.directory = directory;
  }

  public static NodeServices start(ActorSystem<?> system, NodeSettings s, BerthPersistence.Resolved persistence,
      IsolationLayer layer, ContainerRuntime runtime, HostResources detected, io.berth.node.fence.HostFence fence, Duration timeout) {
    Clock clock = Clock.systemUTC();
    await("create the keyspaces and tables", CassandraSchema.ensure(system, persistence.settings()), timeout);
    awaitUp(system, timeout);

    ActorRef<DirectoryCommand> directory = ClusterSingleton.get(system).init(SingletonActor.of(
        Directory.create(new Directory.Settings(s.containerAddresses(), s.placementPolicy(), s.sagas(), clock, BerthTags::tagsFor),
            DirectoryPorts.of(system)), "directory"));

    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    ClusterSharding sharding = ClusterSharding.get(system);
    org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(system);
    sharding.init(Entity.of(HostEntity.TYPE_KEY, ctx -> HostEntity.create(ctx.getEntityId(), clock, BerthTags::tagsFor))
        .withMessageExtractor(new OneShardPerEntity<HostCommand>())
        .withAllocationStrategy(new HostAllocationStrategy(classic, HostAllocationStrategy.hostIsShardId())));
    var source = new io.berth.node.migration.IsolationSource(system, layer, runtime, s.migration(), s.hostId(), s.clusterAddress());
    // Execs on their own bounded pool (ExecPool): a tenant's long execs never take the threads of starts and stops.
    io.berth.node.exec.ExecPool execs = new io.berth.node.exec.ExecPool(s.hostId().value(), s.exec());
    system.getWhenTerminated().thenRun(execs::close);
    var deps = new ContainerEntity.Deps(s.hostId(), runtime, blocking, execs, clock, BerthTags::tagsFor, source,
        io.berth.node.migration.MigrationPorts.of(system, directory), s.migration());
    sharding.init(Entity.of(ContainerEntity.TYPE_KEY, ctx -> ContainerEntity.create(ctx.getEntityId(), deps))
        .withMessageExtractor(new OneShardPerEntity<ContainerCommand>())
        .withAllocationStrategy(new HostAllocationStrategy(classic, shards -> containerHosts(system, directory, shards))));

    // Detected memory is rounded down to whole MiB: capacities are read by people (24105M, not 24684084K).
    HostCapacity capacity = new HostCapacity(s.cpuMillis().orElse(detected.cpuMillis()),
        s.memoryBytes().orElse(detected.memoryBytes() & ~((1L << 20) - 1)), s.pids());
    long incarnation = Cluster.get(system).selfMember().uniqueAddress().longUid();
    HostReply reply = register(sharding, s, capacity, incarnation, timeout);
    if (reply instanceof HostReply.Refused refused) {
      throw new IllegalStateException("register host " + s.hostId() + ": " + refused.rejection().message());
    }
    if (reply instanceof HostReply.Done d && d.state() instanceof HostState.Fenced fenced) {
      // The survivors fenced this host while its node was away: the copies they restarted elsewhere go first,
      // then the host rejoins and registers this incarnation. Only then is the watchdog fed (HostFence).
      system.log().warn("host {} was fenced at {} by {} ({}): removing its stale copies before it rejoins", s.hostId(), fenced.since(),
          fenced.by(), fenced.evidence());
      DirectoryState dir = ((DirectoryReply.Snapshot) await("read the directory", AskPattern.<DirectoryCommand, DirectoryReply>ask(directory,
          DirectoryCommand.Read::new, Duration.ofSeconds(30), system.scheduler()), timeout)).state();
      var removed = io.berth.node.fence.HostReturn.removeStaleCopies(layer, dir, s.hostId(), s.sharedRoot());
      var reports = new io.berth.node.fence.StrayReports(system, s.hostId());
      removed.forEach(copy -> reports.report(copy, "return"));
      rejoin(sharding, s, timeout);
      reply = register(sharding, s, capacity, incarnation, timeout);
      if (reply instanceof HostReply.Refused refused) {
        throw new IllegalStateException("register host " + s.hostId() + " after it rejoined: " + refused.rejection().message());
      }
    }
    // The directory places creates on its own view of the hosts, at most Directory.VIEW_BOUND old: once that has
    // passed since the host entity answered, every create asked through this node's API sees this registration.
    sleep(Directory.VIEW_BOUND);
    // A node whose watchdog fired while its JVM stood still leaves (and, with exit-jvm on, its JVM exits): its
    // supervisor starts a new incarnation, which learns from the log what the survivors did meanwhile.
    fence.arm(new io.berth.node.fence.FenceReports(system, s.hostId()),
        () -> org.apache.pekko.actor.CoordinatedShutdown.get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system))
            .run(io.berth.node.fence.HostFence.FENCED_AFTER_STALL));
    system.systemActorOf(io.berth.node.fence.FenceKeeper.create(fence), "fence-keeper",
        DispatcherSelector.fromConfig("pekko.actor.berth-fence-dispatcher"));
    system.systemActorOf(io.berth.node.fence.HostWatch.create(s.hostId(), s.fencing(), directory), "host-watch",
        org.apache.pekko.actor.typed.Props.empty());

    wakeContainers(system, sharding, directory, s.hostId());
    system.systemActorOf(io.berth.node.host.HostUsageReporter.create(s.hostId(), layer::hostUsage, clock), "host-usage",
        DispatcherSelector.blocking());

    AuditService audit = new AuditService(system);
    startCheckpoints(system, s, audit, clock);
    system.systemActorOf(TemplateAgent.create(s.hostId(), layer, blocking,
        io.berth.node.template.BuildNetwork.fromConfig(system.settings().config())), "templates", org.apache.pekko.actor.typed.Props.empty());
    system.systemActorOf(io.berth.node.migration.MigrationAgent.create(s.hostId(), layer, s.bridge(), s.bridgeAddress(), s.clusterAddress(),
        s.migration(), directory, blocking, source, s.sharedRoot()), "migrations", org.apache.pekko.actor.typed.Props.empty());
    ClusterOperations operations = new ClusterOperations(system, directory, audit, new ClusterTemplates(system), s.sagas(), s.fencing(),
        new io.berth.node.checkpoint.StoreCheckpoints(layer.checkpoints()), io.berth.node.access.ClusterAccess.start(system, clock));
    system.systemActorOf(io.berth.node.drain.DrainDriver.create(operations), "drains", org.apache.pekko.actor.typed.Props.empty());
    // Every node keeps a recent view of the directory, so reads answer while the journal is down (ClusterOperations).
    system.scheduler().scheduleWithFixedDelay(Duration.ofSeconds(5), Duration.ofSeconds(5), operations::readDirectory, system.executionContext());
    if (s.apiSecurity().tls().isEmpty()) {
      org.slf4j.LoggerFactory.getLogger(NodeServices.class).warn("berth.api.tls is not set: the REST API on {}:{} is plain HTTP", s.apiBind(), s.apiPort());
    }
    if (s.apiSecurity().tokensFile().isEmpty()) {
      org.slf4j.LoggerFactory.getLogger(NodeServices.class).warn(
          "berth.api.tokens-file is not set: the REST API on {}:{} asks for no credentials, and its clients name their own principal",
          s.apiBind(), s.apiPort());
    }
    ServerBinding binding = await("bind the REST API on " + s.apiBind() + ":" + s.apiPort(),
        ApiServer.start(system, operations, s.apiBind(), s.apiPort(), s.apiSecurity().tls(), s.apiSecurity().loadTokens()), timeout);
    return new NodeServices(operations, binding, directory);
  }

  /**
   * The audit's signed checkpoints ({@code berth.persistence.audit}): this node's Ed25519 key under its data root (made at
   * its first start, 0600), its public key recorded at once where verify finds it, and the rounds as a cluster singleton
   * (whichever node runs them signs with its own key).
   */
  private static void startCheckpoints(ActorSystem<?> system, NodeSettings s, AuditService audit, Clock clock) {
    io.berth.persistence.audit.AuditSettings settings = io.berth.persistence.audit.AuditSettings.fromConfig(system.settings().config());
    if (settings.checkpointEvery().isZero()) {
      system.log().warn("audit checkpoints are off ({}.checkpoint-every = 0): a rewrite of the journal that recomputes the hashes "
          + "would not be detected", io.berth.persistence.audit.AuditSettings.PATH);
      return;
    }
    var signer = io.berth.persistence.audit.CheckpointSigner.loadOrCreate(s.dataRoot().resolve("audit"), s.hostId().value());
    audit.checkpoints().recordSigner(signer.name(), signer.publicKey()).whenComplete((done, e) -> {
      if (e != null) system.log().warn("audit: cannot record the public key of signer {} yet (the first round records it): {}", signer.name(), e.toString());
    });
    var checkpointer = new io.berth.persistence.audit.Checkpointer(system, audit, signer, clock);
    ClusterSingleton.get(system).init(SingletonActor.of(
        io.berth.node.audit.CheckpointRounds.create(checkpointer, settings.checkpointEvery()), "audit-checkpoints"));
  }

  /**
   * Registers the host with its entity, asking again every few seconds: while this node joins, the host's shard may
   * be handed over from the member that held it meanwhile, and sharding drops the messages it buffered for it then.
   * Registering is idempotent (only a change is an event).
   */
  private static HostReply register(ClusterSharding sharding, NodeSettings s, HostCapacity capacity, long incarnation, Duration timeout) {
    return askHost(sharding, s, "register host " + s.hostId(), timeout,
        r -> new HostCommand.Register(capacity, s.labels(), s.clusterAddress(), incarnation, s.overcommit(), CommandContext.system("node started"), r));
  }

  /**
   * Records that this fenced host came back empty. Asked again until answered, as the register is: the host entity's
   * shard may be moving back to this very node as it asks (seen: a first ask dropped during that hand-off), and an
   * entity that already took the rejoin answers it from its state.
   */
  private static void rejoin(ClusterSharding sharding, NodeSettings s, Duration timeout) {
    HostReply reply = askHost(sharding, s, "rejoin host " + s.hostId(), timeout,
        r -> new HostCommand.MarkRejoined(CommandContext.system("host came back and removed its stale copies"), r));
    if (!(reply instanceof HostReply.Done)) throw new IllegalStateException("rejoin host " + s.hostId() + ": " + reply);
  }

  /** Asks this host's entity, 5 s at a time, until it answers or {@code timeout} has passed. */
  private static HostReply askHost(ClusterSharding sharding, NodeSettings s, String what, Duration timeout,
      java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<HostReply>, HostCommand> command) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Duration each = Duration.ofSeconds(5);
    while (true) {
      CompletionStage<HostReply> asked = sharding.entityRefFor(HostEntity.TYPE_KEY, s.hostId().value()).ask(command::apply, each);
      try {
        return asked.toCompletableFuture().get(each.toMillis() + 1000, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        if (System.nanoTime() > deadline) throw new IllegalStateException(what + ": no answer within " + timeout, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(what + ": interrupted", e);
      }
    }
  }

  /**
   * Starts the entities of this host's containers, so they reconcile with the kernel at once (adopt what
   * still runs, run again what the log says runs, notice what ended) instead of at their first command.
   */
  private static void wakeContainers(ActorSystem<?> system, ClusterSharding sharding, ActorRef<DirectoryCommand> directory, HostId me) {
    AskPattern.<DirectoryCommand, DirectoryReply>ask(directory, DirectoryCommand.Read::new, Duration.ofSeconds(30), system.scheduler())
        .whenComplete((reply, error) -> {
          if (error != null) {
            system.log().warn("host {}: cannot read the directory to wake its containers: {}", me, error.toString());
            return;
          }
          int woken = 0;
          DirectoryState state = ((DirectoryReply.Snapshot) reply).state();
          for (ContainerId id : state.containers()) {
            if (!state.hostOf(id).map(me::equals).orElse(false)) continue;
            sharding.entityRefFor(ContainerEntity.TYPE_KEY, id.value()).tell(new ContainerCommand.Get(system.ignoreRef()));
            woken++;
          }
          system.log().info("host {}: woke the entities of its {} containers", me, woken);
        });
  }

  /** For the shard allocation strategy: each container's host, from the directory. */
  private static CompletionStage<Map<String, HostId>> containerHosts(ActorSystem<?> system, ActorRef<DirectoryCommand> directory,
      Set<String> shards) {
    if (shards.size() == 1) {
      // A shard's allocation (every new container's first message): ask where that one name is, not for the whole
      // directory (its every allocation, sent and serialized for one name).
      String shard = shards.iterator().next();
      if (!io.berth.protocol.ids.DnsLabel.isValid(shard)) return java.util.concurrent.CompletableFuture.completedFuture(Map.of());
      return AskPattern.<DirectoryCommand, DirectoryReply>ask(directory, r -> new DirectoryCommand.Locate(ContainerId.of(shard), r),
              Duration.ofSeconds(10), system.scheduler())
          .thenApply(reply -> ((DirectoryReply.Located) reply).host().map(host -> Map.of(shard, host)).orElse(Map.of()));
    }
    return AskPattern.<DirectoryCommand, DirectoryReply>ask(directory, DirectoryCommand.Read::new, Duration.ofSeconds(10), system.scheduler())
        .thenApply(reply -> {
          // Reservations count: a container being created belongs on its placed host from step 1 on.
          Map<String, HostId> wanted = new HashMap<>();
          DirectoryState state = ((DirectoryReply.Snapshot) reply).state();
          for (String shard : shards) {
            if (!io.berth.protocol.ids.DnsLabel.isValid(shard)) continue;
            state.hostOf(ContainerId.of(shard)).ifPresent(host -> wanted.put(shard, host));
          }
          return wanted;
        });
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the directory's view caught up with this host's registration", e);
    }
  }

  private static void awaitUp(ActorSystem<?> system, Duration timeout) {
    Cluster cluster = Cluster.get(system);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("this node did not become an Up member of the cluster within " + timeout
            + " (status " + cluster.selfMember().status() + "; are the seed nodes reachable?)");
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while joining the cluster", e);
      }
    }
  }

  private static <T> T await(String step, CompletionStage<T> stage, Duration timeout) {
    try {
      return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(step + ": no answer within " + timeout, e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(step + ": " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(step + ": interrupted", e);
    }
  }

  public ClusterOperations operations() {
    return operations;
  }

  public ServerBinding binding() {
    return binding;
  }

  public int apiPort() {
    return binding.localAddress().getPort();
  }

  public ActorRef<DirectoryCommand> directory() {
    return directory;
  }
}
