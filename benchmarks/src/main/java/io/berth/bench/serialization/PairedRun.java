package io.berth.bench.serialization;

import io.berth.bench.Results;
import io.berth.protocol.event.BerthEvent;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * A cross-check of the JMH figures that holds up on a shared machine: JMH measures one benchmark after
 * the other, so load from other processes (this machine has 2 cores and other builds) lands on
 * whichever runs at that moment. Here Berth and Jackson alternate in short slices (the order flipped
 * every round), so both see the same load, and the figure is the median over rounds. It runs in the
 * launching JVM (JMH measured in a fork), after warm-up rounds of its own.
 */
final class PairedRun {
  private static final int WARMUP_ROUNDS = 20;
  private static final int ROUNDS = 40;
  private static final long SLICE_NANOS = 25_000_000L;

  private PairedRun() {}

  static void run(Results results) {
    try (Serializers s = new Serializers()) {
      for (String name : BenchEvents.NAMES) {
        List<BerthEvent> events = BenchEvents.named(name);
        for (boolean serialize : new boolean[] {true, false}) {
          Slice berth = new Slice(s.berth, events, serialize);
          Slice jackson = new Slice(s.jackson, events, serialize);
          for (int i = 0; i < WARMUP_ROUNDS; i++) {
            berth.eventsPerSecond();
            jackson.eventsPerSecond();
          }
          double[] b = new double[ROUNDS];
          double[] j = new double[ROUNDS];
          for (int i = 0; i < ROUNDS; i++) {
            if (i % 2 == 0) {
              b[i] = berth.eventsPerSecond();
              j[i] = jackson.eventsPerSecond();
            } else {
              j[i] = jackson.eventsPerSecond();
              b[i] = berth.eventsPerSecond();
            }
          }
          String op = serialize ? "serialize" : "deserialize";
          results.record(String.format(Locale.ROOT, "serialization paired %s %s (berth-kryo, throughput, higher is better)", op, name),
              "events/s", Results.median(b), Double.NaN, "jackson-cbor", Results.median(j));
        }
      }
    }
  }

  /** Serializes (or deserializes) the events in a loop for one time slice. */
  private static final class Slice {
    private final SerializerWithStringManifest serializer;
    private final BerthEvent[] events;
    private final byte[][] bytes;
    private final String[] manifests;
    private final boolean serialize;
    private long sink;

    Slice(SerializerWithStringManifest serializer, List<BerthEvent> events, boolean serialize) {
      this.serializer = serializer;
      this.events = events.toArray(new BerthEvent[0]);
      this.serialize = serialize;
      bytes = new byte[this.events.length][];
      manifests = new String[this.events.length];
      for (int i = 0; i < this.events.length; i++) {
        bytes[i] = Serializers.checkRoundTrip(serializer, this.events[i]);
        manifests[i] = serializer.manifest(this.events[i]);
      }
    }

    double eventsPerSecond() {
      long start = System.nanoTime();
      long end = start + SLICE_NANOS;
      long done = 0;
      long now;
      try {
        do {
          for (int i = 0; i < events.length; i++) {
            if (serialize) {
              sink += serializer.manifest(events[i]).length() + serializer.toBinary(events[i]).length;
            } else {
              sink += serializer.fromBinary(bytes[i], manifests[i]).hashCode();
            }
          }
          done += events.length;
          now = System.nanoTime();
        } while (now < end);
      } catch (java.io.NotSerializableException e) {
        throw new IllegalStateException(e);
      }
      if (sink == 42) System.out.print(""); // keep the work observable
      return done * 1e9 / (now - start);
    }
  }
}
