package io.berth.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.berth.isolation.IsolationConfig;
import io.berth.isolation.IsolationLayer;
import io.berth.isolation.network.Nftables;
import io.berth.persistence.embedded.EmbeddedCassandraSettings;
import io.berth.persistence.testing.SharedCassandra;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A real Berth node for a test, in this JVM: its own host id, data root, cgroup root and bridge (from
 * 198.19.0.0/16, never routed out), on the build's shared embedded Cassandra. {@link #close} stops it and
 * removes the bridge, the cgroup roots and the data root, also after a failed test.
 */
final class TestNode implements AutoCloseable {
  private final BerthNode node;
  private final String run;
  private final Path dataRoot;
  private final String bridge;
  private final String cgroupRoot;
  private final int clusterPort;

  private TestNode(BerthNode node, String run, Path dataRoot, String bridge, String cgroupRoot, int clusterPort) {
    this.node = node;
    this.run = run;
    this.dataRoot = dataRoot;
    this.bridge = bridge;
    this.cgroupRoot = cgroupRoot;
    this.clusterPort = clusterPort;
  }

  /** A run id shared by the nodes of one test cluster. */
  static String newRun() {
    return Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
  }

  static TestNode start(String prefix, int index, List<String> seeds) throws IOException {
    return start(prefix, newRun(), index, seeds, freePort());
  }

  static TestNode start(String prefix, String run, int index, List<String> seeds, int clusterPort) throws IOException {
    return start(prefix, run, index, seeds, clusterPort, ConfigFactory.empty());
  }

  /** As above, with {@code extra} settings beside the test node's own (e.g. shorter saga timeouts). */
  static TestNode start(String prefix, String run, int index, List<String> seeds, int clusterPort, Config extra) throws IOException {
    String host = prefix + "-" + run + "-" + index;
    Path dataRoot = Files.createTempDirectory("berth-it-" + host + "-").toAbsolutePath();
    // A temporary directory is 0700; a container's root is an unmapped host id (its own user namespace), which must
    // traverse the data root to reach its rootfs, as it does a real node's /var/lib/berth (0755).
    Files.setPosixFilePermissions(dataRoot, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    String bridge = "bt" + run + "x" + index;
    String cgroupRoot = "it-" + run + "-" + index;
    // 198.19.201-250.0/24: apart from the local clusters' segments (198.18.0.0/16, and the end-to-end test's
    // containers low in 198.19.0.0/16), so test bridges never shadow their routes.
    int subnet = 201 + Integer.parseInt(run, 16) % 50;
    Config config = extra
        .withValue("berth.host-id", ConfigValueFactory.fromAnyRef(host))
        .withValue("berth.data-root", ConfigValueFactory.fromAnyRef(dataRoot.toString()))
        .withValue("berth.cluster.address", ConfigValueFactory.fromAnyRef("127.0.0.1"))
        .withValue("berth.cluster.port", ConfigValueFactory.fromAnyRef(clusterPort))
        .withValue("berth.cluster.seeds", ConfigValueFactory.fromIterable(seeds))
        .withValue("berth.api.bind", ConfigValueFactory.fromAnyRef("127.0.0.1"))
        .withValue("berth.api.port", ConfigValueFactory.fromAnyRef(0))
        .withValue("berth.network.bridge", ConfigValueFactory.fromAnyRef(bridge))
        .withValue("berth.network.bridge-address", ConfigValueFactory.fromAnyRef("198.19." + subnet + "." + index + "/24"))
        .withValue("berth.network.containers", ConfigValueFactory.fromAnyRef("198.19." + subnet + ".10-198.19." + subnet + ".250"))
        .withValue("berth.isolation.cgroup-root", ConfigValueFactory.fromAnyRef(cgroupRoot))
        .withValue("berth.persistence.contact-points", ConfigValueFactory.fromIterable(List.of(SharedCassandra.node().contactPoint())))
        .withValue("pekko.cluster.sharding.rebalance-interval", ConfigValueFactory.fromAnyRef("1s"))
        .withValue("pekko.cluster.jmx.multi-mbeans-in-same-jvm", ConfigValueFactory.fromAnyRef("on"));
    try {
      BerthNode node = BerthNode.start(config, new EmbeddedCassandraSettings.Owner.ParentPipe());
      return new TestNode(node, run, dataRoot, bridge, cgroupRoot, clusterPort);
    } catch (RuntimeException | Error e) {
      // A node that did not start (a failed step, or a class missing from a half-built classpath) still
      // made its bridge, cgroups and data root: remove them.
      cleanUp(dataRoot, bridge, cgroupRoot);
      throw e;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  BerthNode node() {
    return node;
  }

  Path dataRoot() {
    return dataRoot;
  }

  String hostId() {
    return node.settings().hostId().value();
  }

  int clusterPort() {
    return clusterPort;
  }

  /** A container name unique to this run. */
  String unique(String prefix) {
    return prefix + "-" + run + "-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100, 0xfff));
  }

  /** A cgroup v1 file of one of this node's containers. */
  Path cgroupFile(String controller, String container, String file) {
    return Path.of("/sys/fs/cgroup", controller, cgroupRoot, container, file);
  }

  /** Whether any mount in this process's mount namespace mentions {@code container} under this node's data root. */
  boolean mountsMention(String container) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(l -> l.contains(dataRoot.toString()) && l.contains(container));
  }

  @Override
  public void close() {
    try {
      node.close();
    } finally {
      cleanUp(dataRoot, bridge, cgroupRoot);
    }
  }

  /** Removes what a test node leaves on the host: processes in its cgroups, the cgroups, its bridge, its nft tables, its data. */
  private static void cleanUp(Path dataRoot, String bridge, String cgroupRoot) {
    run("ip", "link", "del", bridge);
    // The isolation layer's tables (its data root is data-root/isolation, see BerthNode): they outlive containers.
    try {
      new Nftables(dataRoot.resolve("isolation")).removeTables();
    } catch (RuntimeException e) {
      System.err.println("test node clean-up: nft tables: " + e.getMessage());
    }
    try (var hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path h : hierarchies.toList()) {
        Path root = h.resolve(cgroupRoot);
        if (!Files.isDirectory(root)) continue;
        try (var children = Files.list(root)) {
          for (Path c : children.filter(Files::isDirectory).toList()) {
            Path procs = c.resolve("cgroup.procs");
            if (Files.exists(procs)) {
              for (String pid : Files.readAllLines(procs)) run("kill", "-9", pid.trim());
            }
            Files.deleteIfExists(c);
          }
        } catch (IOException ignored) {
          // best effort: report below if the root remains
        }
        try {
          Files.deleteIfExists(root);
        } catch (IOException e) {
          System.err.println("test node clean-up: could not remove cgroup " + root + ": " + e.getMessage());
        }
      }
    } catch (IOException e) {
      System.err.println("test node clean-up: cannot list cgroups: " + e.getMessage());
    }
    // The data root's LXCFS outlives the node (containers keep its binds across an owner restart): stop it too.
    if (Files.isDirectory(dataRoot.resolve("isolation"))) {
      try (IsolationLayer layer = new IsolationLayer(IsolationConfig.defaults(dataRoot.resolve("isolation"), bridge, cgroupRoot))) {
        layer.lxcfs().stop(java.time.Duration.ofSeconds(10)); // its containers were killed above
      } catch (RuntimeException e) {
        System.err.println("test node clean-up: LXCFS: " + e.getMessage());
      }
    }
    // Unmount whatever is still mounted under the data root (deepest first), then delete it.
    try {
      List<String> mounts = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
          .map(l -> l.split(" ")[4]).filter(m -> m.startsWith(dataRoot.toString()))
          .sorted((a, b) -> b.length() - a.length()).toList();
      for (String m : mounts) run("umount", "-l", m);
      SharedCassandra.deleteTree(dataRoot);
    } catch (IOException e) {
      System.err.println("test node clean-up: could not remove " + dataRoot + ": " + e.getMessage());
    }
  }

  private static void run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
    } catch (IOException e) {
      System.err.println("test node clean-up: " + String.join(" ", command) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
