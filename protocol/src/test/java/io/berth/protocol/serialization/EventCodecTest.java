package io.berth.protocol.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.io.Output;
import io.berth.protocol.container.ContainerEvent.ContainerDefined;
import io.berth.protocol.container.ContainerEvent.ContainerPlaced;
import io.berth.protocol.container.ContainerEvent.ContainerStarted;
import io.berth.protocol.container.ContainerEvent.LimitsChanged;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventHashes;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class EventCodecTest {

  @Test
  void everyEventTypeHasAFormatAndASample() {
    List<String> missing = new ArrayList<>();
    for (Class<?> type : Samples.eventTypes()) {
      boolean hasFormat = BerthEventCodec.allFormats().stream().anyMatch(f -> f.type() == type);
      if (!hasFormat) missing.add(type.getName());
      assertNotNull(Samples.event(type));
    }
    assertEquals(List.of(), missing, "event types without an EventFormat (add one in ContainerEventFormats/HostEventFormats)");
    assertEquals(Samples.eventTypes().size(), BerthEventCodec.allFormats().size(), "a format for a type that is no event");
  }

  @Test
  void everyEventRoundTripsToAnEqualEvent() throws Exception {
    List<BerthEvent> all = new ArrayList<>(Samples.events());
    all.addAll(Samples.edgeEvents());
    for (BerthEvent e : all) {
      String manifest = BerthEventCodec.manifest(e);
      int version = BerthEventCodec.allFormats().stream().filter(f -> f.type() == e.getClass()).findFirst().orElseThrow().version();
      assertEquals(e.getClass().getSimpleName() + ":" + version, manifest);
      byte[] bytes = BerthEventCodec.toBytes(e);
      assertEquals(version, bytes[0], manifest + ": the version comes first");
      BerthEvent back = BerthEventCodec.fromBytes(manifest, bytes);
      assertEquals(e, back, manifest);
      assertArrayEquals(bytes, BerthEventCodec.toBytes(back), manifest + ": bytes after a round trip differ");
    }
  }

  @Test
  void bytesAreDeterministicWhateverTheMapImplementation() {
    ContainerSpec spec = Samples.fullSpec();
    Map<String, String> hashed = new HashMap<>();
    Map<String, String> reversed = new TreeMap<>(java.util.Comparator.reverseOrder());
    for (int i = 0; i < 40; i++) {
      hashed.put("k" + i, "v" + i);
      reversed.put("k" + i, "v" + i);
    }
    var a = new io.berth.protocol.host.HostEvent.HostRegistered(Samples.meta(), new io.berth.protocol.host.HostCapacity(1, 1, 1), hashed, "x");
    var b = new io.berth.protocol.host.HostEvent.HostRegistered(Samples.meta(), new io.berth.protocol.host.HostCapacity(1, 1, 1), reversed, "x");
    assertArrayEquals(BerthEventCodec.toBytes(a), BerthEventCodec.toBytes(b), "map order leaked into the bytes");
    ContainerDefined d = new ContainerDefined(Samples.meta(), spec);
    byte[] first = BerthEventCodec.toBytes(d);
    for (int i = 0; i < 100; i++) assertArrayEquals(first, BerthEventCodec.toBytes(new ContainerDefined(Samples.meta(), Samples.fullSpec())));
    // The hash chain hashes exactly these bytes.
    assertEquals(EventHashes.link(first), EventHashes.hashOf(d));
  }

  @Test
  void unknownManifestsAreClearErrors() {
    byte[] bytes = BerthEventCodec.toBytes(Samples.event(ContainerStarted.class));
    assertMessage("unknown event type 'ContainerTeleported'", () -> BerthEventCodec.fromBytes("ContainerTeleported:1", bytes));
    assertMessage("ContainerStarted version 2 is unknown to this build (it writes version 1)", () -> BerthEventCodec.fromBytes("ContainerStarted:2", bytes));
    assertMessage("must be <EventType>:<version>", () -> BerthEventCodec.fromBytes("ContainerStarted", bytes));
    assertMessage("must be <EventType>:<version>", () -> BerthEventCodec.fromBytes(null, bytes));
    assertMessage("is not a number", () -> BerthEventCodec.fromBytes("ContainerStarted:one", bytes));
    assertMessage("bytes: must be given", () -> BerthEventCodec.fromBytes("ContainerStarted:1", null));
  }

  @Test
  void aVersionInTheBytesThatContradictsTheManifestIsCorruption() {
    byte[] bytes = BerthEventCodec.toBytes(Samples.event(ContainerStarted.class));
    bytes[0] = 0;
    assertMessage("the bytes say version 0 but the manifest says 1", () -> BerthEventCodec.fromBytes("ContainerStarted:1", bytes));
  }

  @Test
  void trailingBytesAreCorruption() {
    byte[] bytes = BerthEventCodec.toBytes(Samples.event(ContainerStarted.class));
    byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 3);
    assertMessage("3 bytes left over after the event", () -> BerthEventCodec.fromBytes("ContainerStarted:1", longer));
  }

  @Test
  void aStoredValueThatBreaksARuleNamesTypeFieldAndRule() {
    // Write a LimitsChanged by hand with memory = 1 byte: the Limits constructor refuses it on read.
    Output out = new Output(256);
    out.writeVarInt(1, true);
    ValueCodecs.writeMeta(out, Samples.meta());
    Wire.writeLong(out, 1000);
    Wire.writeLong(out, 1);
    Wire.writeLong(out, 0);
    Wire.writeLong(out, 10);
    NotSerializableException e = assertThrows(NotSerializableException.class, () -> BerthEventCodec.fromBytes("LimitsChanged:1", out.toBytes()));
    assertTrue(e.getMessage().contains("'LimitsChanged:1'"), e.getMessage());
    assertTrue(e.getMessage().contains("limits: not a valid Limits: limits.memory: must be between 4M and 1024T"), e.getMessage());

    // A host id that is not a DNS label.
    Output out2 = new Output(256);
    out2.writeVarInt(1, true);
    ValueCodecs.writeMeta(out2, Samples.meta());
    Wire.writeString(out2, "Host_A");
    Wire.writeLong(out2, 5);
    NotSerializableException e2 = assertThrows(NotSerializableException.class, () -> BerthEventCodec.fromBytes("ContainerStarted:1", out2.toBytes()));
    assertTrue(e2.getMessage().contains("host: not a valid HostId: host: must be 1-63 characters of a-z"), e2.getMessage());
  }

  @Test
  void aNullWhereAValueIsNeededFailsWhileWritingNamingTheField() {
    WireFormatException e = assertThrows(WireFormatException.class,
        () -> BerthEventCodec.toBytes(new ContainerStarted(Samples.meta(), null, 1)));
    assertEquals("host: must not be null in a serialized message", e.getMessage());
    assertThrows(WireFormatException.class, () -> BerthEventCodec.toBytes(new LimitsChanged(null, Limits.DEFAULT)));
    // Null strings are kept as null.
    var placed = new ContainerPlaced(Samples.meta(), Samples.H1, null);
    assertEquals(placed, roundTrip(placed));
  }

  /**
   * The upcasting mechanism, shown with a made-up old version: suppose ContainerStarted version 0
   * had no pid (meta, host only). A codec that knows the v0 layout reads such bytes into today's
   * record, with pid 0 meaning "not known", while still writing version 1.
   */
  @Test
  void anOlderVersionIsUpcastOnRead() throws Exception {
    EventFormat<ContainerStarted> withV0 = ContainerEventFormats.CONTAINER_STARTED.withOldVersion(0,
        in -> new ContainerStarted(ValueCodecs.readMeta(in), ValueCodecs.readHostId(in, "host"), 0));
    List<EventFormat<?>> formats = new ArrayList<>(BerthEventCodec.allFormats());
    formats.replaceAll(f -> f.type() == ContainerStarted.class ? withV0 : f);
    EventCodec codec = EventCodec.of(formats);

    Output v0 = new Output(256);
    v0.writeVarInt(0, true);
    ValueCodecs.writeMeta(v0, Samples.meta());
    ValueCodecs.writeHostId(v0, Samples.H1, "host");

    BerthEvent read = codec.fromBytes("ContainerStarted:0", v0.toBytes());
    assertEquals(new ContainerStarted(Samples.meta(), Samples.H1, 0), read);
    assertEquals("ContainerStarted:1", codec.manifest(read), "writing always uses the current version");
    // The production codec has no v0 reader: a clear error, not a guess.
    assertMessage("ContainerStarted version 0 is unknown to this build", () -> BerthEventCodec.fromBytes("ContainerStarted:0", v0.toBytes()));
    assertThrows(IllegalArgumentException.class, () -> withV0.withOldVersion(1, in -> null), "v1 is the current version");
  }

  @Test
  void anUpcastEventHashesAsTheBytesItWasReadFrom() throws Exception {
    // The chain is over what the journal holds: after an upcast, the next event's prevHash and
    // `audit verify` must agree on the old bytes, not on today's re-serialization.
    byte[] v1 = java.nio.file.Files.readAllBytes(GoldenFiles.of("ContainerDefined:1"));
    BerthEvent read = BerthEventCodec.fromBytes("ContainerDefined:1", v1);
    assertEquals(io.berth.protocol.event.EventHashes.link(v1), io.berth.protocol.event.EventHashes.hashOf(read));
    BerthEvent current = roundTrip(Samples.event(read.getClass()));
    assertEquals(io.berth.protocol.event.EventHashes.link(BerthEventCodec.toBytes(current)),
        io.berth.protocol.event.EventHashes.hashOf(current), "an event at today's version hashes as today's bytes");
  }

  static BerthEvent roundTrip(BerthEvent e) {
    try {
      return BerthEventCodec.fromBytes(BerthEventCodec.manifest(e), BerthEventCodec.toBytes(e));
    } catch (NotSerializableException x) {
      throw new AssertionError(x);
    }
  }

  static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
    NotSerializableException e = assertThrows(NotSerializableException.class, call);
    assertTrue(e.getMessage().contains(expected), "expected <" + expected + "> in: " + e.getMessage());
  }
}
