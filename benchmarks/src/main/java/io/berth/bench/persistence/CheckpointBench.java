package io.berth.bench.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import io.berth.bench.Results;
import io.berth.persistence.audit.AuditService;
import io.berth.persistence.audit.AuditSettings;
import io.berth.persistence.audit.ChainReport;
import io.berth.persistence.audit.CheckpointSigner;
import io.berth.persistence.audit.Checkpointer;
import io.berth.protocol.ids.HostId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The cost of the signed checkpoints on a log of 10,000 events: verify against its checkpoint and the first checkpoint
 * of it (reading and hashing every row, signing 10,000 hashes), each beside verify of the same log with no checkpoint
 * and a plain CQL read of its rows, in the same run.
 *
 * <p>Run: {@code java -cp benchmarks/target/classes:$(cat benchmarks/target/cp.txt) io.berth.bench.persistence.CheckpointBench
 * [rounds]} (see WriteBench for the classpath).
 */
public final class CheckpointBench {
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Results results = new Results("persistence-checkpoints");
    Path keys = Files.createTempDirectory("berth-bench-keys-");
    try (BenchNode bench = new BenchNode("1g")) {
      AuditService audit = new AuditService(bench.system, new AuditSettings(Duration.ofMinutes(1), Duration.ZERO));
      Checkpointer checkpointer = new Checkpointer(bench.system, audit, CheckpointSigner.loadOrCreate(keys.resolve("audit"), "bench"), Clock.systemUTC());
      double[] bare = new double[rounds];
      double[] signed = new double[rounds];
      double[] first = new double[rounds];
      double[] raw = new double[rounds];
      try (CqlSession session = bench.rawSession()) {
        for (int r = -1; r < rounds; r++) { // round -1 warms up
          HostId id = bench.host("cp" + (r + 1));
          ReplayBench.fill(bench, id, 0, 10_000);
          String pid = AuditService.persistenceId(id);

          long t0 = System.nanoTime();
          ChainReport unsigned = audit.verify(pid).toCompletableFuture().get(120, TimeUnit.SECONDS);
          double b = BenchNode.millis(System.nanoTime() - t0);
          if (!(unsigned instanceof ChainReport.Intact ok) || ok.events() != 10_000) throw new IllegalStateException(pid + ": " + unsigned);

          t0 = System.nanoTime();
          Checkpointer.Outcome outcome = checkpointer.checkpoint(pid).toCompletableFuture().get(120, TimeUnit.SECONDS);
          double f = BenchNode.millis(System.nanoTime() - t0);
          if (!(outcome instanceof Checkpointer.Outcome.Signed)) throw new IllegalStateException(pid + ": " + outcome);

          t0 = System.nanoTime();
          ChainReport checked = audit.verify(pid).toCompletableFuture().get(120, TimeUnit.SECONDS);
          double s = BenchNode.millis(System.nanoTime() - t0);
          if (!(checked instanceof ChainReport.Intact ok2) || ok2.signedUpTo() != 10_000) throw new IllegalStateException(pid + ": " + checked);

          t0 = System.nanoTime();
          ReplayBench.rawRead(session, pid, 10_000);
          double rr = BenchNode.millis(System.nanoTime() - t0);
          if (r >= 0) {
            bare[r] = b;
            signed[r] = s;
            first[r] = f;
            raw[r] = rr;
          }
        }
      }
      results.record("verify of 10000 events against their signed checkpoint", "ms", Results.median(signed), Results.percentile(signed, 99),
          "verify of the same log without a checkpoint", Results.median(bare));
      results.record("first checkpoint of 10000 events (read, hash, sign, write)", "ms", Results.median(first), Results.percentile(first, 99),
          "raw CQL read of the rows", Results.median(raw));
    }
  }
}
