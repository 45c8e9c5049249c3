package io.berth.protocol.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import io.berth.protocol.container.ContainerEvent.ContainerDefined;
import io.berth.protocol.event.BerthEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import io.berth.protocol.container.ContainerEvent.LimitsChangeRequested;
import io.berth.protocol.container.ContainerEvent.LimitsChanged;
import io.berth.protocol.directory.DirectoryEvent.AllocationResized;
import io.berth.protocol.directory.DirectoryEvent.ContainerAllocated;
import io.berth.protocol.directory.DirectoryEvent.ContainerReserved;
import io.berth.protocol.directory.DirectoryEvent.ReservationConfirmed;
import io.berth.protocol.directory.DirectoryEvent.ResizeReserved;
import io.berth.protocol.host.HostEvent.HostRegistered;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Compatibility: every event type's stored bytes, as first written, are committed under
 * {@code src/test/resources/golden}. This build must read each of them back to the expected event, and
 * write today's sample to exactly the same bytes. A failure here means stored events would no longer
 * read: change the event as a new type or version with an upcaster, never by editing the old one.
 */
class GoldenFileTest {

  /**
   * Golden files of versions no longer written (kept forever once a version is superseded) and the
   * event their upcaster must produce.
   */
  static final Map<String, BerthEvent> OLD_VERSIONS = Map.ofEntries(
      Map.entry("ContainerDefined:1", new ContainerDefined(Samples.meta(), Samples.fullSpecV1())),
      Map.entry("ContainerDefined:2", new ContainerDefined(Samples.meta(), Samples.fullSpecV2())),
      Map.entry("ContainerDefined:3", new ContainerDefined(Samples.meta(), Samples.fullSpecV3())),
      Map.entry("ContainerDefined:4", new ContainerDefined(Samples.meta(), Samples.fullSpecV4())),
      Map.entry("ContainerFailedOver:1", new io.berth.protocol.container.ContainerEvent.ContainerFailedOver(Samples.meta(), Samples.H1, Samples.H2,
          "failover of host-a (fenced): least allocated (cpu 12%, memory 30%), HA priority 10")),
      Map.entry("HostRegistered:1", new HostRegistered(Samples.meta(),
          new io.berth.protocol.host.HostCapacity(2000, 24L << 30, 4_194_304), Map.of("zone", "z1", "ssd", "true"), "198.18.0.2")),
      Map.entry("HostRegistered:2", new HostRegistered(Samples.meta(),
          new io.berth.protocol.host.HostCapacity(2000, 24L << 30, 4_194_304), Map.of("zone", "z1", "ssd", "true"), "198.18.0.2",
          7_340_121_456_789L)),
      Map.entry("HostFenced:1", new io.berth.protocol.host.HostEvent.HostFenced(Samples.meta(), "host-b")),
      Map.entry("MigrationRequested:1", new io.berth.protocol.container.ContainerEvent.MigrationRequested(Samples.meta(), Samples.MIGRATION_ID,
          Samples.H1, Samples.H2, io.berth.protocol.container.MigrationMode.LIVE, false, io.berth.protocol.container.PostCopy.OFF, "")),
      Map.entry("MigrationRequested:2", new io.berth.protocol.container.ContainerEvent.MigrationRequested(Samples.meta(), Samples.MIGRATION_ID,
          Samples.H1, Samples.H2, io.berth.protocol.container.MigrationMode.LIVE, true, io.berth.protocol.container.PostCopy.OFF,
          "the operator named host-b")),
      Map.entry("DrainRequested:1", new io.berth.protocol.host.HostEvent.DrainRequested(Samples.meta(), io.berth.protocol.host.DrainMode.LIVE, 1)),
      Map.entry("HostDrained:1", new io.berth.protocol.host.HostEvent.HostDrained(Samples.meta(), List.of())),
      // Limits layout 1 (before weights and guarantees): every cap was reserved.
      Map.entry("LimitsChangeRequested:1", new LimitsChangeRequested(Samples.meta(), Samples.RESIZED_V1)),
      Map.entry("LimitsChanged:1", new LimitsChanged(Samples.meta(), Samples.RESIZED_V1)),
      Map.entry("ContainerAllocated:1", new ContainerAllocated(Samples.meta(), Samples.CT, Samples.H1, Samples.LIMITS_V1, "web", "198.18.0.17")),
      Map.entry("AllocationResized:1", new AllocationResized(Samples.meta(), Samples.CT, Samples.RESIZED_V1)),
      Map.entry("ContainerReserved:1", new ContainerReserved(Samples.meta(), 42, Samples.CT, Samples.H1, Samples.LIMITS_V1, "web", "198.18.0.17",
          "least allocated of 3 fitting hosts (host-a: cpu 25%, memory 25% after placing)")),
      Map.entry("ResizeReserved:1", new ResizeReserved(Samples.meta(), 44, Samples.CT, Samples.RESIZED_V1)),
      Map.entry("ReservationConfirmed:1", new ReservationConfirmed(Samples.meta(), 42, Samples.CT, Samples.H1, Samples.LIMITS_V1)));

  @Test
  void everyEventFormatHasAGoldenFile() {
    List<String> missing = new ArrayList<>();
    for (EventFormat<?> f : BerthEventCodec.allFormats()) {
      if (!Files.isRegularFile(GoldenFiles.of(f.manifest()))) missing.add(f.manifest());
    }
    // Every event type of the sealed hierarchies, whether or not someone remembered its format.
    for (Class<?> type : Samples.eventTypes()) {
      boolean covered = BerthEventCodec.allFormats().stream()
          .anyMatch(f -> f.type() == type && Files.isRegularFile(GoldenFiles.of(f.manifest())));
      if (!covered && !missing.contains(type.getSimpleName() + ":1")) missing.add(type.getSimpleName());
    }
    if (!missing.isEmpty()) {
      fail("no golden file for " + missing + " in " + GoldenFiles.dir() + ": add the sample to Samples.events() and run "
          + "mvn -o -pl protocol test -Dtest=GoldenFileGenerator -Dberth.golden.generate=true, then commit the file");
    }
  }

  @Test
  void everyGoldenFileReadsBackToItsSampleAndTodaysBytesAreTheSame() throws Exception {
    List<Path> files = goldenFiles();
    assertFalse(files.isEmpty(), "no golden files in " + GoldenFiles.dir());
    for (Path file : files) {
      String manifest = GoldenFiles.manifestOf(file);
      byte[] golden = Files.readAllBytes(file);
      BerthEvent read = BerthEventCodec.fromBytes(manifest, golden);
      if (OLD_VERSIONS.containsKey(manifest)) {
        assertEquals(OLD_VERSIONS.get(manifest), read, manifest + ": the upcast of the old version differs");
        continue;
      }
      String current = BerthEventCodec.manifest(read);
      if (!current.equals(manifest)) {
        fail(manifest + " is no longer written (today: " + current + "): add its expected upcast to GoldenFileTest.OLD_VERSIONS");
      }
      BerthEvent sample = Samples.event(read.getClass());
      assertEquals(sample, read, manifest + ": the golden bytes no longer read back to the sample");
      byte[] today = BerthEventCodec.toBytes(sample);
      assertArrayEquals(golden, today, manifest + ": today's bytes differ from the golden file\n golden " + HexFormat.of().formatHex(golden)
          + "\n today  " + HexFormat.of().formatHex(today));
    }
  }

  private static List<Path> goldenFiles() throws IOException {
    if (!Files.isDirectory(GoldenFiles.dir())) return List.of();
    try (Stream<Path> s = Files.list(GoldenFiles.dir())) {
      return s.filter(p -> p.getFileName().toString().endsWith(".bin")).sorted().toList();
    }
  }
}
