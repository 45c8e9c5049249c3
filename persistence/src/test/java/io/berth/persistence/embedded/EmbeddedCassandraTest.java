package io.berth.persistence.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.berth.persistence.testing.SharedCassandra;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EmbeddedCassandraTest {

  @Test
  void theSharedNodeAnswersCqlAndASecondStartReusesIt() throws Exception {
    EmbeddedCassandra shared = SharedCassandra.node();
    assertTrue(shared.answers(), "CQL answers at " + shared.contactPoint());
    assertTrue(Files.readString(shared.dataRoot().resolve("conf/cassandra.yaml"), StandardCharsets.UTF_8)
        .contains("native_transport_port: " + shared.nativePort()), "the generated cassandra.yaml names the native port");

    EmbeddedCassandra again = EmbeddedCassandra.start(shared.settings());
    assertFalse(again.owned(), "a second start on the same data root attaches instead of starting another node");
    assertEquals(shared.pid(), again.pid());
    assertEquals(shared.contactPoint(), again.contactPoint());
    again.close(); // an attached handle leaves the node running
    assertTrue(shared.answers(), "closing an attached handle does not stop the node");
    assertEquals(Optional.of(shared.contactPoint()), EmbeddedCassandra.contactPointOf(shared.dataRoot()));
  }

  @Test
  void badSettingsNameTheFieldAndCreateNothing() throws Exception {
    Path root = SharedCassandra.scratch("bad-settings");
    var owner = new EmbeddedCassandraSettings.Owner.ParentPipe();
    Duration t = Duration.ofSeconds(10);
    record Case(Runnable make, String field) {}
    for (Case c : List.of(
        new Case(() -> new EmbeddedCassandraSettings(root, "10.0.0.1", 0, 0, "512m", owner, t), "embedded.address"),
        new Case(() -> new EmbeddedCassandraSettings(root, "127.0.0.1", 70000, 0, "512m", owner, t), "embedded.native-port"),
        new Case(() -> new EmbeddedCassandraSettings(root, "127.0.0.1", 19042, 19042, "512m", owner, t), "embedded.storage-port"),
        new Case(() -> new EmbeddedCassandraSettings(root, "127.0.0.1", 0, 0, "lots", owner, t), "embedded.heap"),
        new Case(() -> new EmbeddedCassandraSettings(root, "127.0.0.1", 0, 0, "512m", owner, t, "never"), "embedded.commitlog-sync"),
        new Case(() -> new EmbeddedCassandraSettings(Path.of("relative"), "127.0.0.1", 0, 0, "512m", owner, t), "embedded.data-root"))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c.make()::run);
      assertTrue(e.getMessage().startsWith(c.field() + ":"), "names " + c.field() + ": " + e.getMessage());
    }
    assertFalse(Files.exists(root), "nothing was created for rejected settings");
  }

  @Test
  void aPortInUseIsAClearErrorAndLeavesNoNode() throws Exception {
    Path root = SharedCassandra.scratch("port-in-use");
    EmbeddedCassandra shared = SharedCassandra.node();
    try {
      EmbeddedCassandraException e = assertThrows(EmbeddedCassandraException.class, () -> EmbeddedCassandra.start(
          new EmbeddedCassandraSettings(root, "127.0.0.1", shared.nativePort(), 0, "512m", new EmbeddedCassandraSettings.Owner.ParentPipe(), Duration.ofSeconds(30))));
      assertTrue(e.getMessage().contains("embedded.native-port 127.0.0.1:" + shared.nativePort() + " is already in use"), e.getMessage());
      assertFalse(Files.exists(root.resolve("node.properties")), "no node was recorded");
    } finally {
      SharedCassandra.deleteTree(root);
    }
  }

  /** The node never outlives its owner: SIGKILL the JVM that started it, and the node exits by itself. */
  @Test
  void theNodeDiesWithItsOwnerEvenOnSigkill() throws Exception {
    Path root = SharedCassandra.scratch("owned-node");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process owner = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), OwnedNodeMain.class.getName(), root.toString())
        .redirectErrorStream(true).start();
    Optional<ProcessHandle> cassandra = Optional.empty();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      String line;
      StringBuilder seen = new StringBuilder();
      while ((line = out.readLine()) != null && System.nanoTime() < deadline) {
        seen.append(line).append('\n');
        if (line.startsWith("CASSANDRA-PID ")) {
          cassandra = ProcessHandle.of(Long.parseLong(line.substring("CASSANDRA-PID ".length()).trim()));
          break;
        }
      }
      if (cassandra.isEmpty()) fail("the owner JVM did not report a started node within 120 s; its output:\n" + seen);
      assertTrue(cassandra.get().isAlive(), "the node runs while its owner does");

      owner.destroyForcibly(); // SIGKILL: no shutdown hook runs in the owner
      assertTrue(owner.waitFor(10, TimeUnit.SECONDS), "the owner JVM died");
      try {
        cassandra.get().onExit().get(60, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        fail("the embedded node pid " + cassandra.get().pid() + " still runs 60 s after its owner was killed");
      }
      assertTrue(EmbeddedCassandra.contactPointOf(root).isEmpty(), "no running node is recorded for " + root);
    } finally {
      owner.destroyForcibly();
      cassandra.ifPresent(ProcessHandle::destroyForcibly);
      cassandra.ifPresent(h -> h.onExit().join());
      SharedCassandra.deleteTree(root);
    }
  }
}
