package io.berth.isolation.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code stats-dump} reader against a file CRIU 4.2.1 wrote here (a dump of {@code sleep} with --leave-running). */
class CriuStatsTest {
  private static final byte[] DUMP = HexFormat.of().parseHex(
      "4059105506330957230000000a2108a11010f8bd0118c40820990128383000381d40004800500658066000680070" + "00");

  @Test
  void readsCriusOwnTimesInMicroseconds() {
    CriuStats.Dump d = CriuStats.parseDump(DUMP, "stats-dump");
    assertEquals(2081, d.freezingMicros());
    assertEquals(24312, d.frozenMicros());
    assertEquals(1092, d.memdumpMicros());
    assertEquals(153, d.memwriteMicros());
    assertEquals(29, d.pagesWritten());
  }

  @Test
  void aMissingFileIsEmptyAndBadBytesAreRefusedSayingWhy(@TempDir Path dir) throws Exception {
    assertTrue(CriuStats.readDump(dir).isEmpty(), "no stats-dump: empty (the caller falls back to the wall time)");
    Files.write(dir.resolve(CriuStats.DUMP_FILE), DUMP);
    assertEquals(24312, CriuStats.readDump(dir).orElseThrow().frozenMicros());

    CriuException truncated = assertThrows(CriuException.class, () -> CriuStats.parseDump(Arrays.copyOf(DUMP, 20), "f"));
    assertTrue(truncated.getMessage().contains("f: entry of 35 bytes"), truncated.getMessage());
    byte[] otherMagic = DUMP.clone();
    otherMagic[4] = 0x07;
    assertTrue(assertThrows(CriuException.class, () -> CriuStats.parseDump(otherMagic, "f")).getMessage().contains("is not CRIU's stats image"));
    assertTrue(assertThrows(CriuException.class, () -> CriuStats.parseDump(new byte[3], "f")).getMessage().contains("truncated"));
    // a dump entry with freezing_time only
    byte[] noFrozen = HexFormat.of().parseHex("4059105506330957" + "04000000" + "0a020801");
    assertTrue(assertThrows(CriuException.class, () -> CriuStats.parseDump(noFrozen, "f")).getMessage().contains("no frozen_time"));
    // a dump entry that claims 3 bytes where 1 is left
    byte[] shortField = HexFormat.of().parseHex("4059105506330957" + "03000000" + "0a0308");
    assertTrue(assertThrows(CriuException.class, () -> CriuStats.parseDump(shortField, "f")).getMessage().contains("a field of 3 bytes, 1 left"));
    Files.write(dir.resolve(CriuStats.DUMP_FILE), new byte[100_000]);
    assertTrue(assertThrows(CriuException.class, () -> CriuStats.readDump(dir)).getMessage().contains("larger than"));
  }
}
