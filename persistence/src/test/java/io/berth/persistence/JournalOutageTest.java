package io.berth.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.berth.persistence.audit.AuditEntry;
import io.berth.persistence.audit.AuditService;
import io.berth.persistence.audit.ChainReport;
import io.berth.persistence.embedded.EmbeddedCassandra;
import io.berth.persistence.embedded.EmbeddedCassandraSettings;
import io.berth.persistence.testing.SharedCassandra;
import io.berth.protocol.ids.HostId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * Cassandra dies (SIGKILL) while commands arrive, then comes back: commands fail fast with a clear error meanwhile,
 * nothing acknowledged is lost, and the same ActorSystem and entity carry on once it answers again. Runs on a node of
 * its own so the shared one stays up for the other tests.
 */
class JournalOutageTest {

  @Test
  void commandsFailFastWhileCassandraIsDownAndNothingAcknowledgedIsLost() throws Exception {
    Path root = SharedCassandra.scratch("outage-node");
    EmbeddedCassandra node = EmbeddedCassandra.start(new EmbeddedCassandraSettings(root, "127.0.0.1", 0, 0, "512m",
        new EmbeddedCassandraSettings.Owner.ParentPipe(), Duration.ofSeconds(120)));
    ActorTestKit kit = null;
    boolean passed = false;
    try {
      Config overrides = ConfigFactory.parseString("""
          berth.persistence {
            health { interval = 300ms, timeout = 500ms, failures-to-close = 2 }
            circuit-breaker { max-failures = 3, call-timeout = 3s, reset-timeout = 2s }
            timeline.eventual-consistency-delay = 1s
          }""");
      Config base = overrides.withFallback(ConfigFactory.load());
      PersistenceSettings settings = PersistenceSettings.fromConfig(base).withContactPoints(List.of(node.contactPoint()));
      Config config = PekkoPersistenceConfig.of(settings).withFallback(base);
      kit = ActorTestKit.create("outage", config);
      CassandraSchema.ensure(kit.system(), settings).toCompletableFuture().get(60, TimeUnit.SECONDS);
      final var system = kit.system();
      JournalHealth health = JournalHealth.get(system);
      HostId id = HostId.of("outage-" + TestSystems.suffix());
      ActorRef<TestHostEntity.Command> host = kit.spawn(TestHostEntity.create(id));

      Set<Long> acknowledged = new TreeSet<>();
      int n = 1;
      for (; n <= 10; n++) acknowledged.add(Hosts.done(Hosts.nth(kit.system(), host, n, Hosts.ctx("ops", "before", "b-" + n))).sequenceNr());

      ProcessHandle cassandra = ProcessHandle.of(node.pid()).orElseThrow();
      cassandra.destroyForcibly();
      cassandra.onExit().get(30, TimeUnit.SECONDS);

      // Commands keep arriving. Within a few seconds each one fails at once, with an error that says why.
      int fastRejectionsInARow = 0;
      String lastError = "";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (fastRejectionsInARow < 5) {
        if (System.nanoTime() > deadline) fail("commands did not fail fast within 20 s of Cassandra's death; last error: " + lastError);
        final int k = n++;
        long t0 = System.nanoTime();
        try {
          TestHostEntity.Reply reply = health.guard(() -> Hosts.nth(system, host, k, Hosts.ctx("ops", "during", "d-" + k)))
              .toCompletableFuture().get(5, TimeUnit.SECONDS);
          if (reply instanceof TestHostEntity.Done d) acknowledged.add(d.sequenceNr());
          if (reply instanceof TestHostEntity.Rejected r) lastError = r.reason();
          fastRejectionsInARow = reply instanceof TestHostEntity.Rejected && millisSince(t0) < 500 ? fastRejectionsInARow + 1 : 0;
        } catch (ExecutionException e) {
          lastError = e.getCause().getMessage();
          fastRejectionsInARow = e.getCause() instanceof PersistenceUnavailableException && millisSince(t0) < 500 ? fastRejectionsInARow + 1 : 0;
        } catch (TimeoutException e) {
          fastRejectionsInARow = 0; // sent before the gate closed: not acknowledged, outcome unknown to the caller
        }
      }
      assertTrue(lastError.startsWith("persistence unavailable: Cassandra at " + node.contactPoint() + " has not answered since"), lastError);
      assertTrue(lastError.contains("nothing was persisted"), lastError);

      // Cassandra comes back on the same data root and ports; the same system and entity recover by themselves.
      node = EmbeddedCassandra.start(node.settings());
      long back = System.nanoTime();
      TestHostEntity.Done after = null;
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (after == null) {
        if (System.nanoTime() > deadline) fail("no command was acknowledged within 60 s of Cassandra answering again; last error: " + lastError);
        final int k = n++;
        try {
          TestHostEntity.Reply reply = health.guard(() -> Hosts.nth(system, host, k, Hosts.ctx("ops", "after", "a-" + k)))
              .toCompletableFuture().get(5, TimeUnit.SECONDS);
          if (reply instanceof TestHostEntity.Done d) after = d;
          else lastError = ((TestHostEntity.Rejected) reply).reason();
        } catch (ExecutionException | TimeoutException e) {
          lastError = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e);
          Thread.sleep(200);
        }
      }
      acknowledged.add(after.sequenceNr());
      System.out.printf("recovered %d ms after Cassandra answered again%n", millisSince(back));

      AuditService audit = new AuditService(kit.system());
      List<AuditEntry> history = audit.history(AuditService.persistenceId(id), 1).runWith(Sink.seq(), kit.system())
          .toCompletableFuture().get(60, TimeUnit.SECONDS);
      Set<Long> stored = new TreeSet<>();
      history.forEach(e -> stored.add(e.sequenceNr()));
      assertTrue(stored.containsAll(acknowledged), "every acknowledged event is in Cassandra: acknowledged " + acknowledged
          + " (the last, after the outage: " + after.sequenceNr() + "), stored " + stored);
      List<Long> expectedOrder = new ArrayList<>();
      for (long s = 1; s <= history.size(); s++) expectedOrder.add(s);
      assertEquals(expectedOrder, new ArrayList<>(stored), "the log has no gaps");
      ChainReport report = audit.verify(AuditService.persistenceId(id)).toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertInstanceOf(ChainReport.Intact.class, report, "the hash chain survived the outage: " + report);
      passed = true;
    } finally {
      if (kit != null) kit.shutdownTestKit();
      node.close();
      EmbeddedCassandra.stop(root);
      if (passed) SharedCassandra.deleteTree(root); // a failed run keeps the node's log for diagnosis (under target/)
    }
  }

  private static long millisSince(long t0) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }
}
