package io.berth.bench.isolation;

import io.berth.bench.Results;
import io.berth.isolation.ContainerExit;
import io.berth.isolation.NetworkAttachment;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Container start latency, end to end, against two baselines measured in the same run on the same
 * busybox rootfs:
 * <ul>
 *   <li>{@code runc run} (Debian's runc; its own namespaces incl. net, cgroups, /proc, /dev);
 *   <li>a raw shell script: overlay mount + unshare(1) of pid, mount, uts, ipc, net + pivot_root.
 * </ul>
 * Berth's figure is prepare (overlay, cgroup with limits, net namespace with loopback) + start.
 * "true" figures run {@code /bin/true} until it has exited; "up" figures start a long-running
 * {@code sleep} and stop the clock when the start call returns (the init has exec'd). A Berth
 * figure with a veth on a bridge is printed too (runc's default config has no veth).
 *
 * <p>Run as root: {@code java -cp <classpath> io.berth.bench.isolation.StartLatencyBench [iterations]}
 * (see the isolation-layer README for the exact command).
 */
public final class StartLatencyBench {
  private StartLatencyBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 40;
    int warmup = Math.max(3, n / 8);
    Results results = new Results("isolation-start");
    try (BenchHost host = new BenchHost()) {
      Path template = host.template();
      Path bundle = runcBundle(host, template);
      Path runc = Path.of("/usr/sbin/runc");
      BlockingQueue<ContainerExit> exits = new LinkedBlockingQueue<>();
      host.layer.onExit(exits::add);
      host.layer.ensureBridge(host.bridge, "198.18.254.1/24");

      double[] berthTrue = new double[n];
      double[] berthUp = new double[n];
      double[] berthVeth = new double[n];
      double[] runcTrue = new double[n];
      double[] runcUp = new double[n];
      double[] rawTrue = new double[n];
      // Interleaved, so drift on a shared machine hits every contender alike.
      for (int i = -warmup; i < n; i++) {
        int k = i + warmup;
        // Berth: /bin/true until the exit event arrives.
        ContainerId id = ContainerId.of("bench-t-" + host.run + "-" + k);
        exits.clear();
        long t0 = System.nanoTime();
        host.layer.prepare(spec(id, "/bin/true"), null);
        host.layer.start(id);
        ContainerExit exit = exits.poll(10, TimeUnit.SECONDS);
        long t1 = System.nanoTime();
        if (exit == null || exit.exitCode().orElse(-1) != 0) throw new IllegalStateException("berth /bin/true: " + exit);
        host.layer.destroy(id);
        // Berth: a long-running init is up.
        ContainerId up = ContainerId.of("bench-u-" + host.run + "-" + k);
        long t2 = System.nanoTime();
        host.layer.prepare(spec(up, "/bin/sleep", "1000"), null);
        host.layer.start(up);
        long t3 = System.nanoTime();
        host.layer.destroy(up);
        // Berth with a veth on the bridge.
        ContainerId net = ContainerId.of("bench-n-" + host.run + "-" + k);
        long t4 = System.nanoTime();
        host.layer.prepare(spec(net, "/bin/sleep", "1000"), new NetworkAttachment("198.18.254.10", 24, "198.18.254.1", host.bridge));
        host.layer.start(net);
        long t5 = System.nanoTime();
        host.layer.destroy(net);
        // runc run /bin/true (foreground: returns when it exited and runc cleaned up).
        long r0 = System.nanoTime();
        run(List.of(runc.toString(), "run", "--bundle", bundle.toString(), "rt" + host.run + k));
        long r1 = System.nanoTime();
        // runc run -d sleep: returns once the container's process runs.
        Path upBundle = bundle.resolveSibling("bundle-up");
        long r2 = System.nanoTime();
        run(List.of(runc.toString(), "run", "-d", "--bundle", upBundle.toString(), "ru" + host.run + k));
        long r3 = System.nanoTime();
        run(List.of(runc.toString(), "delete", "-f", "ru" + host.run + k));
        // raw script: overlay + unshare + pivot_root + exec /bin/true.
        Path scratch = host.dir.resolve("raw-" + k);
        long s0 = System.nanoTime();
        run(List.of("/bin/sh", "-c", RAW, "raw", template.toString(), scratch.toString()));
        long s1 = System.nanoTime();
        run(List.of("/bin/sh", "-c", "umount " + scratch + "/root && rm -rf " + scratch));
        if (i >= 0) {
          berthTrue[i] = BenchHost.ms(t1 - t0);
          berthUp[i] = BenchHost.ms(t3 - t2);
          berthVeth[i] = BenchHost.ms(t5 - t4);
          runcTrue[i] = BenchHost.ms(r1 - r0);
          runcUp[i] = BenchHost.ms(r3 - r2);
          rawTrue[i] = BenchHost.ms(s1 - s0);
        }
      }
      double runcTrueMedian = Results.median(runcTrue);
      double runcUpMedian = Results.median(runcUp);
      results.record("runc run /bin/true until exit", "ms", runcTrueMedian, Results.percentile(runcTrue, 99), null, Double.NaN);
      results.record("raw script (overlay+unshare+pivot_root) /bin/true", "ms", Results.median(rawTrue), Results.percentile(rawTrue, 99),
          "runc run /bin/true", runcTrueMedian);
      results.record("berth prepare+start /bin/true until exit", "ms", Results.median(berthTrue), Results.percentile(berthTrue, 99),
          "runc run /bin/true", runcTrueMedian);
      results.record("berth prepare+start /bin/true vs raw script", "ms", Results.median(berthTrue), Results.percentile(berthTrue, 99),
          "raw script /bin/true", Results.median(rawTrue));
      results.record("runc run -d sleep (init up)", "ms", runcUpMedian, Results.percentile(runcUp, 99), null, Double.NaN);
      results.record("berth prepare+start sleep (init up)", "ms", Results.median(berthUp), Results.percentile(berthUp, 99),
          "runc run -d sleep", runcUpMedian);
      results.record("berth prepare+start sleep with veth (init up)", "ms", Results.median(berthVeth), Results.percentile(berthVeth, 99),
          "runc run -d sleep", runcUpMedian);
    }
  }

  /** The raw baseline: what any container start must do at least, as plain tools. */
  private static final String RAW = String.join("\n",
      "set -e",
      "t=$1; d=$2",
      "mkdir -p $d/upper $d/work $d/root",
      "mount -t overlay overlay -o lowerdir=$t,upperdir=$d/upper,workdir=$d/work $d/root",
      "exec unshare --pid --mount --uts --ipc --net --fork /bin/sh -c \"mount --make-rprivate / && cd $d/root"
          + " && mount -t proc proc proc && mount -t tmpfs tmpfs dev && pivot_root . . && umount -l . && exec /bin/true\"");

  private static ContainerSpec spec(ContainerId id, String... command) {
    return new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of(command), Limits.DEFAULT, null, null, null);
  }

  /** A runc bundle on the same template: `runc spec`, made non-interactive, read-only root. */
  private static Path runcBundle(BenchHost host, Path template) throws IOException {
    Path bundle = host.dir.resolve("bundle");
    for (Path b : List.of(bundle, host.dir.resolve("bundle-up"))) {
      Files.createDirectories(b);
      run(List.of("/usr/sbin/runc", "spec", "--bundle", b.toString()));
      String json = Files.readString(b.resolve("config.json"))
          .replace("\"terminal\": true", "\"terminal\": false")
          .replace("\"path\": \"rootfs\"", "\"path\": \"" + template + "\"")
          .replace("\"readonly\": true", "\"readonly\": true");
      String args = b.equals(bundle) ? "\"/bin/true\"" : "\"/bin/sleep\", \"1000\"";
      json = json.replaceFirst("\"args\": \\[\\s*\"sh\"\\s*\\]", "\"args\": [" + args + "]");
      Files.writeString(b.resolve("config.json"), json);
    }
    return bundle;
  }

  /** Runs a tool with stdio away from this JVM (a detached container must not hold our pipes). */
  private static void run(List<String> argv) {
    try {
      Process p = new ProcessBuilder(argv).redirectInput(Redirect.from(new java.io.File("/dev/null")))
          .redirectOutput(Redirect.DISCARD).redirectError(Redirect.INHERIT).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(argv + " timed out");
      }
      if (p.exitValue() != 0) throw new IllegalStateException(argv + " exited " + p.exitValue());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
