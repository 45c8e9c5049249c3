package io.berth.bench.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.berth.bench.Results;
import io.berth.persistence.BerthTags;
import io.berth.persistence.audit.AuditEntry;
import io.berth.persistence.audit.AuditService;
import io.berth.persistence.audit.TimelinePage;
import io.berth.protocol.ids.HostId;
import java.io.Writer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Audit queries: the full history of one entity with 10,000 events (read, JSON-lines export, state at now), and a
 * one-hour cluster timeline holding 10,000 events of 50 entities. Baselines in the same run: plain CQL reads of the
 * same rows ({@code messages} for the history, {@code tag_views} for the timeline).
 *
 * <p>The entity is a host (its log and a container's are read the same way; a host's fold is simpler to drive).
 *
 * <p>Run: {@code java -cp benchmarks/target/classes:$(cat benchmarks/target/cp.txt) io.berth.bench.persistence.AuditBench
 * [rounds]} (see WriteBench for the classpath).
 */
public final class AuditBench {
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Results results = new Results("persistence-audit");
    try (BenchNode bench = new BenchNode("1g")) {
      AuditService audit = new AuditService(bench.system);
      HostId id = bench.host("audit");
      ReplayBench.fill(bench, id, 0, 10_000);
      String pid = AuditService.persistenceId(id);

      Instant since = Instant.now();
      List<CompletableFuture<Void>> writers = new ArrayList<>();
      for (int e = 0; e < 50; e++) {
        ActorRef<BenchHostEntity.Command> host = bench.spawn(bench.host("tl" + e), 0);
        writers.add(CompletableFuture.runAsync(() -> {
          for (int i = 0; i < 200; i++) bench.append(host, 1).toCompletableFuture().join();
        }));
      }
      CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get(300, TimeUnit.SECONDS);
      Thread.sleep(3000); // past the eventual-consistency delay, so the window is complete
      Instant until = Instant.now().minusSeconds(2);
      Instant hourAgo = until.minus(1, ChronoUnit.HOURS);

      double[] history = new double[rounds];
      double[] export = new double[rounds];
      double[] stateAt = new double[rounds];
      double[] timeline = new double[rounds];
      double[] rawHistory = new double[rounds];
      double[] rawTimeline = new double[rounds];
      int timelineEvents = 0;
      try (CqlSession session = bench.rawSession()) {
        for (int r = -1; r < rounds; r++) { // round -1 warms up
          long t0 = System.nanoTime();
          List<AuditEntry> all = audit.history(pid, 1).runWith(Sink.seq(), bench.system).toCompletableFuture().get(120, TimeUnit.SECONDS);
          double h = BenchNode.millis(System.nanoTime() - t0);
          if (all.size() != 10_000) throw new IllegalStateException("history of " + pid + " has " + all.size() + " events");

          t0 = System.nanoTime();
          long lines = audit.exportHistory(pid, Writer.nullWriter()).toCompletableFuture().get(120, TimeUnit.SECONDS);
          double x = BenchNode.millis(System.nanoTime() - t0);
          if (lines != 10_000) throw new IllegalStateException("export wrote " + lines + " lines");

          t0 = System.nanoTime();
          audit.hostStateAt(id, Instant.now()).toCompletableFuture().get(120, TimeUnit.SECONDS);
          double s = BenchNode.millis(System.nanoTime() - t0);

          t0 = System.nanoTime();
          int seen = 0;
          Optional<String> after = Optional.empty();
          while (true) {
            TimelinePage page = audit.timeline(hourAgo, until, after, 10_000).toCompletableFuture().get(120, TimeUnit.SECONDS);
            seen += page.entries().size();
            if (page.complete() || page.entries().isEmpty()) break;
            after = page.resumeAfter();
          }
          double tl = BenchNode.millis(System.nanoTime() - t0);
          timelineEvents = seen;

          t0 = System.nanoTime();
          ReplayBench.rawRead(session, pid, 10_000);
          double rh = BenchNode.millis(System.nanoTime() - t0);

          t0 = System.nanoTime();
          long rawRows = rawTimeline(session, hourAgo, until);
          double rt = BenchNode.millis(System.nanoTime() - t0);
          if (rawRows < seen) throw new IllegalStateException("tag_views holds " + rawRows + " rows but the timeline gave " + seen);
          if (r >= 0) {
            history[r] = h;
            export[r] = x;
            stateAt[r] = s;
            timeline[r] = tl;
            rawHistory[r] = rh;
            rawTimeline[r] = rt;
          }
        }
      }
      System.out.printf(Locale.ROOT, "timeline window %s .. %s: %d events (10,000 from 50 entities + 10,000 of the history entity)%n",
          hourAgo, until, timelineEvents);
      results.record("audit history of one entity, 10000 events", "ms", Results.median(history), Results.percentile(history, 99),
          "raw CQL read of the rows", Results.median(rawHistory));
      results.record("audit JSON-lines export, 10000 events", "ms", Results.median(export), Results.percentile(export, 99),
          "raw CQL read of the rows", Results.median(rawHistory));
      results.record("state at T, fold of 10000 events", "ms", Results.median(stateAt), Results.percentile(stateAt, 99),
          "raw CQL read of the rows", Results.median(rawHistory));
      results.record("one-hour cluster timeline, " + timelineEvents + " events", "ms", Results.median(timeline), Results.percentile(timeline, 99),
          "raw CQL read of tag_views", Results.median(rawTimeline));
    }
  }

  /** Every row of the timeline tag in the hour buckets the window touches, with plain CQL. */
  static long rawTimeline(CqlSession session, Instant since, Instant until) {
    long n = 0;
    for (long bucket = since.truncatedTo(ChronoUnit.HOURS).toEpochMilli(); bucket <= until.toEpochMilli(); bucket += 3_600_000L) {
      for (Row row : session.execute(SimpleStatement.builder(
              "SELECT timestamp, persistence_id, event FROM berth_journal.tag_views WHERE tag_name = ? AND timebucket = ?")
          .addPositionalValues(BerthTags.TIMELINE, bucket).setPageSize(5000).build())) {
        if (row.getByteBuffer("event") != null) n++;
      }
    }
    return n;
  }
}
