package io.berth.protocol.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.host.HostReply;
import java.io.NotSerializableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Truncated, mutated and random bytes, and unknown manifests, for every event, command, reply and
 * state type: each decode either gives a valid object of the manifest's type (a mutation can land on
 * another valid value) or a {@link NotSerializableException}. Never another exception, never an
 * OutOfMemoryError, never a hang. The RNG seed is printed with every failure; rerun one with
 * {@code -Dberth.fuzz.seed=<seed>}.
 */
class BadInputTest {
  private static final long SEED = Long.getLong("berth.fuzz.seed", System.nanoTime());
  private static final int MUTATIONS_PER_TYPE = 300;
  private static final int RANDOM_PER_TYPE = 100;
  /** Far above what any decode takes (microseconds); a decode this slow is a hang in the making. */
  private static final Duration SLOWEST_DECODE = Duration.ofSeconds(2);

  private static ActorTestKit kit;
  private static BerthSerializer serializer;

  @FunctionalInterface
  interface Decoder {
    Object decode(String manifest, byte[] bytes) throws NotSerializableException;
  }

  /** A valid sample's manifest, bytes, and the class a decode of that manifest must produce. */
  record Case(String manifest, byte[] bytes, Class<?> type, Decoder decoder) {}

  @BeforeAll
  static void start() throws Exception {
    kit = ActorTestKit.create("berth-bad-input-test");
    serializer = (BerthSerializer) SerializationExtension.get(Adapter.toClassic(kit.system())).serializerFor(BerthMessage.class);
  }

  @AfterAll
  static void stop() {
    if (kit != null) kit.shutdownTestKit();
  }

  private static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    List<BerthEvent> events = new ArrayList<>(Samples.events());
    events.addAll(Samples.edgeEvents());
    for (BerthEvent e : events) {
      cases.add(new Case(BerthEventCodec.manifest(e), BerthEventCodec.toBytes(e), e.getClass(), BerthEventCodec::fromBytes));
    }
    List<Object> messages = new ArrayList<>(Samples.commands(kit.createTestProbe(ContainerReply.class).ref(), kit.createTestProbe(HostReply.class).ref(),
        kit.createTestProbe(io.berth.protocol.directory.DirectoryReply.class).ref()));
    messages.addAll(Samples.replies());
    messages.addAll(Samples.templateMessages(kit.createTestProbe(io.berth.protocol.template.TemplateReply.class).ref()));
    messages.addAll(Samples.accessMessages(kit.createTestProbe(io.berth.protocol.access.AccessReply.class).ref()));
    messages.addAll(Samples.containerStates());
    messages.addAll(Samples.hostStates());
    for (Object m : messages) {
      cases.add(new Case(serializer.manifest(m), serializer.toBinary(m), m.getClass(), (mf, b) -> serializer.fromBinary(b, mf)));
    }
    return cases;
  }

  @Test
  void everyTruncationIsRefused() {
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      int tried = 0;
      for (Case c : cases()) {
        for (int n = 0; n < c.bytes().length; n++) {
          byte[] prefix = Arrays.copyOf(c.bytes(), n);
          Object result = decode(c, c.manifest(), prefix, "truncated to " + n);
          if (result != null) fail(c.manifest() + " truncated to " + n + " of " + c.bytes().length + " bytes decoded to " + result);
          tried++;
        }
      }
      assertTrue(tried > 1000, "only " + tried + " truncations tried");
    });
  }

  /**
   * A mutation CI found (seed 3843237073392): where a class is read, Kryo's "class by name" marker and a name 2^31
   * characters long. Kryo read the name before it checked registration and took 6 s; now it is refused at once.
   */
  @Test
  void aClassNamedInTheBytesIsRefusedAtOnce() {
    Case done = cases().stream().filter(c -> c.manifest().equals("HostReply.Done")).findFirst().orElseThrow();
    assertEquals(null, decode(done, done.manifest(), HexFormat.of().parseHex("0107ffffffff2d61f301"), "a class by name"));
  }

  @Test
  void mutatedBytesGiveAValidMessageOrAClearError() {
    assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
      Random rnd = new Random(SEED);
      Map<String, int[]> outcomes = new LinkedHashMap<>();
      for (Case c : cases()) {
        int[] counts = outcomes.computeIfAbsent(c.manifest(), k -> new int[2]);
        for (int i = 0; i < MUTATIONS_PER_TYPE; i++) {
          byte[] mutated = mutate(c.bytes(), rnd);
          Object result = decode(c, c.manifest(), mutated, "mutation " + i);
          counts[result == null ? 1 : 0]++;
        }
      }
      int refused = outcomes.values().stream().mapToInt(a -> a[1]).sum();
      assertTrue(refused > outcomes.size() * MUTATIONS_PER_TYPE / 4, "suspiciously few mutations refused: " + refused);
    });
  }

  @Test
  void randomBytesGiveAValidMessageOrAClearError() {
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      Random rnd = new Random(SEED ^ 0x5DEECE66DL);
      for (Case c : cases()) {
        for (int i = 0; i < RANDOM_PER_TYPE; i++) {
          byte[] random = new byte[rnd.nextInt(i < RANDOM_PER_TYPE / 2 ? 16 : 512)];
          rnd.nextBytes(random);
          decode(c, c.manifest(), random, "random " + i);
        }
      }
    });
  }

  /** Lengths and counts claiming gigabytes, where strings, lists and maps begin: refused before allocating. */
  @Test
  void hugeLengthsAreRefusedWithoutAllocating() {
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      byte[] maxVarInt = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
      byte[] bigVarInt = {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0x7f};
      for (Case c : cases()) {
        for (int at = 0; at < c.bytes().length; at++) {
          for (byte[] huge : List.of(maxVarInt, bigVarInt)) {
            byte[] b = c.bytes().clone();
            byte[] spliced = new byte[b.length + huge.length];
            System.arraycopy(b, 0, spliced, 0, at);
            System.arraycopy(huge, 0, spliced, at, huge.length);
            System.arraycopy(b, at, spliced, at + huge.length, b.length - at);
            decode(c, c.manifest(), spliced, "huge length at " + at);
          }
        }
      }
    });
  }

  @Test
  void unknownManifestsAreRefusedClearly() {
    for (Case c : cases()) {
      for (String m : List.of("", "Nope", "Nope:1", c.manifest() + "x", c.manifest() + ":1", ":", "1:1", "ContainerStarted:-1",
          "ContainerStarted:99999999999", "ContainerCommand.Start.Evil")) {
        if (m.equals(c.manifest())) continue;
        try {
          Object o = c.decoder().decode(m, c.bytes());
          // Only a manifest that names another real type may decode (to that type).
          assertTrue(o instanceof BerthMessage || o != null, m);
          if (!m.contains(":") && KryoRegistry.byName(m) == null) fail("unknown manifest " + m + " decoded to " + o);
        } catch (NotSerializableException e) {
          assertTrue(e.getMessage().contains("cannot deserialize"), e.getMessage());
        } catch (Throwable t) {
          fail("manifest '" + m + "' with the bytes of " + c.manifest() + " threw " + t, t);
        }
      }
    }
  }

  @Test
  void errorsNameTheManifestAndTheField() {
    Case c = cases().stream().filter(x -> x.manifest().equals("ContainerDefined:5")).findFirst().orElseThrow();
    // the memory guarantee (128M, 4 bytes), the cpu guarantee (500, 2), the cpu weight (200, 2), the checkpoint schedule
    // (30000 ms, 3), the HA priority (1), the storage class ("SHARED", 7), the privileged flag (1) and the end of placement
    byte[] b = Arrays.copyOf(c.bytes(), c.bytes().length - 25);
    try {
      c.decoder().decode(c.manifest(), b);
      fail("a truncated ContainerDefined decoded");
    } catch (NotSerializableException e) {
      assertTrue(e.getMessage().startsWith("cannot deserialize 'ContainerDefined:5' (" + b.length + " bytes): spec.placement"), e.getMessage());
    }
    Case define = cases().stream().filter(x -> x.manifest().equals("ContainerCommand.Define")).findFirst().orElseThrow();
    byte[] d = Arrays.copyOf(define.bytes(), 3);
    try {
      define.decoder().decode(define.manifest(), d);
      fail("a truncated Define decoded");
    } catch (NotSerializableException e) {
      assertTrue(e.getMessage().startsWith("cannot deserialize 'ContainerCommand.Define' (3 bytes): "), e.getMessage());
      assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }
  }

  /** The decoded object, or null when the decoder refused with a NotSerializableException. */
  private static Object decode(Case c, String manifest, byte[] bytes, String what) {
    long start = System.nanoTime();
    try {
      Object o = c.decoder().decode(manifest, bytes);
      if (!c.type().isInstance(o)) fail(describe(c, what, bytes) + " decoded to a " + (o == null ? "null" : o.getClass().getName()));
      return o;
    } catch (NotSerializableException e) {
      if (e.getMessage() == null || !e.getMessage().startsWith("cannot deserialize '" + manifest + "'")) {
        fail(describe(c, what, bytes) + ": unclear error " + e.getMessage());
      }
      return null;
    } catch (Throwable t) {
      fail(describe(c, what, bytes) + " threw " + t, t);
      return null;
    } finally {
      long took = System.nanoTime() - start;
      if (took > SLOWEST_DECODE.toNanos()) fail(describe(c, what, bytes) + " took " + took / 1_000_000 + " ms");
    }
  }

  private static String describe(Case c, String what, byte[] bytes) {
    String hex = HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 256));
    return c.manifest() + " (" + what + ", seed " + SEED + ", bytes " + hex + ")";
  }

  /** One to four edits: flip a bit, set a byte, insert, delete, or overwrite a run with 0xff. */
  static byte[] mutate(byte[] original, Random rnd) {
    byte[] b = original.clone();
    int edits = 1 + rnd.nextInt(4);
    for (int i = 0; i < edits && b.length > 0; i++) {
      int at = rnd.nextInt(b.length);
      switch (rnd.nextInt(5)) {
        case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
        case 1 -> b[at] = (byte) rnd.nextInt(256);
        case 2 -> {
          byte[] longer = new byte[b.length + 1];
          System.arraycopy(b, 0, longer, 0, at);
          longer[at] = (byte) rnd.nextInt(256);
          System.arraycopy(b, at, longer, at + 1, b.length - at);
          b = longer;
        }
        case 3 -> {
          byte[] shorter = new byte[b.length - 1];
          System.arraycopy(b, 0, shorter, 0, at);
          System.arraycopy(b, at + 1, shorter, at, b.length - at - 1);
          b = shorter;
        }
        default -> Arrays.fill(b, at, Math.min(b.length, at + 1 + rnd.nextInt(5)), (byte) 0xff);
      }
    }
    return b;
  }

  @Test
  void theMutatorChangesBytes() {
    Random rnd = new Random(1);
    byte[] b = {1, 2, 3, 4, 5, 6, 7, 8};
    int changed = 0;
    for (int i = 0; i < 100; i++) if (!Arrays.equals(b, mutate(b, rnd))) changed++;
    assertTrue(changed > 90, "mutations should almost always change the bytes: " + changed);
    assertEquals(8, b.length);
  }
}
