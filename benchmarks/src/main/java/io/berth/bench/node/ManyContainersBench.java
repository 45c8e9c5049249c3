package io.berth.bench.node;

import com.fasterxml.jackson.databind.JsonNode;
import io.berth.bench.Results;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * 300 containers created and started through the API across the hosts of a running cluster
 * ({@code bin/berth up}, 3 hosts), a few requests at a time: total time and containers per second; then the same
 * containers destroyed through the API, as many at a time. Baseline in the same run: as many {@code runc run -d}
 * on this machine, then as many {@code runc delete -f}, the same number at a time. Then the control plane alone: as
 * many created without a start (placement, the directory's and the entity's writes, the shard's allocation and the new
 * entity's recovery, no kernel work) and destroyed.
 *
 * <p>Where a create's time goes, from the client's clock and the container's own events (the local cluster's hosts
 * share this machine's clock), for every tenth container: {@code to define} from the request until the entity took
 * the define ({@code ReservationAccepted}: the API, the directory's placement and its write, the shard's allocation
 * and the new entity's recovery), {@code kernel start} from there until the start's outcome was handled
 * ({@code ContainerStarted}: the define's write and the isolation layer's start on the host), {@code to answer} from
 * there until the client had its answer (the outcome's write, the directory's answer, HTTP).
 *
 * <p>The machine's cpu spent per create+start, split by process (see {@link CpuMeter}), against runc's per run: the
 * throughput the cores allow whatever the concurrency.
 *
 * <p>{@code java -cp <benchmarks classpath> io.berth.bench.node.ManyContainersBench [count] [parallel]}
 */
public final class ManyContainersBench {
  private ManyContainersBench() {}

  private static final List<String> PHASES = List.of("to define", "kernel start", "to answer");

  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    int parallel = args.length > 1 ? Integer.parseInt(args[1]) : 6;
    Path repo = ApiStartBench.repo();
    ClusterApi api = ClusterApi.local(repo);
    Path dir = Files.createTempDirectory("berth-bench-many");
    // A container's root is an unprivileged host uid: the data root must be searchable by it (0700 is not).
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    // runc refuses a rootfs path through a symlink (a worktree's .local may be one).
    Runc runc = new Runc(dir, repo.resolve(".local/templates/busybox").toRealPath());
    String run = Long.toHexString(System.nanoTime() & 0xffffff);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) names.add("many-" + run + "-" + i);

    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    Map<String, Instant[]> asked = new ConcurrentHashMap<>();
    boolean destroyed = false;
    try {
      CpuMeter.Reading cpu0 = CpuMeter.read();
      long t0 = System.nanoTime();
      all(pool, names, name -> {
        Instant sent = Instant.now();
        api.createAndStart(name, "0.01", "16M");
        asked.put(name, new Instant[] {sent, Instant.now()});
      });
      double berthSeconds = (System.nanoTime() - t0) / 1e9;
      CpuMeter.Spent berthCpu = CpuMeter.between(cpu0, CpuMeter.read()).per(count);
      System.out.printf("berth create+start x%d (%d at a time): %.2f s, %.1f/s%n", count, parallel, berthSeconds, count / berthSeconds);
      Map<String, double[]> phases = phases(api, names, asked);

      long d0 = System.nanoTime();
      all(pool, names, api::destroy);
      double berthDestroySeconds = (System.nanoTime() - d0) / 1e9;
      System.out.printf("berth destroy x%d (%d at a time): %.2f s, %.1f/s%n", count, parallel, berthDestroySeconds, count / berthDestroySeconds);
      destroyed = true;

      // The control plane alone: create without start (placement, the directory's and the entity's writes, the shard's
      // allocation and the new entity's recovery; no kernel work), then destroy (nothing to undo on the kernel).
      List<String> defined = names.stream().map(n -> n.replace("many-", "def-")).toList();
      destroyed = false;
      long c0 = System.nanoTime();
      all(pool, defined, name -> api.createDefined(name, "0.01", "16M"));
      double defineSeconds = (System.nanoTime() - c0) / 1e9;
      System.out.printf("berth create (no start) x%d (%d at a time): %.2f s, %.1f/s%n", count, parallel, defineSeconds, count / defineSeconds);
      long e0 = System.nanoTime();
      all(pool, defined, api::destroy);
      double undefineSeconds = (System.nanoTime() - e0) / 1e9;
      destroyed = true;
      System.out.printf("berth destroy (never started) x%d (%d at a time): %.2f s, %.1f/s%n", count, parallel, undefineSeconds,
          count / undefineSeconds);

      CpuMeter.Reading rcpu0 = CpuMeter.read();
      long r0 = System.nanoTime();
      all(pool, names, runc::start);
      double runcSeconds = (System.nanoTime() - r0) / 1e9;
      CpuMeter.Spent runcCpu = CpuMeter.between(rcpu0, CpuMeter.read()).per(count);
      int cores = Runtime.getRuntime().availableProcessors();
      System.out.printf("cpu per create+start: berth %.0f ms (node JVMs and their helpers %.0f, Cassandra %.0f, other %.0f); runc run -d %.0f ms;"
          + " the ceiling %d cores set: berth %.1f/s, runc %.1f/s%n", berthCpu.machineMs(), berthCpu.nodeMs(), berthCpu.cassandraMs(),
          berthCpu.otherMs(), runcCpu.machineMs(), cores, cores * 1000 / berthCpu.machineMs(), cores * 1000 / runcCpu.machineMs());
      long rd0 = System.nanoTime();
      all(pool, names, runc::delete);
      double runcDeleteSeconds = (System.nanoTime() - rd0) / 1e9;
      System.out.printf("runc run -d %.2f s (%.1f/s), runc delete -f %.2f s (%.1f/s)%n", runcSeconds, count / runcSeconds, runcDeleteSeconds,
          count / runcDeleteSeconds);

      Results results = new Results("node-many");
      results.record("runc run -d x" + count + " (" + parallel + " at a time)", "s", runcSeconds, Double.NaN, null, Double.NaN);
      results.record("berth API create+start x" + count + " across the cluster (" + parallel + " at a time)", "s", berthSeconds,
          Double.NaN, "runc run -d x" + count, runcSeconds);
      results.record("berth containers per second", "1/s", count / berthSeconds, Double.NaN, "runc containers per second",
          count / runcSeconds);
      results.record("runc delete -f x" + count + " (" + parallel + " at a time)", "s", runcDeleteSeconds, Double.NaN, null, Double.NaN);
      results.record("berth API destroy x" + count + " across the cluster (" + parallel + " at a time)", "s", berthDestroySeconds,
          Double.NaN, "runc delete -f x" + count, runcDeleteSeconds);
      results.record("berth destroys per second", "1/s", count / berthDestroySeconds, Double.NaN, "runc deletes per second",
          count / runcDeleteSeconds);
      results.record("berth API create (no start) x" + count + " (" + parallel + " at a time): the control plane alone", "1/s",
          count / defineSeconds, Double.NaN, null, Double.NaN);
      results.record("berth API destroy of never-started containers x" + count + " (" + parallel + " at a time)", "1/s",
          count / undefineSeconds, Double.NaN, null, Double.NaN);
      results.record("machine cpu per create+start", "ms", berthCpu.machineMs(), Double.NaN, "machine cpu per runc run -d", runcCpu.machineMs());
      results.record("node JVMs' cpu (with their helpers) per create+start", "ms", berthCpu.nodeMs(), Double.NaN, null, Double.NaN);
      results.record("Cassandra's cpu per create+start", "ms", berthCpu.cassandraMs(), Double.NaN, null, Double.NaN);
      results.record("other cpu per create+start (client, shims, kernel threads, other work)", "ms", berthCpu.otherMs(), Double.NaN, null,
          Double.NaN);
      results.record("create+start throughput the machine's cpu allows (" + cores + " cores)", "1/s", cores * 1000 / berthCpu.machineMs(),
          Double.NaN, "runc run -d throughput the cpu allows", cores * 1000 / runcCpu.machineMs());
      for (var e : phases.entrySet()) {
        results.record("berth create+start " + e.getKey() + " (every tenth container)", "ms", Results.median(e.getValue()),
            Results.percentile(e.getValue(), 99), null, Double.NaN);
      }
    } finally {
      if (!destroyed) {
        for (String name : names) api.destroyQuietly(name, java.time.Duration.ofSeconds(30));
        for (String name : names) api.destroyQuietly(name.replace("many-", "def-"), java.time.Duration.ofSeconds(30));
      }
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
      Runc.removeTree(dir);
    }
  }

  /** The split of every tenth create (see the class comment), in milliseconds, from the container's history. */
  private static Map<String, double[]> phases(ClusterApi api, List<String> names, Map<String, Instant[]> asked) throws Exception {
    List<String> sample = new ArrayList<>();
    for (int i = 0; i < names.size(); i += 10) sample.add(names.get(i));
    Map<String, double[]> out = new LinkedHashMap<>();
    PHASES.forEach(p -> out.put(p, new double[sample.size()]));
    out.put("whole", new double[sample.size()]);
    for (int i = 0; i < sample.size(); i++) {
      String name = sample.get(i);
      Instant accepted = null;
      Instant started = null;
      JsonNode page = api.get("/v1/containers/" + name + "/history?limit=100");
      for (JsonNode e : page.path("items")) {
        String type = e.path("type").asText();
        if (type.equals("ReservationAccepted") && accepted == null) accepted = Instant.parse(e.path("at").asText());
        if (type.equals("ContainerStarted") && started == null) started = Instant.parse(e.path("at").asText());
      }
      if (accepted == null || started == null) {
        throw new IllegalStateException("container " + name + ": its history lacks ReservationAccepted or ContainerStarted: " + page);
      }
      Instant[] t = asked.get(name);
      System.out.println("sample " + name + " sent=" + t[0] + " accepted=" + accepted + " started=" + started + " answered=" + t[1]);
      out.get("to define")[i] = millis(t[0], accepted);
      out.get("kernel start")[i] = millis(accepted, started);
      out.get("to answer")[i] = millis(started, t[1]);
      out.get("whole")[i] = millis(t[0], t[1]);
    }
    for (var e : out.entrySet()) {
      System.out.printf("create+start %-12s median %7.1f ms  p99 %7.1f ms%n", e.getKey(), Results.median(e.getValue()),
          Results.percentile(e.getValue(), 99));
    }
    return out;
  }

  private static double millis(Instant from, Instant to) {
    return java.time.Duration.between(from, to).toNanos() / 1e6;
  }

  interface Step {
    void run(String name) throws Exception;
  }

  private static void all(ExecutorService pool, List<String> names, Step step) throws Exception {
    List<Future<?>> futures = new ArrayList<>();
    for (String name : names) {
      futures.add(pool.submit(() -> {
        step.run(name);
        return null;
      }));
    }
    for (Future<?> f : futures) f.get(10, TimeUnit.MINUTES);
  }
}
