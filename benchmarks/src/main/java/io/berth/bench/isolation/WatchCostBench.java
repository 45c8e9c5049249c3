package io.berth.bench.isolation;

import io.berth.bench.Results;
import io.berth.isolation.ContainerExit;
import io.berth.isolation.NetworkAttachment;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an idle container costs its host: N busybox containers ({@code /bin/sleep}) started directly through the
 * isolation layer on one host, against N {@code runc run -d} of the same rootfs in the same run (Debian's runc,
 * its default config: pid, mount, uts, ipc and net namespaces with loopback only, cgroups; no user namespace, no
 * disk image, the rootfs read-only and shared).
 *
 * <p>For each contender and each N, with the host settled before and after (a GC, a pause, medians of five
 * samples): the JVM's threads (ThreadMXBean and /proc/self/task) and RSS; the host's tasks (the total of
 * /proc/loadavg: every process and thread, kernel threads included); MemAvailable; the containers' processes' PSS
 * (/proc/PID/smaps_rollup: Berth's shim and init, runc's container process); and from those the host memory per
 * container beyond its own processes (MemAvailable's drop less the PSS, per container; for Berth that includes the
 * node's own growth, the JVM's RSS and LXCFS's, shown apart too); the kernel's share from /proc/meminfo (Slab,
 * KernelStack, PageTables, Percpu); mount table lines of the host; start latency of the first and last tenth
 * (what grows with N). Berth's containers are loopback-only like runc's unless {@code veth} is given (then a
 * veth each on a bridge with a /22: 1,021 addresses).
 *
 * <p>Run as root: {@code java -cp <classpath> io.berth.bench.isolation.WatchCostBench [counts, default 200,500]
 * [veth]}. Figures go to {@code results/isolation-density.jsonl}.
 */
public final class WatchCostBench {
  private static final String RUNC = "/usr/sbin/runc";
  private static final Pattern RUNC_PID = Pattern.compile("\"id\":\"([^\"]+)\",\"pid\":(\\d+)");

  private WatchCostBench() {}

  public static void main(String[] args) throws Exception {
    int[] counts = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(Integer::parseInt).toArray() : new int[] {200, 500};
    boolean veth = Arrays.asList(args).contains("veth");
    Results results = new Results("isolation-density");
    try (BenchHost host = new BenchHost()) {
      Path template = host.template();
      Path bundle = runcBundle(host.dir.resolve("runc-bundle"), template);
      Set<ContainerId> exited = ConcurrentHashMap.newKeySet();
      host.layer.onExit((ContainerExit e) -> exited.add(e.id()));
      String gateway = "198.19.236.1";
      if (veth) host.layer.ensureBridge(host.bridge, gateway + "/22");
      int netns = netNamespaces();
      for (int n : counts) {
        settle(netns);
        Cost r = runc(host, bundle, n);
        settle(netns);
        Cost b = berth(host, n, veth, gateway, exited);
        report(results, n, veth, b, r);
      }
      settle(netns);
    }
  }

  /** What one contender's N containers cost. */
  private record Cost(List<Snapshot> steps, int batch, double[] startMs, double destroyMs, long pssKiB, long rssKiB, int processes,
      long lxcfsKiB, double[] scans) {
    Snapshot before() {
      return steps.get(0);
    }

    Snapshot after() {
      return steps.get(steps.size() - 1);
    }

    double perContainer(double total) {
      return total / startMs.length;
    }

    /** The median over the batches of what {@code f} grew by per container started in the batch. */
    double medianPerContainer(java.util.function.ToDoubleFunction<Snapshot> f) {
      double[] d = new double[steps.size() - 1];
      for (int k = 1; k < steps.size(); k++) d[k - 1] = (f.applyAsDouble(steps.get(k)) - f.applyAsDouble(steps.get(k - 1))) / batch;
      return Results.median(d);
    }
  }

  /** Snapshots are taken before the first start and after every tenth of them. */
  private static int batch(int n) {
    return Math.max(1, n / 10);
  }

  private static Cost runc(BenchHost host, Path bundle, int n) throws Exception {
    List<String> ids = new ArrayList<>();
    double[] start = new double[n];
    List<Snapshot> steps = new ArrayList<>(List.of(Snapshot.take()));
    try {
      for (int i = 0; i < n; i++) {
        String id = "wc" + host.run + "r" + i;
        long t0 = System.nanoTime();
        run(List.of(RUNC, "run", "-d", "--bundle", bundle.toString(), id));
        start[i] = BenchHost.ms(System.nanoTime() - t0);
        ids.add(id);
        if ((i + 1) % batch(n) == 0) steps.add(Snapshot.take());
      }
      Map<String, Integer> pids = runcPids();
      long pss = 0;
      long rss = 0;
      int procs = 0;
      for (String id : ids) {
        Integer pid = pids.get(id);
        if (pid == null) throw new IllegalStateException("runc list does not show " + id);
        long[] m = rollup(pid);
        pss += m[0];
        rss += m[1];
        procs++;
      }
      long t0 = System.nanoTime();
      deleteRunc(ids);
      double destroy = BenchHost.ms(System.nanoTime() - t0) / n;
      return new Cost(steps, batch(n), start, destroy, pss, rss, procs, 0, null);
    } finally {
      deleteRunc(ids);
    }
  }

  private static void deleteRunc(List<String> ids) {
    for (String id : List.copyOf(ids)) {
      try {
        run(List.of(RUNC, "delete", "-f", id));
        ids.remove(id);
      } catch (RuntimeException e) {
        System.err.println("cleanup runc " + id + ": " + e.getMessage());
      }
    }
  }

  private static Cost berth(BenchHost host, int n, boolean veth, String gateway, Set<ContainerId> exited) throws Exception {
    List<ContainerId> ids = new ArrayList<>();
    double[] start = new double[n];
    // LXCFS starts with the first unprivileged container: one is started and destroyed first so the "before"
    // holds it and the figures compare like with like (its growth with N is measured, not its start).
    ContainerId warm = ContainerId.of("wc-" + host.run + "-warm");
    host.layer.prepare(spec(warm), veth ? new NetworkAttachment("198.19.239.254", 22, gateway, host.bridge) : null);
    host.layer.start(warm);
    host.layer.destroy(warm);
    int lxcfs = host.layer.lxcfs().pid().orElseThrow(() -> new IllegalStateException("LXCFS did not start with the first container"));
    long lxcfsBefore = rollup(lxcfs)[0];
    Path someImage = host.dir.resolve("data/disks/wc-" + host.run + "-0.img");
    double[] scans = {time(io.berth.isolation.rootfs.Rootfs::mountPoints), time(() -> io.berth.isolation.disk.LoopDevices.find(someImage)), 0, 0};
    List<Snapshot> steps = new ArrayList<>(List.of(Snapshot.take()));
    try {
      for (int i = 0; i < n; i++) {
        ContainerId id = ContainerId.of("wc-" + host.run + "-" + i);
        NetworkAttachment net = veth ? new NetworkAttachment(address(i), 22, gateway, host.bridge) : null;
        long t0 = System.nanoTime();
        host.layer.prepare(spec(id), net);
        ids.add(id);
        host.layer.start(id);
        start[i] = BenchHost.ms(System.nanoTime() - t0);
        if ((i + 1) % batch(n) == 0) steps.add(Snapshot.take());
      }
      long pss = 0;
      long rss = 0;
      int procs = 0;
      for (ContainerId id : ids) {
        int init = host.layer.inspect(id).initPid();
        int shim = ppid(init);
        for (int pid : List.of(init, shim)) {
          long[] m = rollup(pid);
          pss += m[0];
          rss += m[1];
          procs++;
        }
      }
      long lxcfsGrowth = rollup(lxcfs)[0] - lxcfsBefore;
      scans[2] = time(io.berth.isolation.rootfs.Rootfs::mountPoints);
      scans[3] = time(() -> io.berth.isolation.disk.LoopDevices.find(someImage));
      // Every init's end is reported through the one exit watcher (destroy cancels the watch: it reports nothing).
      exited.clear();
      for (ContainerId id : ids) host.layer.kill(id, 9);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (exited.size() < n && System.nanoTime() < deadline) Thread.sleep(10);
      if (exited.size() < n) throw new IllegalStateException("exits reported for " + exited.size() + " of " + n + " containers within 60 s");
      long t0 = System.nanoTime();
      for (ContainerId id : List.copyOf(ids)) {
        host.layer.destroy(id);
        ids.remove(id);
      }
      double destroy = BenchHost.ms(System.nanoTime() - t0) / n;
      return new Cost(steps, batch(n), start, destroy, pss, rss, procs, lxcfsGrowth, scans);
    } finally {
      for (ContainerId id : ids) {
        try {
          host.layer.destroy(id);
        } catch (RuntimeException e) {
          System.err.println("cleanup " + id + ": " + e.getMessage());
        }
      }
    }
  }

  /**
   * Waits until the kernel has freed the network namespaces of the containers torn down before (it does so later,
   * in its netns workqueue, batched; their memory would show as a gain in the next contender's figures), bounded.
   */
  private static void settle(int netnsBefore) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    int now = netNamespaces();
    while (now > netnsBefore + 5 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      now = netNamespaces();
    }
    if (now > netnsBefore + 5) System.out.println("  (the kernel still holds " + (now - netnsBefore) + " more network namespaces after 180 s)");
  }

  /** Active objects of the kernel's net_namespace slab cache (/proc/slabinfo, root only): the host's network namespaces. */
  private static int netNamespaces() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/slabinfo"))) {
      if (line.startsWith("net_namespace ")) return Integer.parseInt(line.split("\\s+")[1]);
    }
    throw new IllegalStateException("no net_namespace in /proc/slabinfo");
  }

  /** The median of 20 timings of {@code scan}, in ms. */
  private static double time(Runnable scan) {
    double[] t = new double[20];
    for (int i = 0; i < t.length; i++) {
      long t0 = System.nanoTime();
      scan.run();
      t[i] = BenchHost.ms(System.nanoTime() - t0);
    }
    return Results.median(t);
  }

  /** 198.19.236.2 onwards in the /22 (the gateway is .236.1). */
  private static String address(int i) {
    int host = i + 2;
    return "198.19." + (236 + host / 256) + "." + (host % 256);
  }

  private static void report(Results results, int n, boolean veth, Cost b, Cost r) {
    String at = " (" + n + " idle" + (veth ? ", veth" : ", loopback only") + ")";
    String rb = "runc run -d";
    int tenth = Math.max(1, n / 10);
    results.record("berth prepare+start" + at, "ms", Results.median(b.startMs), Results.percentile(b.startMs, 99), rb, Results.median(r.startMs));
    results.record("berth start, last tenth" + at, "ms", Results.median(Arrays.copyOfRange(b.startMs, n - tenth, n)), Double.NaN,
        "berth start, first tenth", Results.median(Arrays.copyOfRange(b.startMs, 0, tenth)));
    results.record("runc start, last tenth" + at, "ms", Results.median(Arrays.copyOfRange(r.startMs, n - tenth, n)), Double.NaN,
        "runc start, first tenth", Results.median(Arrays.copyOfRange(r.startMs, 0, tenth)));
    results.record("destroy per container (stopped; runc's running)" + at, "ms", b.destroyMs, Double.NaN, "runc delete -f", r.destroyMs);
    // The host is shared: MemAvailable moves with other work too. Each tenth's drop per container, and their median.
    double bHost = -b.medianPerContainer(Snapshot::memAvailableKiB);
    double rHost = -r.medianPerContainer(Snapshot::memAvailableKiB);
    results.record("host memory per container (MemAvailable drop per container, median of 10 batches)" + at, "KiB", bHost, Double.NaN, rb,
        rHost);
    results.record("host memory per container (MemAvailable drop over the whole run / N)" + at, "KiB",
        b.perContainer(b.before().memAvailableKiB - b.after().memAvailableKiB), Double.NaN, rb,
        r.perContainer(r.before().memAvailableKiB - r.after().memAvailableKiB));
    double bPss = b.perContainer(b.pssKiB);
    double rPss = r.perContainer(r.pssKiB);
    results.record("container processes' PSS per container" + at, "KiB", bPss, Double.NaN, rb, rPss);
    results.record("host memory per container beyond its processes" + at, "KiB", bHost - bPss, Double.NaN, rb, rHost - rPss);
    double jvmRss = b.perContainer(b.after().jvmRssKiB - b.before().jvmRssKiB);
    double bKernel = 0;
    double rKernel = 0;
    for (String k : List.of("Slab", "KernelStack", "PageTables", "Percpu")) {
      bKernel += b.medianPerContainer(x -> x.meminfo.get(k));
      rKernel += r.medianPerContainer(x -> x.meminfo.get(k));
    }
    results.record("kernel memory per container (Slab+KernelStack+PageTables+Percpu, medians of 10 batches)" + at, "KiB", bKernel,
        Double.NaN, rb, rKernel);
    results.record("host memory per container, accounted (processes' PSS + kernel; Berth: + JVM RSS + LXCFS)" + at, "KiB",
        bPss + bKernel + jvmRss + b.perContainer(b.lxcfsKiB), Double.NaN, rb, rPss + rKernel);
    results.record("berth: reading /proc/self/mountinfo with " + n + " containers" + at, "ms", b.scans[2], Double.NaN, "with none",
        b.scans[0]);
    results.record("berth: LoopDevices.find (sysfs scan) with " + n + " containers" + at, "ms", b.scans[3], Double.NaN, "with none",
        b.scans[1]);
    double lxcfs = b.perContainer(b.lxcfsKiB);
    results.record("host memory per container beyond its processes, the JVM and LXCFS" + at, "KiB", bHost - bPss - jvmRss - lxcfs,
        Double.NaN, rb, rHost - rPss);
    results.record("berth JVM RSS per container" + at, "KiB", jvmRss, Double.NaN, null, Double.NaN);
    results.record("berth JVM heap used per container" + at, "KiB", b.perContainer(b.after().heapKiB - b.before().heapKiB), Double.NaN, null,
        Double.NaN);
    results.record("berth LXCFS PSS growth per container" + at, "KiB", lxcfs, Double.NaN, null, Double.NaN);
    results.record("berth JVM threads per container" + at, "threads", b.perContainer(b.after().jvmThreads - b.before().jvmThreads), Double.NaN,
        null, Double.NaN);
    results.record("berth JVM threads added" + at, "threads", b.after().jvmThreads - b.before().jvmThreads, Double.NaN, null, Double.NaN);
    results.record("host tasks per container (processes+threads, kernel's too)" + at, "tasks",
        b.perContainer(b.after().hostTasks - b.before().hostTasks), Double.NaN, rb, r.perContainer(r.after().hostTasks - r.before().hostTasks));
    results.record("processes per container" + at, "processes", b.perContainer(b.processes), Double.NaN, rb, r.perContainer(r.processes));
    results.record("berth JVM descriptors per container" + at, "fds", b.perContainer(b.after().fds - b.before().fds), Double.NaN, null,
        Double.NaN);
    results.record("host mount table lines per container" + at, "mounts", b.perContainer(b.after().mounts - b.before().mounts), Double.NaN, rb,
        r.perContainer(r.after().mounts - r.before().mounts));
    for (String k : Snapshot.KERNEL) {
      results.record("meminfo " + k + " per container (median of 10 batches)" + at, "KiB", b.medianPerContainer(x -> x.meminfo.get(k)),
          Double.NaN, rb, r.medianPerContainer(x -> x.meminfo.get(k)));
    }
    System.out.printf(Locale.ROOT, "%d containers: berth JVM threads %d -> %d (/proc/self/task %d -> %d), RSS %d -> %d MiB; host tasks %d -> %d"
            + " (runc %d -> %d); MemAvailable drop %d MiB (runc %d MiB); PSS %d MiB over %d processes (runc %d MiB over %d)%n",
        n, b.before().jvmThreads, b.after().jvmThreads, b.before().tasks, b.after().tasks, b.before().jvmRssKiB >> 10, b.after().jvmRssKiB >> 10,
        b.before().hostTasks, b.after().hostTasks, r.before().hostTasks, r.after().hostTasks,
        (b.before().memAvailableKiB - b.after().memAvailableKiB) >> 10, (r.before().memAvailableKiB - r.after().memAvailableKiB) >> 10,
        b.pssKiB >> 10, b.processes, r.pssKiB >> 10, r.processes);
    Map<String, Integer> added = diff(b.before().threadNames, b.after().threadNames);
    System.out.println("  JVM threads added with " + n + " containers running, by name: " + added);
    System.out.println("  kernel threads added with " + n + " Berth containers, by name: " + diff(b.before().kernelThreads, b.after().kernelThreads)
        + "; with " + n + " runc containers: " + diff(r.before().kernelThreads, r.after().kernelThreads));
  }

  private static Map<String, Integer> diff(Map<String, Integer> before, Map<String, Integer> after) {
    Map<String, Integer> d = new java.util.TreeMap<>();
    after.forEach((k, v) -> {
      int x = v - before.getOrDefault(k, 0);
      if (x != 0) d.put(k, x);
    });
    before.forEach((k, v) -> {
      if (!after.containsKey(k)) d.put(k, -v);
    });
    return d;
  }

  /** The host and this JVM at one moment, after a GC and a pause; memory as the median of five samples. */
  private record Snapshot(long memAvailableKiB, Map<String, Long> meminfo, int jvmThreads, int tasks, long jvmRssKiB, long heapKiB,
      int hostTasks, int mounts, Map<String, Integer> threadNames, int fds, Map<String, Integer> kernelThreads) {
    static final List<String> KERNEL = List.of("Slab", "SUnreclaim", "KernelStack", "PageTables", "Percpu");

    static Snapshot take() throws Exception {
      System.gc();
      Thread.sleep(2000);
      long[] avail = new long[5];
      Map<String, long[]> kernel = new LinkedHashMap<>();
      for (String k : KERNEL) kernel.put(k, new long[5]);
      for (int i = 0; i < 5; i++) {
        Map<String, Long> m = readMeminfo();
        avail[i] = m.get("MemAvailable");
        for (String k : KERNEL) kernel.get(k)[i] = m.get(k);
        Thread.sleep(200);
      }
      Map<String, Long> med = new LinkedHashMap<>();
      kernel.forEach((k, v) -> med.put(k, median(v)));
      Runtime rt = Runtime.getRuntime();
      String[] load = Files.readString(Path.of("/proc/loadavg")).split("\\s+");
      return new Snapshot(median(avail), med, ManagementFactory.getThreadMXBean().getThreadCount(), count("/proc/self/task"),
          status("VmRSS"), (rt.totalMemory() - rt.freeMemory()) >> 10, Integer.parseInt(load[3].split("/")[1]),
          Files.readAllLines(Path.of("/proc/self/mountinfo")).size(), liveThreadNames(), count("/proc/self/fd"), kernelThreadNames());
    }

    /** The host's kernel threads (children of kthreadd, pid 2) by name, digits taken out. */
    private static Map<String, Integer> kernelThreadNames() throws IOException {
      Map<String, Integer> names = new java.util.TreeMap<>();
      try (var procs = Files.list(Path.of("/proc"))) {
        for (Path p : procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).toList()) {
          try {
            String stat = Files.readString(p.resolve("stat"));
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (!after[1].equals("2")) continue; // ppid
            String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
            names.merge(comm.replaceAll("[0-9]+", "N"), 1, Integer::sum);
          } catch (IOException e) {
            // gone meanwhile
          }
        }
      }
      return names;
    }

    /** This JVM's threads by name, digits and pids taken out ("process reaper (pid N)" counts as one name). */
    private static Map<String, Integer> liveThreadNames() {
      Map<String, Integer> names = new java.util.TreeMap<>();
      for (Thread t : Thread.getAllStackTraces().keySet()) names.merge(t.getName().replaceAll("[0-9]+", "N"), 1, Integer::sum);
      return names;
    }

    private static long median(long[] v) {
      long[] s = v.clone();
      Arrays.sort(s);
      return s[s.length / 2];
    }
  }

  private static Map<String, Long> readMeminfo() throws IOException {
    Map<String, Long> m = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
      String[] f = line.split("\\s+");
      m.put(f[0].substring(0, f[0].length() - 1), Long.parseLong(f[1]));
    }
    return m;
  }

  private static long status(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith(field + ":")) return Long.parseLong(line.split("\\s+")[1]);
    }
    throw new IllegalStateException("no " + field + " in /proc/self/status");
  }

  private static int count(String dir) {
    try (var s = Files.list(Path.of(dir))) {
      return (int) s.count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {Pss, Rss} in KiB from /proc/PID/smaps_rollup. */
  private static long[] rollup(int pid) throws IOException {
    long pss = -1;
    long rss = -1;
    for (String line : Files.readAllLines(Path.of("/proc", pid + "/smaps_rollup"))) {
      if (line.startsWith("Pss:")) pss = Long.parseLong(line.split("\\s+")[1]);
      if (line.startsWith("Rss:")) rss = Long.parseLong(line.split("\\s+")[1]);
    }
    if (pss < 0 || rss < 0) throw new IllegalStateException("no Pss/Rss in /proc/" + pid + "/smaps_rollup");
    return new long[] {pss, rss};
  }

  private static int ppid(int pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", pid + "/status"))) {
      if (line.startsWith("PPid:")) return Integer.parseInt(line.split("\\s+")[1]);
    }
    throw new IllegalStateException("no PPid in /proc/" + pid + "/status");
  }

  private static Map<String, Integer> runcPids() throws IOException, InterruptedException {
    Process p = new ProcessBuilder(RUNC, "list", "--format", "json").redirectError(Redirect.INHERIT).start();
    String json = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("runc list failed");
    Map<String, Integer> pids = new LinkedHashMap<>();
    Matcher m = RUNC_PID.matcher(json.replace(" ", ""));
    while (m.find()) pids.put(m.group(1), Integer.parseInt(m.group(2)));
    return pids;
  }

  private static ContainerSpec spec(ContainerId id) {
    return new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "100000"), Limits.DEFAULT, null, null, null);
  }

  /** A runc bundle on the template: {@code runc spec} made non-interactive, running {@code /bin/sleep 100000}. */
  private static Path runcBundle(Path bundle, Path rootfs) throws IOException {
    Files.createDirectories(bundle);
    run(List.of(RUNC, "spec", "--bundle", bundle.toString()));
    String json = Files.readString(bundle.resolve("config.json"))
        .replace("\"terminal\": true", "\"terminal\": false")
        .replace("\"path\": \"rootfs\"", "\"path\": \"" + rootfs + "\"")
        .replaceFirst("\"args\": \\[\\s*\"sh\"\\s*\\]", "\"args\": [\"/bin/sleep\", \"100000\"]");
    Files.writeString(bundle.resolve("config.json"), json);
    return bundle;
  }

  /** Runs a tool with stdio away from this JVM (a detached container must not hold our pipes). */
  private static void run(List<String> argv) {
    try {
      Process p = new ProcessBuilder(argv).redirectInput(Redirect.from(new java.io.File("/dev/null")))
          .redirectOutput(Redirect.DISCARD).redirectError(Redirect.INHERIT).start();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(argv + " did not finish within 60 s");
      }
      if (p.exitValue() != 0) throw new IllegalStateException(argv + " exited " + p.exitValue());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
