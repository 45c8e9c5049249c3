package io.berth.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.berth.isolation.HostResources;
import io.berth.isolation.IsolationConfig;
import io.berth.isolation.IsolationLayer;
import io.berth.node.agent.IsolationRuntime;
import io.berth.node.boot.NodeSettings;
import io.berth.node.boot.NodeServices;
import io.berth.persistence.BerthPersistence;
import io.berth.persistence.embedded.EmbeddedCassandraSettings;
import java.io.File;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Berth node: one per host. Reads its settings, finds its Cassandra (configured, or the embedded one),
 * joins the cluster, starts the host's isolation layer, the sharded entities, the directory singleton and
 * the REST API, and registers its host.
 *
 * <p>{@code java io.berth.node.BerthNode [--config FILE]}; without a file, the reference defaults.
 */
public final class BerthNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BerthNode.class);
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  private final ActorSystem<Void> system;
  private final NodeServices services;
  private final NodeSettings settings;
  /** Closed with the node: its exit watcher and LXCFS supervisor are threads of this JVM (the containers and LXCFS are not). */
  private final IsolationLayer layer;

  private BerthNode(ActorSystem<Void> system, NodeServices services, NodeSettings settings, IsolationLayer layer) {
    this.layer = layer;
    this.system = system;
    this.services = services;
    this.settings = settings;
  }

  public static void main(String[] args) {
    Config file = ConfigFactory.empty();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        File f = new File(args[++i]);
        if (!f.isFile()) fail("--config " + f + ": no such file");
        file = ConfigFactory.parseFile(f);
      } else {
        fail("usage: BerthNode [--config FILE] (got " + args[i] + ")");
      }
    }
    try {
      // A node that is downed (split brain resolver) must leave for good: its JVM exits.
      Config exitOnDown = ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = on");
      BerthNode node = start(exitOnDown.withFallback(file), new EmbeddedCassandraSettings.Owner.Detached());
      Runtime.getRuntime().addShutdownHook(new Thread(node::closeAtJvmExit, "berth-node-shutdown"));
    } catch (RuntimeException e) {
      log.error("berth node did not start", e);
      fail("berth node did not start: " + e.getMessage());
    }
  }

  /**
   * Starts a node.
   *
   * @param overrides the node's own settings in front of the defaults
   * @param owner     who owns an embedded Cassandra this node has to start (detached for a server, the
   *                  parent pipe for tests)
   */
  public static BerthNode start(Config overrides, EmbeddedCassandraSettings.Owner owner) {
    Config base = overrides.withFallback(ConfigFactory.parseResources("berth-node.conf")).withFallback(ConfigFactory.load());
    NodeSettings s = NodeSettings.fromConfig(base);
    try {
      Files.createDirectories(s.dataRoot());
    } catch (java.io.IOException e) {
      throw new IllegalStateException("create data root " + s.dataRoot() + ": " + e.getMessage(), e);
    }
    BerthPersistence.Resolved persistence = BerthPersistence.resolve(base, s.dataRoot(), owner);
    Config full = clusterConfig(s).withFallback(persistence.pekkoConfig()).withFallback(base);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "berth", full);
    try {
      HostResources detected = HostResources.detect();
      IsolationConfig iso = IsolationConfig.defaults(s.dataRoot().resolve("isolation"), s.bridge(), s.cgroupRoot());
      if (s.sharedRoot().isPresent()) iso = iso.withSharedImagesRoot(s.sharedRoot().get());
      iso = iso.withDns(s.dns());
      IsolationLayer layer = new IsolationLayer(iso);
      // Also protects this host from the bridge (no new connection to its addresses) and keeps containers'
      // traffic off the management networks.
      layer.ensureBridge(s.bridge(), s.bridgeAddress() + "/" + s.bridgePrefix(), s.managementNetworks());
      io.berth.node.fence.HostFence fence = new io.berth.node.fence.HostFence(layer, s.fencing(), s.sharedRoot());
      IsolationRuntime runtime = new IsolationRuntime(layer, s.bridge(), s.bridgeAddress(), fence::beforeStart, fence::mayNotAct)
          .withCheckpoints(s.hostId(), system.dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking()),
              s.checkpoints().tick(), s.checkpoints().parallel());
      system.getWhenTerminated().thenRun(runtime::stopCheckpoints);
      // Containers that kept running while the node was down: watched again before their entities
      // recover, so the entities adopt them (and hear of their exits).
      layer.adopt().forEach(c -> log.info("container {} still runs as {}: adopted", c.id(), c.initPid()));
      NodeServices services = NodeServices.start(system, s, persistence, layer, runtime, detected, fence, START_TIMEOUT);
      BerthNode node = new BerthNode(system, services, s, layer);
      log.info("berth node {} ready: api http://{}:{} cluster {}:{} cassandra {}", s.hostId(), s.apiBind(),
          services.apiPort(), s.clusterAddress(), s.clusterPort(), persistence.settings().contactPointsOrEmbedded());
      System.out.println("berth node " + s.hostId() + " ready: api http://" + s.apiBind() + ":" + services.apiPort());
      return node;
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  /** Where this node's Pekko cluster listens, its seeds and its host role. */
  static Config clusterConfig(NodeSettings s) {
    List<String> seeds = s.seeds().isEmpty()
        ? List.of("pekko://berth@" + s.clusterAddress() + ":" + s.clusterPort())
        : s.seeds().stream().map(a -> "pekko://berth@" + a).toList();
    Config transport = ConfigFactory.empty();
    if (s.clusterTls().isPresent()) {
      s.clusterTls().get().check();
      transport = s.clusterTls().get().pekkoConfig();
    } else {
      log.warn("berth.cluster.tls is not set: the cluster port {}:{} is plain TCP, and any JVM that reaches it may join the cluster",
          s.clusterAddress(), s.clusterPort());
    }
    return transport
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(s.clusterAddress()))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(s.clusterPort()))
        .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds))
        .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.of("host-" + s.hostId().value())));
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public NodeServices services() {
    return services;
  }

  public NodeSettings settings() {
    return settings;
  }

  public int apiPort() {
    return services.apiPort();
  }

  /** This host's isolation layer (what its kernel holds). */
  public IsolationLayer layer() {
    return layer;
  }

  /**
   * The JVM exits. When Pekko's coordinated shutdown for another reason than the JVM's exit is what exits it (this
   * node was downed, and {@code exit-jvm} is on), it calls System.exit from the actor system's termination and
   * waits for this hook: waiting here for that termination would wait for the thread that waits for us (it held a
   * downed node's exit 30 s). The actor system has stopped by then; only the layer's threads are left to close.
   */
  void closeAtJvmExit() {
    boolean pekkoExits = CoordinatedShutdown.get(Adapter.toClassic(system)).getShutdownReason()
        .map(r -> !(r instanceof CoordinatedShutdown.JvmExitReason$)).orElse(false);
    if (pekkoExits) layer.close();
    else close();
  }

  /** Leaves the cluster and stops the node. Containers keep running: a restarted node adopts them. */
  @Override
  public void close() {
    Optional.ofNullable(services.binding()).ifPresent(ServerBinding::unbind);
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("node {} did not stop within 30 s: {}", settings.hostId(), e.toString());
    }
    layer.close();
  }

  private static void fail(String message) {
    System.err.println("berth: " + message);
    System.exit(2);
  }
}
