package io.berth.protocol.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ValueTypesTest {

  @Test
  void idsFollowTheDnsLabelRule() {
    assertEquals("web-1", ContainerId.of("web-1").value());
    assertEquals("a", HostId.of("a").value());
    assertEquals("x".repeat(63), ContainerId.of("x".repeat(63)).value());
    for (String bad : new String[] {"", "-web", "web-", "Web", "web_1", "web.1", "x".repeat(64), "wéb"}) {
      InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> ContainerId.of(bad), bad);
      assertEquals("container", e.field());
      assertTrue(e.getMessage().contains("1-63 characters"), e.getMessage());
    }
    assertEquals("host", assertThrows(InvalidFieldException.class, () -> HostId.of(null)).field());
  }

  @Test
  void byteSizesParseBinaryUnitsInOnePlace() {
    assertEquals(512L << 20, ByteSizes.parse("memory", "512M"));
    assertEquals(512L << 20, ByteSizes.parse("memory", "512MiB"));
    assertEquals(1L << 30, ByteSizes.parse("memory", "1g"));
    assertEquals(4096, ByteSizes.parse("memory", "4096"));
    assertEquals(4096, ByteSizes.parse("memory", "4K"));
    assertEquals("512M", ByteSizes.format(512L << 20));
    assertEquals("1000", ByteSizes.format(1000));
    for (String bad : new String[] {"", "M", "12X", "-1M", "1.5G", "99999999999999999999", "9223372036854775807T"}) {
      InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> ByteSizes.parse("limits.memory", bad), bad);
      assertEquals("limits.memory", e.field());
    }
  }

  @Test
  void cpuAmountsAcceptCoresAndMillicores() {
    assertEquals(500, CpuAmounts.parseMillis("cpus", "0.5"));
    assertEquals(2000, CpuAmounts.parseMillis("cpus", "2"));
    assertEquals(250, CpuAmounts.parseMillis("cpus", "250m"));
    assertEquals("0.5", CpuAmounts.format(500));
    assertEquals("2", CpuAmounts.format(2000));
    assertThrows(InvalidFieldException.class, () -> CpuAmounts.parseMillis("cpus", "0.0005"));
    assertThrows(InvalidFieldException.class, () -> CpuAmounts.parseMillis("cpus", "lots"));
  }

  @Test
  void limitsAreBoundedAndNameTheField() {
    assertEquals("limits.memory", assertThrows(InvalidFieldException.class, () -> Limits.DEFAULT.withMemoryBytes((4L << 20) - 1)).field());
    assertEquals("limits.cpu", assertThrows(InvalidFieldException.class, () -> Limits.DEFAULT.withCpuMillis(0)).field());
    assertEquals("limits.pids", assertThrows(InvalidFieldException.class, () -> Limits.DEFAULT.withPids(0)).field());
    assertEquals("limits.disk", assertThrows(InvalidFieldException.class, () -> Limits.DEFAULT.withDiskBytes(-1)).field());
    assertEquals(4L << 20, Limits.DEFAULT.withMemoryBytes(4L << 20).memoryBytes());
  }

  @Test
  void specValidatesEveryFieldAndFillsDefaults() {
    ContainerSpec spec = new ContainerSpec(ContainerId.of("web-1"), TemplateRef.of("busybox"), null, null, null, null, null, null);
    assertEquals("web-1", spec.hostname());
    assertEquals(List.of("/bin/sh"), spec.argv());
    assertEquals(Limits.DEFAULT, spec.limits());
    assertEquals(RestartPolicy.NEVER, spec.restart());
    assertEquals("hostname", assertThrows(InvalidFieldException.class,
        () -> new ContainerSpec(ContainerId.of("a"), TemplateRef.of("busybox"), "Bad_Host", null, null, null, null, null)).field());
    assertEquals("command[1]", assertThrows(InvalidFieldException.class,
        () -> new ContainerSpec(ContainerId.of("a"), TemplateRef.of("busybox"), null, List.of("/bin/echo", "a\0b"), null, null, null, null)).field());
    assertEquals("labels", assertThrows(InvalidFieldException.class,
        () -> new ContainerSpec(ContainerId.of("a"), TemplateRef.of("busybox"), null, null, null, null, Map.of("Bad Key", "v"), null)).field());
    assertEquals("placement.antiAffinityGroup", assertThrows(InvalidFieldException.class,
        () -> new PlacementConstraints(Optional.empty(), Map.of(), "Not_A_Label")).field());
  }

  @Test
  void durationsParseOneUnitAndOffInOnePlace() {
    assertEquals(java.time.Duration.ofSeconds(30), Durations.parse("checkpointEvery", "30s"));
    assertEquals(java.time.Duration.ofMinutes(5), Durations.parse("checkpointEvery", " 5M "));
    assertEquals(java.time.Duration.ofHours(24), Durations.parse("checkpointEvery", "1d"));
    assertEquals(java.time.Duration.ZERO, Durations.parse("checkpointEvery", "off"));
    assertEquals(java.time.Duration.ZERO, Durations.parse("checkpointEvery", "0"));
    for (String bad : new String[] {"", "30", "-5s", "1m30s", "1.5h", "5 minutes", "99999999999s"}) {
      InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> Durations.parse("checkpointEvery", bad), bad);
      assertEquals("checkpointEvery", e.field());
    }
    assertEquals("30s", Durations.format(java.time.Duration.ofSeconds(30)));
    assertEquals("5m", Durations.format(java.time.Duration.ofSeconds(300)));
    assertEquals("2h", Durations.format(java.time.Duration.ofHours(2)));
    assertEquals("off", Durations.format(java.time.Duration.ZERO));
    assertEquals("90s", Durations.format(java.time.Duration.ofSeconds(90)));
  }

  @Test
  void aCheckpointScheduleIsOffOrTenSecondsToADayAndOnlyOnSharedStorage() {
    ContainerSpec shared = new ContainerSpec(ContainerId.of("db-1"), TemplateRef.of("busybox"), null, null, null, null, null, null, false,
        Storage.SHARED, 0);
    assertEquals(java.time.Duration.ZERO, shared.checkpointEvery(), "off by default");
    assertEquals(java.time.Duration.ofSeconds(10), shared.withCheckpointEvery(java.time.Duration.ofSeconds(10)).checkpointEvery());
    assertEquals(java.time.Duration.ofHours(24), shared.withCheckpointEvery(java.time.Duration.ofHours(24)).checkpointEvery());
    assertTrue(shared.withCheckpointEvery(java.time.Duration.ofSeconds(30)).withLimits(Limits.DEFAULT).checkpoints(), "kept by withLimits");
    for (java.time.Duration bad : List.of(java.time.Duration.ofSeconds(9), java.time.Duration.ofMillis(9_999), java.time.Duration.ofHours(25),
        java.time.Duration.ofSeconds(-30))) {
      InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> shared.withCheckpointEvery(bad), bad.toString());
      assertEquals("checkpointEvery", e.field());
      assertTrue(e.getMessage().contains("from 10s to 24h"), e.getMessage());
    }
    ContainerSpec local = new ContainerSpec(ContainerId.of("db-2"), TemplateRef.of("busybox"), null, null, null, null, null, null);
    InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> local.withCheckpointEvery(java.time.Duration.ofSeconds(30)));
    assertEquals("checkpointEvery", e.field());
    assertTrue(e.getMessage().contains("needs --storage shared"), e.getMessage());
    assertEquals(java.time.Duration.ZERO, local.withCheckpointEvery(java.time.Duration.ZERO).checkpointEvery(), "off is fine anywhere");
  }

  @Test
  void templateReferencesCannotEscapeTheStore() {
    for (String bad : new String[] {"../etc", "/abs", ".hidden", "a/b", "sha256:xyz", ""}) {
      assertEquals("template", assertThrows(InvalidFieldException.class, () -> TemplateRef.of(bad), bad).field());
    }
    assertTrue(TemplateRef.of("sha256:" + "a".repeat(64)).isDigest());
  }

  @Test
  void restartPolicyUsesTheCliSpelling() {
    assertEquals(RestartPolicy.ON_FAILURE, RestartPolicy.parse("restart", "on-failure"));
    assertEquals("on-failure", RestartPolicy.ON_FAILURE.wireName());
    assertEquals("restart", assertThrows(InvalidFieldException.class, () -> RestartPolicy.parse("restart", "sometimes")).field());
  }
}
