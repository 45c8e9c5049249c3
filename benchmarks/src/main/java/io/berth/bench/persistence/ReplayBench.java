package io.berth.bench.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.berth.bench.Results;
import io.berth.protocol.ids.HostId;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Recovery of one entity with 100,000 events: without snapshots (every event replayed through the fold) and with
 * snapshots every 10,000 events (the latest snapshot loaded, the events after it replayed). Events per second =
 * 100,000 / recovery time. Baseline in the same run: reading the same 100,000 rows with plain CQL (what the plugin's
 * replay cannot beat), so the ratio shows the cost of deserializing and folding.
 *
 * <p>Run: {@code java -cp benchmarks/target/classes:$(cat benchmarks/target/cp.txt) io.berth.bench.persistence.ReplayBench
 * [events] [rounds]} (see WriteBench for the classpath).
 */
public final class ReplayBench {
  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Results results = new Results("persistence-replay");
    try (BenchNode bench = new BenchNode("1g")) {
      HostId plain = bench.host("replay");
      HostId snapshotted = bench.host("replay-snap");
      double writeSeconds = fill(bench, plain, 0, events);
      fill(bench, snapshotted, 10_000, events);
      System.out.printf(Locale.ROOT, "wrote %d events (batches of 100) in %.1f s: %.0f events/s%n", events, writeSeconds, events / writeSeconds);

      // The journal's tag recovery re-reads, at every recovery, the events after the entity's last saved tag-scanning
      // point (saved every events-by-tag.scanning-flush-interval, 30 s), even when a snapshot covers them. Wait past
      // it so the recovery measured is that of a log at rest, as after a node restart, not of one written seconds ago.
      long flush = bench.system.settings().config().getDuration("pekko.persistence.cassandra.events-by-tag.scanning-flush-interval").toMillis();
      Thread.sleep(flush + 5_000);
      recover(bench, plain, 0, events); // warm-up
      double[] withoutMs = new double[rounds];
      double[] withMs = new double[rounds];
      double[] rawMs = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        withoutMs[r] = recover(bench, plain, 0, events);
        withMs[r] = recover(bench, snapshotted, 10_000, events);
      }
      try (CqlSession session = bench.rawSession()) {
        rawRead(session, "host|" + plain.value(), events);
        for (int r = 0; r < rounds; r++) rawMs[r] = rawRead(session, "host|" + plain.value(), events);
      }
      double raw = Results.median(rawMs);
      results.record("recover " + events + " events, no snapshot", "ms", Results.median(withoutMs), Results.percentile(withoutMs, 99),
          "raw CQL read of the rows", raw);
      results.record("recover " + events + " events, snapshot every 10000", "ms", Results.median(withMs), Results.percentile(withMs, 99),
          "raw CQL read of the rows", raw);
      double rate = events / (Results.median(withoutMs) / 1000);
      results.record("replay rate, no snapshot (higher is better)", "events/s", rate, Double.NaN,
          "raw CQL row read rate", events / (raw / 1000));
      results.record("replay rate, with snapshots (higher is better)", "events/s", events / (Results.median(withMs) / 1000), Double.NaN,
          "raw CQL row read rate", events / (raw / 1000));
      System.out.printf(Locale.ROOT, "target >= 50000 events/s replay: %s (no snapshot: %.0f events/s)%n", rate >= 50_000 ? "met" : "NOT met", rate);
    }
  }

  /** Writes {@code events} events to one entity in atomic batches of 100; returns seconds. */
  static double fill(BenchNode bench, HostId id, int snapshotEvery, int events) throws Exception {
    ActorRef<BenchHostEntity.Command> host = bench.spawn(id, snapshotEvery);
    long t0 = System.nanoTime();
    for (int written = 0; written < events; written += 100) {
      bench.append(host, Math.min(100, events - written)).toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    host.tell(new BenchHostEntity.Stop());
    return seconds;
  }

  /** Starts a fresh instance of the entity and times it until it answers (recovery done); returns ms. */
  static double recover(BenchNode bench, HostId id, int snapshotEvery, int events) throws Exception {
    long t0 = System.nanoTime();
    ActorRef<BenchHostEntity.Command> host = bench.spawn(id, snapshotEvery);
    long seq = bench.ready(host).toCompletableFuture().get(180, TimeUnit.SECONDS);
    double ms = BenchNode.millis(System.nanoTime() - t0);
    host.tell(new BenchHostEntity.Stop());
    if (seq != events) throw new IllegalStateException(id + " recovered to sequence number " + seq + ", expected " + events);
    return ms;
  }

  /** Reads every row of the entity's first partition with plain CQL (the same page size as a replay); returns ms. */
  static double rawRead(CqlSession session, String pid, int events) {
    long t0 = System.nanoTime();
    ResultSet rs = session.execute(SimpleStatement.builder(
            "SELECT sequence_nr, ser_id, ser_manifest, event FROM berth_journal.messages WHERE persistence_id = ? AND partition_nr = 0")
        .addPositionalValues(pid).setPageSize(5000).build());
    long n = 0;
    long bytes = 0;
    for (Row row : rs) {
      n++;
      bytes += row.getByteBuffer("event").remaining();
    }
    if (n != events) throw new IllegalStateException("raw read of " + pid + " saw " + n + " rows, expected " + events + " (" + bytes + " bytes)");
    return BenchNode.millis(System.nanoTime() - t0);
  }
}
