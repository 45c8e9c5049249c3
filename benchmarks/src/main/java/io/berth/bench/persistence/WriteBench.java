package io.berth.bench.persistence;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.berth.bench.Results;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.serialization.BerthEventCodec;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Persisted events per second from 100 concurrent entities (each one persist at a time, as an entity handling one
 * command after another does), and the latency of one persist: under that load and alone. The baseline, in the same
 * run on the same node: raw CQL inserts of the same bytes with the same consistency from 100 concurrent writers
 * (what Cassandra itself gives), so the ratio is the cost of the journal plugin, tags and the hash chain.
 *
 * <p>Run from the repository root: {@code mvn -q -o -pl benchmarks compile dependency:build-classpath
 * -Dmdep.outputFile=target/cp.txt && java -cp benchmarks/target/classes:$(cat benchmarks/target/cp.txt)
 * io.berth.bench.persistence.WriteBench [eventsPerEntity] [group|periodic]}. {@code group} (the default) is the embedded node as Berth runs it: a write is acknowledged once
 * fsynced. {@code periodic} is Cassandra's own default (fsync every 10 s), for comparison only: it loses acknowledged
 * writes when the node is killed.
 */
public final class WriteBench {
  static final int ENTITIES = 100;
  static final long TIME_LIMIT_SECONDS = 120;

  public static void main(String[] args) throws Exception {
    int perEntity = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    String sync = args.length > 1 ? args[1] : "group";
    String mode = " (commit log " + sync + ")";
    Results results = new Results("persistence-write");
    try (BenchNode bench = new BenchNode("1g", sync)) {
      List<ActorRef<BenchHostEntity.Command>> hosts = new ArrayList<>();
      for (int i = 0; i < ENTITIES; i++) hosts.add(bench.spawn(bench.host("w" + i), 0));
      ExecutorService pool = Executors.newFixedThreadPool(ENTITIES);
      try {
        run(pool, hosts, bench, 30); // warm-up: JIT, prepared statements, tag writers
        long t0 = System.nanoTime();
        double[] latencies = run(pool, hosts, bench, perEntity);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double throughput = latencies.length / seconds;

        double[] alone = new double[1000];
        ActorRef<BenchHostEntity.Command> single = hosts.get(0);
        for (int i = 0; i < alone.length; i++) {
          long s = System.nanoTime();
          bench.append(single, 1).toCompletableFuture().get(30, TimeUnit.SECONDS);
          alone[i] = BenchNode.millis(System.nanoTime() - s);
        }

        Raw raw = raw(bench, pool, perEntity);
        System.out.printf(Locale.ROOT, "%d events from %d entities in %.2f s%n", latencies.length, ENTITIES, seconds);
        results.record("persist throughput, 100 entities (higher is better)" + mode, "events/s", throughput, Double.NaN,
            "raw CQL insert, 100 writers", raw.throughput);
        results.record("persist latency under 100-entity load" + mode, "ms", Results.median(latencies), Results.percentile(latencies, 99),
            "raw CQL insert under load", Results.median(raw.latencies));
        results.record("persist latency, one entity alone" + mode, "ms", Results.median(alone), Results.percentile(alone, 99),
            "raw CQL insert alone", Results.median(raw.alone));
        System.out.printf(Locale.ROOT, "target >= 5000 events/s: %s%n", throughput >= 5000 ? "met" : "NOT met");
      } finally {
        pool.shutdownNow();
      }
    }
  }

  /** Every entity persists {@code perEntity} events one at a time; returns each persist's latency in ms. */
  static double[] run(ExecutorService pool, List<ActorRef<BenchHostEntity.Command>> hosts, BenchNode bench, int perEntity) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIME_LIMIT_SECONDS);
    List<Future<double[]>> futures = new ArrayList<>();
    for (ActorRef<BenchHostEntity.Command> host : hosts) {
      futures.add(pool.submit(() -> {
        double[] l = new double[perEntity];
        for (int i = 0; i < perEntity && System.nanoTime() < deadline; i++) {
          long s = System.nanoTime();
          bench.append(host, 1).toCompletableFuture().get(30, TimeUnit.SECONDS);
          l[i] = BenchNode.millis(System.nanoTime() - s);
        }
        return l;
      }));
    }
    List<Double> all = new ArrayList<>();
    for (Future<double[]> f : futures) for (double d : f.get()) if (d > 0) all.add(d);
    return all.stream().mapToDouble(Double::doubleValue).toArray();
  }

  record Raw(double throughput, double[] latencies, double[] alone) {}

  /** The same number of inserts of a real event's bytes, straight through the driver. */
  static Raw raw(BenchNode bench, ExecutorService pool, int perEntity) throws Exception {
    byte[] bytes = BerthEventCodec.toBytes(new HostEvent.HostCordoned(
        new CommandContext("bench", "persistence benchmark", "bench").meta(Instant.now(), "0".repeat(64))));
    try (CqlSession session = bench.rawSession()) {
      session.execute("CREATE KEYSPACE IF NOT EXISTS berth_bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
      session.execute("CREATE TABLE IF NOT EXISTS berth_bench.raw_events (pid text, seq bigint, event blob, PRIMARY KEY ((pid), seq))");
      PreparedStatement insert = session.prepare("INSERT INTO berth_bench.raw_events (pid, seq, event) VALUES (?, ?, ?)");
      List<Future<double[]>> futures = new ArrayList<>();
      for (int i = 0; i < 30; i++) session.execute(insert.bind("warm", (long) i, ByteBuffer.wrap(bytes)).setConsistencyLevel(ConsistencyLevel.QUORUM));
      long t0 = System.nanoTime();
      for (int e = 0; e < ENTITIES; e++) {
        String pid = "raw-" + bench.runId + "-" + e;
        futures.add(pool.submit(() -> {
          double[] l = new double[perEntity];
          for (int i = 0; i < perEntity; i++) {
            long s = System.nanoTime();
            session.execute(insert.bind(pid, (long) i, ByteBuffer.wrap(bytes)).setConsistencyLevel(ConsistencyLevel.QUORUM));
            l[i] = BenchNode.millis(System.nanoTime() - s);
          }
          return l;
        }));
      }
      List<Double> all = new ArrayList<>();
      for (Future<double[]> f : futures) for (double d : f.get()) all.add(d);
      double throughput = all.size() / ((System.nanoTime() - t0) / 1e9);
      double[] alone = new double[1000];
      for (int i = 0; i < alone.length; i++) {
        long s = System.nanoTime();
        session.execute(insert.bind("alone-" + bench.runId, (long) i, ByteBuffer.wrap(bytes)).setConsistencyLevel(ConsistencyLevel.QUORUM));
        alone[i] = BenchNode.millis(System.nanoTime() - s);
      }
      return new Raw(throughput, all.stream().mapToDouble(Double::doubleValue).toArray(), alone);
    }
  }
}
