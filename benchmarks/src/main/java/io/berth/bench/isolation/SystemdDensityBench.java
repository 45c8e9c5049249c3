package io.berth.bench.isolation;

import io.berth.bench.ProcMemory;
import io.berth.bench.Results;
import io.berth.isolation.IsolationConfig;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * N Debian 12 system containers booted on one host, one after another, each until {@code systemctl
 * is-system-running} says running; then, once all N are idle, what they cost the host. The baseline, same run, the
 * same N through LXC ({@link Lxc}: privileged, overlay on the same template).
 *
 * <p>Figures: the time to boot all N and each boot's time (create to running, the N-th among N-1 others); per idle
 * container, the drop of the host's MemAvailable (everything it costs: its processes, kernel memory, its tmpfs and
 * writable layer's page cache, Berth's shim or LXC's monitor) and the PSS of its own processes (every process in
 * its pid namespace and the init's parent: Berth's shim, LXC's monitor).
 *
 * <p>Run as root after {@code bin/berth up} built {@code .local/templates/debian-12}, with a fixed heap so the
 * benchmark's own JVM does not move MemAvailable: {@code java -Xms256m -Xmx256m -XX:+AlwaysPreTouch -cp <classpath>
 * io.berth.bench.isolation.SystemdDensityBench [count] [settle-seconds]}.
 */
public final class SystemdDensityBench {
  private SystemdDensityBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int settle = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    if (n < 1 || n > 500) throw new IllegalArgumentException("count must be 1-500: " + n);
    Path template = IsolationConfig.repo().orElseThrow().resolve(".local/templates/debian-12");
    if (!Files.isDirectory(template)) throw new IllegalStateException(template + " is missing: run bin/berth up (it builds it)");
    Lxc.requireInstalled();
    Results results = new Results("systemd-density");
    try (BenchHost host = new BenchHost()) {
      Path lxcDir = host.dir.resolve("lxc");
      Files.createDirectories(lxcDir);

      // One boot of each first, gone before anything is measured: the layer's first start also starts its LXCFS and
      // imports the template; LXC's first reads the template from the disk.
      ContainerId warm = ContainerId.of("bench-dn-" + host.run + "-warm");
      host.layer.prepare(new ContainerSpec(warm, TemplateRef.of("debian-12"), null, List.of(), Limits.DEFAULT, null, null, null), null);
      host.layer.start(warm);
      SystemdBootBench.awaitRunning(() -> host.layer.exec(warm, List.of("systemctl", "is-system-running"), Duration.ofSeconds(10)).stdout().strip(),
          "berth " + warm);
      host.layer.destroy(warm);
      Lxc.start(lxcDir, "bench-dn-warm", template);
      SystemdBootBench.awaitRunning(() -> Lxc.isSystemRunning(lxcDir, "bench-dn-warm"), "lxc bench-dn-warm");
      Lxc.destroy(lxcDir, "bench-dn-warm");
      Thread.sleep(settle * 1000L);

      // Berth.
      long memBefore = ProcMemory.memAvailableKb();
      double[] berthBoot = new double[n];
      List<Integer> berthInits = new ArrayList<>();
      long b0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        ContainerId id = ContainerId.of("bench-dn-" + host.run + "-" + i);
        long t = System.nanoTime();
        host.layer.prepare(new ContainerSpec(id, TemplateRef.of("debian-12"), null, List.of(), Limits.DEFAULT, null, null, null), null);
        long prepared = System.nanoTime();
        berthInits.add(host.layer.start(id));
        long started = System.nanoTime();
        SystemdBootBench.awaitRunning(() -> host.layer.exec(id, List.of("systemctl", "is-system-running"), Duration.ofSeconds(10)).stdout().strip(),
            "berth " + id, () -> host.layer.exec(id, List.of("sh", "-c", "systemctl --failed --no-pager; journalctl -b -p warning --no-pager | tail -30"),
                Duration.ofSeconds(20)).stdout());
        berthBoot[i] = (System.nanoTime() - t) / 1e6;
        if (i % 10 == 0 || i == n - 1) {
          System.out.printf("berth %d: prepare %.0f ms, start to READY=1 %.0f ms, then to running %.0f ms%n", i, (prepared - t) / 1e6,
              (started - prepared) / 1e6, berthBoot[i] - (started - t) / 1e6);
        }
      }
      double berthAll = (System.nanoTime() - b0) / 1e9;
      Thread.sleep(settle * 1000L);
      double berthHostKb = (memBefore - ProcMemory.memAvailableKb()) / (double) n;
      double berthPssKb = medianPss(berthInits);
      System.out.printf("berth: %d booted in %.1f s; per container: host %.0f KiB, own processes %.0f KiB (median PSS)%n", n, berthAll, berthHostKb, berthPssKb);
      for (var c : host.layer.list()) host.layer.destroy(c.id());
      Thread.sleep(settle * 1000L);

      // LXC, the same count.
      memBefore = ProcMemory.memAvailableKb();
      double[] lxcBoot = new double[n];
      List<Integer> lxcInits = new ArrayList<>();
      long l0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        String name = "bench-dn-" + i;
        long t = System.nanoTime();
        Lxc.start(lxcDir, name, template);
        SystemdBootBench.awaitRunning(() -> Lxc.isSystemRunning(lxcDir, name), "lxc " + name);
        lxcBoot[i] = (System.nanoTime() - t) / 1e6;
        if (i % 10 == 0 || i == n - 1) System.out.printf("lxc %d: start to running %.0f ms%n", i, lxcBoot[i]);
        lxcInits.add(Lxc.initPid(lxcDir, name));
      }
      double lxcAll = (System.nanoTime() - l0) / 1e9;
      Thread.sleep(settle * 1000L);
      double lxcHostKb = (memBefore - ProcMemory.memAvailableKb()) / (double) n;
      double lxcPssKb = medianPss(lxcInits);
      System.out.printf("lxc:   %d booted in %.1f s; per container: host %.0f KiB, own processes %.0f KiB (median PSS)%n", n, lxcAll, lxcHostKb, lxcPssKb);
      for (int i = 0; i < n; i++) Lxc.destroy(lxcDir, "bench-dn-" + i);

      String base = "lxc-start privileged overlay";
      results.record(n + " booted one after another: all", "s", berthAll, Double.NaN, base, lxcAll);
      results.record(n + " booted: each boot, create to running", "ms", Results.median(berthBoot), Results.percentile(berthBoot, 99), base,
          Results.median(lxcBoot));
      results.record(n + " idle booted: host MemAvailable drop per container", "KiB", berthHostKb, Double.NaN, base, lxcHostKb);
      results.record(n + " idle booted: own processes' PSS per container (median)", "KiB", berthPssKb, Double.NaN, base, lxcPssKb);
    }
  }

  /** The median over containers of the PSS of every process in the init's pid namespace plus the init's parent. */
  private static double medianPss(List<Integer> inits) throws IOException {
    java.util.Map<Path, Long> byNamespace = new java.util.HashMap<>();
    java.util.Map<Path, Integer> parentOf = new java.util.HashMap<>();
    for (int init : inits) {
      Path ns = Files.readSymbolicLink(Path.of("/proc", Integer.toString(init), "ns/pid"));
      byNamespace.put(ns, 0L);
      parentOf.put(ns, parent(init));
    }
    try (var s = Files.list(Path.of("/proc"))) {
      for (Path p : s.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        try {
          Path ns = Files.readSymbolicLink(p.resolve("ns/pid"));
          if (byNamespace.containsKey(ns)) byNamespace.merge(ns, ProcMemory.pssKb(p), Long::sum);
        } catch (IOException gone) {
          // exited meanwhile
        }
      }
    }
    double[] each = new double[inits.size()];
    int i = 0;
    for (var e : byNamespace.entrySet()) each[i++] = e.getValue() + ProcMemory.pssKb(Path.of("/proc", Integer.toString(parentOf.get(e.getKey()))));
    return Results.median(each);
  }

  private static int parent(int pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
    return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
  }
}
