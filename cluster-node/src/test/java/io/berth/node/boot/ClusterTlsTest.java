package io.berth.node.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.berth.protocol.InvalidFieldException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster port with {@code berth.cluster.tls}: real Pekko cluster members on loopback, with certificates made by
 * {@code bin/berth-cluster-ca} (openssl). Hosts with the cluster CA's certificates form a cluster; a JVM with a
 * certificate of another CA, or with none (plain TCP), cannot join it.
 */
class ClusterTlsTest {
  @TempDir
  static Path dir;
  private final List<ActorSystem<Void>> systems = new ArrayList<>();

  @BeforeAll
  static void certificates() throws Exception {
    ca("init", dir.resolve("ca").toString(), "tlstest");
    ca("issue", dir.resolve("ca").toString(), "node-1", "127.0.0.1");
    ca("issue", dir.resolve("ca").toString(), "node-2", "127.0.0.1");
    // Another CA, with the same cluster name: its certificate names the right cluster but was not signed by its CA.
    ca("init", dir.resolve("other").toString(), "tlstest");
    ca("issue", dir.resolve("other").toString(), "node-3", "127.0.0.1");
  }

  private static void ca(String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("../bin/berth-cluster-ca"));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, argv + ": " + out);
  }

  @AfterEach
  void stop() {
    for (ActorSystem<Void> s : systems) s.terminate();
    for (ActorSystem<Void> s : systems) {
      try {
        s.getWhenTerminated().toCompletableFuture().get(20, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        // the next test uses other ports
      }
    }
  }

  private static ClusterTls tls(String caDir, String host) {
    Path d = dir.resolve(caDir);
    return new ClusterTls(d.resolve(host + ".pem"), d.resolve(host + ".key"), d.resolve("ca.pem"));
  }

  private ActorSystem<Void> member(ClusterTls tls, int port, int seedPort) {
    Config transport = tls == null ? ConfigFactory.parseString("pekko.remote.artery.transport = tcp") : tls.pekkoConfig();
    Config c = transport.withFallback(ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.loglevel = WARNING
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = %d
        pekko.cluster.seed-nodes = ["pekko://berth@127.0.0.1:%d"]
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        pekko.coordinated-shutdown.exit-jvm = off
        """.formatted(port, seedPort))).withFallback(ConfigFactory.load());
    ActorSystem<Void> s = ActorSystem.create(Behaviors.empty(), "berth", c);
    systems.add(s);
    return s;
  }

  private static long up(ActorSystem<Void> s) {
    long n = 0;
    for (var m : Cluster.get(s).state().getMembers()) if (m.status() == MemberStatus.up()) n++;
    return n;
  }

  private static void await(String what, Duration bound, BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + bound.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError(what + " did not happen within " + bound.toSeconds() + " s");
      Thread.sleep(100);
    }
  }

  @Test
  void hostsWithTheClustersCertificatesJoinAndOthersCannot() throws Exception {
    int p1 = freePort();
    ActorSystem<Void> one = member(tls("ca", "node-1"), p1, p1);
    await("node-1 forms the cluster over TLS", Duration.ofSeconds(30), () -> up(one) == 1);
    ActorSystem<Void> two = member(tls("ca", "node-2"), freePort(), p1);
    await("node-2 (the cluster CA's certificate) joins node-1", Duration.ofSeconds(30), () -> up(one) == 2 && up(two) == 2);

    ActorSystem<Void> foreign = member(tls("other", "node-3"), freePort(), p1);
    ActorSystem<Void> plain = member(null, freePort(), p1);
    // Both try to join for 10 s (a seed is retried every few seconds): neither becomes a member.
    Thread.sleep(10_000);
    assertEquals(2, Cluster.get(one).state().members().size(), "node-1 knows only the two hosts: " + Cluster.get(one).state().members());
    assertTrue(Cluster.get(foreign).selfMember().status() != MemberStatus.up(), "another CA's certificate did not get in: "
        + Cluster.get(foreign).selfMember());
    assertTrue(Cluster.get(plain).selfMember().status() != MemberStatus.up(), "plain TCP did not get in: " + Cluster.get(plain).selfMember());
  }

  @Test
  void theFilesAreCheckedNamingTheField() throws Exception {
    Config partial = ConfigFactory.parseString("cluster.tls { cert-file = \"/x.pem\", key-file = \"\", ca-file = \"/ca.pem\" }");
    assertEquals("berth.cluster.tls.key-file", assertThrows(InvalidFieldException.class, () -> ClusterTls.fromConfig(partial)).field());
    assertTrue(ClusterTls.fromConfig(ConfigFactory.parseString("cluster.tls { cert-file = \"\", key-file = \"\", ca-file = \"\" }")).isEmpty(),
        "none given: plain TCP");

    ClusterTls good = tls("ca", "node-1");
    good.check();
    Path open = dir.resolve("open.key");
    Files.copy(good.keyFile(), open, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
    InvalidFieldException readable = assertThrows(InvalidFieldException.class, () -> new ClusterTls(good.certFile(), open, good.caFile()).check());
    assertEquals("berth.cluster.tls.key-file", readable.field());
    assertTrue(readable.getMessage().contains("0600"), readable.getMessage());
    InvalidFieldException swapped = assertThrows(InvalidFieldException.class, () -> new ClusterTls(good.keyFile(), good.keyFile(), good.caFile()).check());
    assertEquals("berth.cluster.tls.cert-file", swapped.field(), "a key given as the certificate");
    InvalidFieldException missing = assertThrows(InvalidFieldException.class,
        () -> new ClusterTls(good.certFile(), good.keyFile(), dir.resolve("no-such-ca.pem")).check());
    assertEquals("berth.cluster.tls.ca-file", missing.field());
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
