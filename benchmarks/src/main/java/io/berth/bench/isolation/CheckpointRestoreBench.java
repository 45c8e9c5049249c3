package io.berth.bench.isolation;

import io.berth.bench.Results;
import io.berth.isolation.IsolationLayer;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Checkpoint + restore of a running busybox container (a shell counting in memory), through
 * Berth ({@code checkpoint(leaveRunning=false)} then {@code restore}) against the raw commands on
 * an identical container in the same run: {@code criu dump} + {@code criu restore} with the same
 * flags (-v4 log, --tcp-established, --root, detached, pidfile). Both containers have loopback
 * only, so no veth is re-created (the raw baseline has no way to do that without extra steps).
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
      Path criu = layer.config().criu();
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
        Files.createDirectories(rawImages);
        Path pidfile = rawImages.resolve("restore.pid");
        long r0 = System.nanoTime();
        // The least raw CRIU needs for the same hardened container: its LXCFS binds declared external (FUSE cannot
        // be dumped), and the images readable by the user namespace's root group (CRIU's restored task reads some
        // after it has taken that root).
        List<String> points = lxcfsPoints(rawPid);
        long base = Long.parseLong(Files.readString(Path.of("/proc", Integer.toString(rawPid), "uid_map")).trim().split("\\s+")[1]);
        List<String> dump = new ArrayList<>(List.of(criu.toString(), "dump", "-t", Integer.toString(rawPid), "-D", rawImages.toString(),
            "-o", "dump.log", "-v4", "--tcp-established"));
        for (String p : points) dump.addAll(List.of("--external", "mnt[" + p + "]:" + p));
        run(dump);
        long rm = System.nanoTime();
        run(List.of("chown", "-R", "0:" + base, rawImages.toString()));
        run(List.of("chmod", "-R", "g+rX", rawImages.toString()));
        List<String> restore = new ArrayList<>(List.of(criu.toString(), "restore", "-D", rawImages.toString(), "-o", "restore.log", "-v4",
            "--root", rawRoot.toString(), "--restore-detached", "--pidfile", pidfile.toString(), "--tcp-established"));
        Path lxcfs = layer.config().dataRoot().resolve("lxcfs/mount");
        for (String p : points) restore.addAll(List.of("--external", "mnt[" + p + "]:" + lxcfs + p));
        run(restore);
        long r1 = System.nanoTime();
        rawPid = Integer.parseInt(Files.readString(pidfile).strip());
        if (i >= 0) {
          berthMs[i] = BenchHost.ms(t1 - t0);
          rawMs[i] = BenchHost.ms(r1 - r0);
          berthDump[i] = BenchHost.ms(tm - t0);
          berthRestore[i] = BenchHost.ms(t1 - tm);
          rawDump[i] = BenchHost.ms(rm - r0);
          rawRestore[i] = BenchHost.ms(r1 - rm);
        }
        deleteTree(images);
        deleteTree(rawImages);
      }
      // The raw restore's init is nobody's child but init's: end it before the layer destroys the rest.
      new ProcessBuilder("kill", "-9", Integer.toString(rawPid)).start().waitFor();
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

  /** The container's mount points of LXCFS files (fuse.lxcfs), from its init's mountinfo. */
  private static List<String> lxcfsPoints(int pid) throws IOException {
    List<String> points = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "mountinfo"))) {
      int dash = line.indexOf(" - ");
      if (dash > 0 && line.substring(dash + 3).startsWith("fuse.lxcfs ")) points.add(line.split(" ")[4]);
    }
    return points;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var s = Files.walk(dir)) {
      List<Path> all = new ArrayList<>(s.toList());
      java.util.Collections.reverse(all);
      for (Path p : all) Files.deleteIfExists(p);
    }
  }

  private static void run(List<String> argv) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(argv).redirectInput(Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(argv + " timed out");
    }
    if (p.exitValue() != 0) throw new IllegalStateException(String.join(" ", argv) + " exited " + p.exitValue() + " (see its log)");
  }
}
