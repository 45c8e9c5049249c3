package io.berth.isolation.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fence records as files: the node's own, read back as the watchdog's are, and the unreadable ones set aside. */
class FenceRecordTest {
  private static final Instant AT = Instant.parse("2026-12-02T03:00:04.018Z");
  private static final Instant FED = Instant.parse("2026-12-02T03:00:01.516Z");

  @Test
  void theNodesOwnRecordReadsBackAsWritten(@TempDir Path root) {
    FenceRecord written = Watchdog.recordNodeFence(root, AT, FED, Duration.ofMillis(2500), List.of("web-1", "db-1"), true, Duration.ofMillis(41));
    List<FenceRecord> read = Watchdog.fencedRecords(root);
    assertEquals(List.of(written), read);
    FenceRecord r = read.get(0);
    assertEquals(FenceRecord.BY_NODE, r.by());
    assertEquals(AT, r.fencedAt());
    assertEquals(FED, r.lastFedAt());
    assertEquals(List.of("web-1", "db-1"), r.containers().stream().map(FenceRecord.Fenced::container).toList());
    assertTrue(r.complete());
    assertFalse(Files.exists(root.resolve("watchdog/fenced/" + AT.toEpochMilli() + ".rec.tmp")), "no temporary file left");
    Watchdog.acknowledge(r);
    assertEquals(List.of(), Watchdog.fencedRecords(root));
  }

  @Test
  void anIncompleteFenceSaysSo(@TempDir Path root) {
    Watchdog.recordNodeFence(root, AT, FED, Duration.ofSeconds(60), List.of("web-1"), false, Duration.ofSeconds(5));
    assertFalse(Watchdog.fencedRecords(root).get(0).complete());
  }

  @Test
  void aRecordWithoutByIsTheWatchdogs(@TempDir Path root) throws Exception {
    Path fenced = Files.createDirectories(root.resolve("watchdog/fenced"));
    Files.write(fenced.resolve("1.rec"), List.of("berth-watchdog-fence 1", "fenced_at_ms 10", "last_fed_at_ms 5", "deadline_ms 4", "watchdog_pid 77",
        "took_ms 1", "container web-1 frozen yes pids 100 101"));
    FenceRecord r = Watchdog.fencedRecords(root).get(0);
    assertEquals(FenceRecord.BY_WATCHDOG, r.by());
    assertEquals(List.of(100, 101), r.containers().get(0).pids());
  }

  @Test
  void anUnreadableRecordIsSetAsideAndTheOthersAreRead(@TempDir Path root) throws Exception {
    Path fenced = Files.createDirectories(root.resolve("watchdog/fenced"));
    Files.write(fenced.resolve("1.rec"), List.of("berth-watchdog-fence 1", "fenced_at_ms ten"));
    Watchdog.recordNodeFence(root, AT, FED, Duration.ofMillis(2500), List.of(), true, Duration.ZERO);
    List<FenceRecord> read = Watchdog.fencedRecords(root);
    assertEquals(1, read.size(), read.toString());
    assertTrue(Files.exists(fenced.resolve("1.rec.bad")), "set aside for a person to read");
    assertFalse(Files.exists(fenced.resolve("1.rec")));
  }

  @Test
  void anUnknownByIsRefusedNamingTheLine() {
    var e = assertThrows(WatchdogException.class, () -> FenceRecord.parse(Path.of("x.rec"), List.of("berth-watchdog-fence 1", "by someone")));
    assertTrue(e.getMessage().contains("\"by someone\""), e.getMessage());
  }
}
