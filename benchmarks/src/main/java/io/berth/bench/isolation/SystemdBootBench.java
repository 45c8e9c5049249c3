package io.berth.bench.isolation;

import io.berth.bench.Results;
import io.berth.isolation.IsolationConfig;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Boot time of a Debian 12 system container, from create to {@code systemctl is-system-running} answering
 * {@code running}, against {@code lxc-start} of the same root filesystem (Debian's lxc package, LXC 5.0) in the
 * same run, interleaved.
 *
 * <p>Berth: prepare (overlay on the debian-12 template, user namespace, disk image, cgroups, net namespace) + start
 * (returns on systemd's READY=1) + exec of is-system-running until it says running. LXC: a container whose rootfs
 * is an overlay of the same template directory ({@code lxc.rootfs.path = overlay:...}), {@code lxc-start -d}, then
 * {@code lxc-attach -- systemctl is-system-running} until running; privileged (no idmap: LXC would need the
 * template shifted or an idmapped lower layer, which its overlay backend does not make), so the baseline is the
 * cheaper of the two setups. Each poll is one exec (Berth) or attach (LXC); both poll every 20 ms.
 *
 * <p>Run as root after {@code bin/berth up} built {@code .local/templates/debian-12}:
 * {@code java -cp <classpath> io.berth.bench.isolation.SystemdBootBench [iterations]}.
 */
public final class SystemdBootBench {
  private static final Duration BOUND = Duration.ofSeconds(60);

  private SystemdBootBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    Path template = IsolationConfig.repo().orElseThrow().resolve(".local/templates/debian-12");
    if (!Files.isDirectory(template)) throw new IllegalStateException(template + " is missing: run bin/berth up (it builds it)");
    Lxc.requireInstalled();
    Results results = new Results("systemd-boot");
    try (BenchHost host = new BenchHost()) {
      Path lxcDir = host.dir.resolve("lxc");
      double[] berth = new double[n];
      double[] lxc = new double[n];
      for (int i = -1; i < n; i++) { // one warm-up round of each
        ContainerId id = ContainerId.of("bench-sd-" + host.run + "-" + (i + 1));
        long t0 = System.nanoTime();
        host.layer.prepare(new ContainerSpec(id, TemplateRef.of("debian-12"), null, List.of(), Limits.DEFAULT, null, null, null), null);
        host.layer.start(id);
        awaitRunning(() -> host.layer.exec(id, List.of("systemctl", "is-system-running"), Duration.ofSeconds(10)).stdout().strip(), "berth " + id);
        long t1 = System.nanoTime();
        host.layer.destroy(id);

        String name = "bench-sd-" + (i + 1);
        long t2 = System.nanoTime();
        Lxc.start(lxcDir, name, template);
        awaitRunning(() -> Lxc.isSystemRunning(lxcDir, name), "lxc " + name);
        long t3 = System.nanoTime();
        Lxc.destroy(lxcDir, name);
        if (i < 0) continue;
        berth[i] = (t1 - t0) / 1e6;
        lxc[i] = (t3 - t2) / 1e6;
        System.out.printf("round %d: berth %.0f ms, lxc-start %.0f ms%n", i, berth[i], lxc[i]);
      }
      double b = Results.median(berth);
      double l = Results.median(lxc);
      System.out.printf("create to running: berth median %.0f ms (p99 %.0f), lxc-start %.0f ms (p99 %.0f), ratio %.2f%n",
          b, Results.percentile(berth, 99), l, Results.percentile(lxc, 99), b / l);
      results.record("create-to-running", "ms", b, Results.percentile(berth, 99), "lxc-start privileged overlay", l);
    }
  }

  /** Polls {@code state} (is-system-running) every 20 ms until it says running; bounded, failing on degraded. */
  static void awaitRunning(java.util.function.Supplier<String> state, String what) throws InterruptedException {
    awaitRunning(state, what, () -> "");
  }

  /** As above; {@code diagnosis} (the failed units, say) is added to the failure. */
  static void awaitRunning(java.util.function.Supplier<String> state, String what, java.util.function.Supplier<String> diagnosis)
      throws InterruptedException {
    long deadline = System.nanoTime() + BOUND.toNanos();
    String s = "";
    while (System.nanoTime() < deadline) {
      s = state.get();
      if (s.equals("running")) return;
      if (s.equals("degraded")) throw new IllegalStateException(what + ": booted degraded, not running\n" + diagnosis.get());
      Thread.sleep(20);
    }
    throw new IllegalStateException(what + ": is-system-running said '" + s + "', not running, within " + BOUND + "\n" + diagnosis.get());
  }
}
