package io.berth.persistence.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.berth.persistence.AuditTestSupport;
import io.berth.protocol.event.EventHashes;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.serialization.BerthEventCodec;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AuditServiceTest {
  private static AuditTestSupport support;
  private static AuditService audit;

  @BeforeAll
  static void start() {
    support = AuditTestSupport.start();
    audit = new AuditService(support.system());
  }

  @AfterAll
  static void stop() {
    if (support != null) support.close();
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void historyIsEveryEventInOrderWithItsMetaPagedAndExportedAsJsonLines() throws Exception {
    HostId id = support.newHostId("hist");
    String pid = AuditService.persistenceId(id);
    var host = support.spawn(id);
    for (int n = 1; n <= 25; n++) support.write(host, n, "alice" + n, "reason " + n, "corr-" + n);

    HistoryPage first = await(audit.history(pid, 1, 10));
    HistoryPage second = await(audit.history(pid, first.next().getAsLong(), 10));
    HistoryPage third = await(audit.history(pid, second.next().getAsLong(), 10));
    assertEquals(11, first.next().getAsLong());
    assertEquals(21, second.next().getAsLong());
    assertTrue(third.next().isEmpty(), "the last page says there is no next page");
    List<AuditEntry> all = new ArrayList<>(first.entries());
    all.addAll(second.entries());
    all.addAll(third.entries());
    assertEquals(25, all.size());
    for (int n = 1; n <= 25; n++) {
      AuditEntry e = all.get(n - 1);
      assertEquals(n, e.sequenceNr());
      assertEquals("alice" + n, e.principal());
      assertEquals("reason " + n, e.reason());
      assertEquals("corr-" + n, e.correlationId());
      assertEquals(n == 1 ? "HostRegistered" : n % 2 == 0 ? "HostCordoned" : "HostUncordoned", e.type());
      if (n > 1) assertTrue(!e.at().isBefore(all.get(n - 2).at()), "time does not go backwards at " + n);
    }
    assertEquals(25L, support.rowCount(pid), "25 rows in Cassandra's messages table");

    StringWriter out = new StringWriter();
    assertEquals(25L, await(audit.exportHistory(pid, out)));
    String[] lines = out.toString().split("\n");
    assertEquals(25, lines.length);
    assertTrue(lines[0].startsWith("{\"persistenceId\":\"" + pid + "\",\"sequenceNr\":1,"), lines[0]);
    assertTrue(lines[0].contains("\"principal\":\"alice1\"") && lines[0].contains("\"type\":\"HostRegistered\"")
        && lines[0].contains("\"labels\":{\"zone\":\"a\"}") && lines[0].contains("\"prevHash\":\"\""), lines[0]);
    assertTrue(lines[24].contains("\"sequenceNr\":25") && lines[24].contains("\"correlationId\":\"corr-25\""), lines[24]);

    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> audit.history(id.value(), 1, 10));
    assertTrue(bad.getMessage().startsWith("persistenceId: must be container|<id>, host|<id>"), bad.getMessage());
    bad = assertThrows(IllegalArgumentException.class, () -> audit.history(pid, 1, 0));
    assertTrue(bad.getMessage().startsWith("limit: must be 1-10000"), bad.getMessage());
    bad = assertThrows(IllegalArgumentException.class, () -> audit.history(pid, 0, 10));
    assertTrue(bad.getMessage().startsWith("from: must be at least 1"), bad.getMessage());
  }

  @Test
  void stateAtTIsTheFoldOfTheEventsUpToT() throws Exception {
    HostId id = support.newHostId("at");
    var host = support.spawn(id);
    Instant beforeAll = Instant.now();
    Thread.sleep(5);
    List<Instant> after = new ArrayList<>();
    for (int n = 1; n <= 6; n++) {
      support.write(host, n, "bob", "step " + n, "at-" + n);
      Thread.sleep(5);
      after.add(Instant.now());
      Thread.sleep(5);
    }
    List<AuditEntry> history = await(audit.history(AuditService.persistenceId(id), 1, 100)).entries();
    for (int k = 0; k < 6; k++) {
      HostState expected = HostState.empty(id);
      for (AuditEntry e : history.subList(0, k + 1)) expected = expected.apply((HostEvent) e.event());
      HostState atT = await(audit.hostStateAt(id, after.get(k)));
      assertEquals(expected, atT, "state after event " + (k + 1) + " is the fold of the first " + (k + 1) + " events");
    }
    assertEquals("cordoned", await(audit.hostStateAt(id, after.get(1))).phase());
    assertEquals("ready", await(audit.hostStateAt(id, after.get(2))).phase());
    assertEquals(HostState.empty(id), await(audit.hostStateAt(id, beforeAll)), "nothing had happened before the first event");
    assertEquals(support.liveState(host), await(audit.hostStateAt(id, Instant.now())), "state now equals the entity's own state");
  }

  @Test
  void verifyPassesAnIntactChainAndNamesTheLinkAfterAnEditedRow() throws Exception {
    HostId id = support.newHostId("tamper");
    String pid = AuditService.persistenceId(id);
    var host = support.spawn(id);
    for (int n = 1; n <= 5; n++) support.write(host, n, "carol", "r" + n, "v-" + n);

    ChainReport.Intact ok = assertInstanceOf(ChainReport.Intact.class, await(audit.verify(pid)));
    assertEquals(5, ok.events());
    assertEquals(EventHashes.link(support.storedBytes(pid, 5)), ok.headHash());
    assertEquals(support.liveState(host).lastEventHash(), ok.headHash(), "the entity's own chain head equals the stored head");

    // Rewrite event 3 in place through CQL: same type, same link to event 2, another principal (a forged history).
    byte[] original = support.storedBytes(pid, 3);
    HostEvent event = (HostEvent) BerthEventCodec.fromBytes(support.manifest(pid, 3), original);
    EventMeta m = event.meta();
    HostEvent forged = new HostEvent.HostUncordoned(new EventMeta(m.at(), "mallory", m.reason(), m.correlationId(), m.prevHash()));
    support.overwrite(pid, 3, BerthEventCodec.toBytes(forged));

    ChainReport.Broken broken = assertInstanceOf(ChainReport.Broken.class, await(audit.verify(pid)));
    assertEquals(pid, broken.persistenceId());
    assertEquals(4, broken.sequenceNr(), "the first broken link is event 4's: it no longer matches event 3's bytes");
    assertTrue(broken.problem().contains("sequence number 3"), broken.problem());

    // A log that is not Berth's (Pekko's own, e.g. sharding's remembered entities) is not Berth's chain to check.
    String foreign = "sharding-remembered-" + id.value();
    support.writeForeignRow(foreign);
    VerifyReport all = await(audit.verifyAll());
    assertTrue(all.broken().stream().anyMatch(b -> b.persistenceId().equals(pid) && b.sequenceNr() == 4), "verifyAll names it too: " + all.broken());
    assertTrue(all.broken().stream().noneMatch(b -> b.persistenceId().equals(foreign)), "verifyAll skips logs that are not Berth's: " + all.broken());

    support.overwrite(pid, 3, original);
    assertInstanceOf(ChainReport.Intact.class, await(audit.verify(pid)), "restoring the original bytes restores the chain");
  }

  @Test
  void aRowThatDoesNotDeserializeIsNamedAndTheEntityDoesNotStart() throws Exception {
    HostId id = support.newHostId("garbled");
    String pid = AuditService.persistenceId(id);
    var host = support.spawn(id);
    for (int n = 1; n <= 3; n++) support.write(host, n, "dave", "r" + n, "g-" + n);
    support.stopEntity(host);

    support.overwrite(pid, 2, new byte[] {0x7f, 0x00, 0x13, 0x37});

    ChainReport.Broken broken = assertInstanceOf(ChainReport.Broken.class, await(audit.verify(pid)));
    assertEquals(2, broken.sequenceNr());
    assertTrue(broken.problem().startsWith("does not deserialize"), broken.problem());

    // The entity must not start with a silently wrong state: recovery fails and it stops.
    var failure = support.spawnExpectingRecoveryFailure(id);
    assertTrue(failure.isPresent(), "recovery of " + pid + " failed instead of skipping the bad row");
    Optional<String> named = await(audit.undecodableRow(pid));
    assertTrue(named.isPresent(), "the undecodable row is found");
    assertTrue(named.get().startsWith(pid + ": the journal row at sequence number 2 "), named.get());
  }

  @Test
  void theTimelineIsTimeOrderedCompleteUnderConcurrentWritersAndResumable() throws Exception {
    Instant since = Instant.now().minusMillis(1);
    int entities = 20;
    int perEntity = 10;
    Map<String, Integer> expected = new HashMap<>();
    List<CompletableFuture<Void>> writers = new ArrayList<>();
    for (int i = 0; i < entities; i++) {
      HostId id = support.newHostId("tl" + i);
      expected.put(AuditService.persistenceId(id), perEntity);
      var host = support.spawn(id);
      // Each entity writes its events one after another; all entities write at once.
      writers.add(CompletableFuture.runAsync(() -> {
        for (int n = 1; n <= perEntity; n++) support.write(host, n, "erin", "t" + n, "tl-" + n);
      }));
    }

    // A slow reader pages through the timeline while the writers run, resuming after the last offset each time.
    Set<String> seen = new HashSet<>();
    List<AuditEntry> ours = new ArrayList<>();
    Optional<String> after = Optional.empty();
    Instant until = since.plusSeconds(600);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    int total = entities * perEntity;
    while (ours.size() < total) {
      if (System.nanoTime() > deadline) {
        fail("the timeline delivered " + ours.size() + " of " + total + " events within 90 s");
      }
      TimelinePage page = await(audit.timeline(since, until, after, 7));
      for (AuditEntry e : page.entries()) {
        if (!expected.containsKey(e.persistenceId())) continue;
        assertTrue(seen.add(e.persistenceId() + "#" + e.sequenceNr()), "delivered once: " + e.persistenceId() + " #" + e.sequenceNr());
        ours.add(e);
      }
      if (page.entries().isEmpty()) Thread.sleep(200);
      after = page.resumeAfter();
    }
    CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    Map<String, Long> lastSeq = new HashMap<>();
    long lastTime = 0;
    for (AuditEntry e : ours) {
      long t = AuditTestSupport.uuidMillis(e.offset());
      assertTrue(t >= lastTime, "time order: " + e.persistenceId() + " #" + e.sequenceNr());
      lastTime = t;
      long prev = lastSeq.getOrDefault(e.persistenceId(), 0L);
      assertEquals(prev + 1, e.sequenceNr(), "each entity's events in its own order");
      lastSeq.put(e.persistenceId(), e.sequenceNr());
    }
    assertEquals(total, ours.size());

    // Reading the same window again from the start gives the same events in the same order.
    List<String> again = new ArrayList<>();
    Optional<String> a = Optional.empty();
    Instant end = Instant.now().minusSeconds(2);
    while (true) {
      TimelinePage page = await(audit.timeline(since, end, a, 1000));
      page.entries().stream().filter(e -> expected.containsKey(e.persistenceId())).forEach(e -> again.add(e.persistenceId() + "#" + e.sequenceNr()));
      if (page.complete() || page.entries().isEmpty()) break;
      a = page.resumeAfter();
    }
    assertEquals(ours.stream().map(e -> e.persistenceId() + "#" + e.sequenceNr()).toList(), again);

    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> audit.timeline(since, until, Optional.of("yesterday"), 10));
    assertTrue(bad.getMessage().startsWith("after: must be an offset"), bad.getMessage());
    bad = assertThrows(IllegalArgumentException.class, () -> audit.timeline(until, since, Optional.empty(), 10));
    assertTrue(bad.getMessage().startsWith("until: must not be before since"), bad.getMessage());
  }
}
