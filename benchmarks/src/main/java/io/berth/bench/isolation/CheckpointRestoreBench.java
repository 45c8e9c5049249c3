package io.berth.bench.isolation;

import io.berth.bench.Results;
import io.berth.isolation.IsolationLayer;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Path;
import java.util.List;

/**
 * Checkpoint + restore of a running busybox container (a shell counting in memory), through
 * Berth ({@code checkpoint(leaveRunning=false)} then {@code restore}) against the raw commands on
 * an identical container in the same run: {@code criu dump} + {@code criu restore} with the same
 * flags ({@link RawCriu}). Both containers have loopback only, so no veth is re-created (the raw
 * baseline has no way to do that without extra steps).
 *
 * <p>Run as root: {@code java -cp <classpath> io.berth.bench.isolation.CheckpointRestoreBench [iterations]}.
 */
public final class CheckpointRestoreBench {
  private static final String COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; usleep 50000; done";

  private CheckpointRestoreBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int warmup = 2;
    Results results = new Results("isolation-checkpoint");
    try (BenchHost host = new BenchHost()) {
      IsolationLayer layer = host.layer;
      RawCriu rawCriu = new RawCriu(layer);
      ContainerId berth = ContainerId.of("bench-cr-" + host.run);
      ContainerId raw = ContainerId.of("bench-raw-" + host.run);
      layer.prepare(spec(berth), null);
      layer.prepare(spec(raw), null);
      layer.start(berth);
      int rawPid = layer.start(raw);
      Path rawRoot = layer.inspect(raw).rootfs();
      Thread.sleep(300);

      double[] berthMs = new double[n];
      double[] rawMs = new double[n];
      double[] berthDump = new double[n];
      double[] berthRestore = new double[n];
      double[] rawDump = new double[n];
      double[] rawRestore = new double[n];
      for (int i = -warmup; i < n; i++) {
        int k = i + warmup;
        Path images = host.dir.resolve("berth-images-" + k);
        long t0 = System.nanoTime();
        layer.checkpoint(berth, images, false);
        long tm = System.nanoTime();
        layer.restore(berth, images);
        long t1 = System.nanoTime();

        Path rawImages = host.dir.resolve("raw-images-" + k);
        RawCriu.Round round = rawCriu.dumpAndRestore(rawPid, rawRoot, rawImages);
        rawPid = round.pid();
        if (i >= 0) {
          berthMs[i] = BenchHost.ms(t1 - t0);
          rawMs[i] = round.frozenMs();
          berthDump[i] = BenchHost.ms(tm - t0);
          berthRestore[i] = BenchHost.ms(t1 - tm);
          rawDump[i] = round.dumpMs();
          rawRestore[i] = round.restoreMs();
        }
        BenchHost.deleteTree(images);
        BenchHost.deleteTree(rawImages);
      }
      RawCriu.end(rawPid);
      double rawMedian = Results.median(rawMs);
      results.record("raw criu dump + criu restore (busybox shell)", "ms", rawMedian, Results.percentile(rawMs, 99), null, Double.NaN);
      results.record("raw criu dump", "ms", Results.median(rawDump), Results.percentile(rawDump, 99), null, Double.NaN);
      results.record("berth checkpoint (leaveRunning=false)", "ms", Results.median(berthDump), Results.percentile(berthDump, 99),
          "raw criu dump", Results.median(rawDump));
      results.record("raw criu restore", "ms", Results.median(rawRestore), Results.percentile(rawRestore, 99), null, Double.NaN);
      results.record("berth restore", "ms", Results.median(berthRestore), Results.percentile(berthRestore, 99),
          "raw criu restore", Results.median(rawRestore));
      results.record("berth checkpoint + restore (busybox shell)", "ms", Results.median(berthMs), Results.percentile(berthMs, 99),
          "raw criu dump + restore", rawMedian);
    }
  }

  private static ContainerSpec spec(ContainerId id) {
    return new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of("/bin/sh", "-c", COUNTER), Limits.DEFAULT, null, null, null);
  }
}
