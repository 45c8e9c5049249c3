package io.berth.bench.serialization;

import io.berth.bench.Results;
import io.berth.protocol.event.BerthEvent;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Berth's serializer against Pekko's Jackson CBOR serializer on the same events: serialize and
 * deserialize throughput (events per second, single thread), and bytes per event. Run with
 *
 * <pre>
 * mvn -q -pl protocol install -DskipTests
 * mvn -q -pl benchmarks compile exec:exec -Dexec.executable=java \
 *   -Dexec.args="-cp %classpath io.berth.bench.serialization.SerializationBenchmark"
 * </pre>
 *
 * JMH options may follow the class name (defaults: -wi 3 -w 1s -i 5 -r 1s -f 1). Figures are printed and
 * appended to {@code benchmarks/results/serialization.jsonl}, each with Jackson CBOR as its baseline.
 * After JMH, {@link PairedRun} measures both again in alternating slices, a cross-check that holds up
 * when other processes load the machine (skip it with {@code -Dberth.bench.skipPaired=true}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SerializationBenchmark {

  @Param({"ContainerDefined", "ContainerStarted", "LimitsChanged", "ImageTransferred", "mix"})
  public String event;

  private Serializers serializers;
  private BerthEvent[] events;
  private byte[][] berthBytes;
  private String[] berthManifests;
  private byte[][] jacksonBytes;
  private String[] jacksonManifests;

  @Setup(Level.Trial)
  public void setUp() {
    serializers = new Serializers();
    List<BerthEvent> list = BenchEvents.named(event);
    events = list.toArray(new BerthEvent[0]);
    berthBytes = new byte[events.length][];
    berthManifests = new String[events.length];
    jacksonBytes = new byte[events.length][];
    jacksonManifests = new String[events.length];
    for (int i = 0; i < events.length; i++) {
      // Both must give back an equal event, or the comparison means nothing.
      berthBytes[i] = Serializers.checkRoundTrip(serializers.berth, events[i]);
      berthManifests[i] = serializers.berth.manifest(events[i]);
      jacksonBytes[i] = Serializers.checkRoundTrip(serializers.jackson, events[i]);
      jacksonManifests[i] = serializers.jackson.manifest(events[i]);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    serializers.close();
  }

  // One operation is one event: a parameter with several events serializes them all and counts each.

  @Benchmark
  public void berthSerialize(Blackhole bh) {
    serialize(serializers.berth, bh);
  }

  @Benchmark
  public void jacksonCborSerialize(Blackhole bh) {
    serialize(serializers.jackson, bh);
  }

  @Benchmark
  public void berthDeserialize(Blackhole bh) throws Exception {
    deserialize(serializers.berth, berthBytes, berthManifests, bh);
  }

  @Benchmark
  public void jacksonCborDeserialize(Blackhole bh) throws Exception {
    deserialize(serializers.jackson, jacksonBytes, jacksonManifests, bh);
  }

  private void serialize(SerializerWithStringManifest s, Blackhole bh) {
    for (BerthEvent e : events) {
      bh.consume(s.manifest(e));
      bh.consume(s.toBinary(e));
    }
  }

  private static void deserialize(SerializerWithStringManifest s, byte[][] bytes, String[] manifests, Blackhole bh) throws Exception {
    for (int i = 0; i < bytes.length; i++) bh.consume(s.fromBinary(bytes[i], manifests[i]));
  }

  // --- running and recording ---------------------------------------------------------------------

  public static void main(String[] args) throws Exception {
    CommandLineOptions cli = new CommandLineOptions(args);
    Options options = new OptionsBuilder()
        .parent(cli)
        .include(SerializationBenchmark.class.getName() + "\\.")
        .build();
    Collection<RunResult> runs = new Runner(options).run();
    record(runs);
    if (!Boolean.getBoolean("berth.bench.skipPaired")) PairedRun.run(new Results("serialization"));
  }

  /** Per event: serialize and deserialize throughput (Berth vs Jackson CBOR), then bytes per event. */
  static void record(Collection<RunResult> runs) {
    Results results = new Results("serialization");
    Map<String, double[]> medians = new LinkedHashMap<>();
    for (RunResult r : runs) {
      String method = r.getParams().getBenchmark().substring(r.getParams().getBenchmark().lastIndexOf('.') + 1);
      String ev = r.getParams().getParam("event");
      double perOp = BenchEvents.named(ev).size();
      var stats = r.getPrimaryResult().getStatistics();
      // Iteration scores are operations/s; an operation covers every event of the parameter.
      medians.put(method + "/" + ev, new double[] {stats.getPercentile(50) * perOp});
    }
    for (String ev : BenchEvents.NAMES) {
      for (String op : List.of("Serialize", "Deserialize")) {
        double[] berth = medians.get("berth" + op + "/" + ev);
        double[] jackson = medians.get("jacksonCbor" + op + "/" + ev);
        if (berth == null || jackson == null) continue;
        // Throughput: the ratio is higher-is-better. No p99: the samples are 1 s iteration means.
        results.record("serialization " + op.toLowerCase(Locale.ROOT) + " " + ev + " (berth-kryo, throughput, higher is better)",
            "events/s", berth[0], Double.NaN, "jackson-cbor", jackson[0]);
      }
    }
    try (Serializers s = new Serializers()) {
      for (String ev : BenchEvents.NAMES) {
        List<BerthEvent> events = BenchEvents.named(ev);
        double berthBytes = 0;
        double jacksonBytes = 0;
        for (BerthEvent e : events) {
          berthBytes += s.berth.toBinary(e).length;
          jacksonBytes += s.jackson.toBinary(e).length;
        }
        results.record("serialization size " + ev + " (berth-kryo, bytes per event, lower is better)", "bytes",
            berthBytes / events.size(), Double.NaN, "jackson-cbor", jacksonBytes / events.size());
      }
    }
  }
}
