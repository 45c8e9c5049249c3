package io.berth.bench.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.bench.ProcMemory;
import io.berth.bench.Results;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Density on one host: {@code count} idle busybox containers created and started through the API, all pinned to
 * one host of a running cluster ({@code bin/berth up}), {@code serving} of them running busybox httpd and each
 * answering an HTTP GET from this machine. Reports the time to create them all, the host node's RSS and thread
 * count before and after, and the host memory each container costs beyond its own processes (the drop of
 * MemAvailable less the PSS of the processes in the containers' cgroups, per container). Baseline in the same run:
 * as many {@code runc run -d} of the same rootfs, measured the same way. Everything is destroyed afterwards.
 *
 * <p>{@code java -cp <benchmarks classpath> io.berth.bench.node.DensityBench [count] [serving] [parallel]}
 */
public final class DensityBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration BOUND = Duration.ofMinutes(20);

  private DensityBench() {}

  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int serving = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int parallel = args.length > 2 ? Integer.parseInt(args[2]) : 6;
    if (serving > count) throw new IllegalArgumentException("serving (" + serving + ") must be at most count (" + count + ")");
    Path repo = ClusterApi.repo();
    ClusterApi api = ClusterApi.local(repo);
    String host = api.get("/v1/hosts").path("items").get(0).path("id").asText();
    long nodePid = Long.parseLong(Files.readString(repo.resolve(".local/run/" + host + ".pid")).strip());
    Path cgroups = Path.of("/sys/fs/cgroup/pids/berth-" + host);
    String run = Long.toHexString(System.nanoTime() & 0xffffff);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) names.add("dense-" + run + "-" + i);
    Results results = new Results("node-density");
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      Snapshot before = Snapshot.of(nodePid, cgroups);
      long t0 = System.nanoTime();
      List<Future<?>> created = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String name = names.get(i);
        boolean web = i < serving;
        created.add(pool.submit(() -> {
          create(api, name, host, web);
          return null;
        }));
      }
      for (Future<?> f : created) f.get(BOUND.toSeconds(), TimeUnit.SECONDS);
      double createSeconds = (System.nanoTime() - t0) / 1e9;
      Thread.sleep(5000); // let the node settle (its usage report, the GC) before it is measured
      Snapshot after = Snapshot.of(nodePid, cgroups);
      int running = countRunning(api, names);
      int answered = fetchAll(api, names.subList(0, serving));

      Path dir = Files.createTempDirectory("berth-bench-density");
      Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
      Runc runc = new Runc(dir, repo.resolve(".local/templates/busybox"));
      List<String> runcIds = new ArrayList<>();
      for (int i = 0; i < count; i++) runcIds.add("dense-runc-" + run + "-" + i);
      double runcPerContainer;
      double runcSeconds;
      try {
        Snapshot rBefore = Snapshot.ofRunc();
        long r0 = System.nanoTime();
        all(pool, runcIds, runc::start);
        runcSeconds = (System.nanoTime() - r0) / 1e9;
        Thread.sleep(5000);
        Snapshot rAfter = Snapshot.ofRunc();
        runcPerContainer = beyondProcesses(rBefore, rAfter, count);
      } finally {
        all(pool, runcIds, id -> {
          try {
            runc.delete(id);
          } catch (RuntimeException e) {
            System.err.println("cleanup: runc " + id + ": " + e.getMessage());
          }
        });
        Runc.removeTree(dir);
      }

      System.out.printf("%d of %d running on %s, %d of %d answered HTTP%n", running, count, host, answered, serving);
      results.record("berth create+start x" + count + " on one host through the API (" + parallel + " at a time)", "s", createSeconds,
          Double.NaN, "runc run -d x" + count, runcSeconds);
      results.record("containers running after create (of " + count + ")", "count", running, Double.NaN, null, Double.NaN);
      results.record("containers answering HTTP (of " + serving + ")", "count", answered, Double.NaN, null, Double.NaN);
      results.record("node RSS with 0 containers", "MiB", before.rssKb() / 1024.0, Double.NaN, null, Double.NaN);
      results.record("node RSS with " + count + " containers", "MiB", after.rssKb() / 1024.0, Double.NaN, null, Double.NaN);
      results.record("node threads with 0 containers", "count", before.threads(), Double.NaN, null, Double.NaN);
      results.record("node threads with " + count + " containers", "count", after.threads(), Double.NaN, null, Double.NaN);
      results.record("host memory per container beyond its processes", "KiB", beyondProcesses(before, after, count), Double.NaN,
          "runc run -d", runcPerContainer);
      results.record("containers' own processes per container (PSS)", "KiB", (after.processesPssKb() - before.processesPssKb()) / (double) count,
          Double.NaN, null, Double.NaN);
    } finally {
      all(pool, names, name -> api.destroyQuietly(name, Duration.ofMinutes(2)));
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** MemAvailable's drop less the growth of the containers' own processes (PSS), per container, in KiB. */
  private static double beyondProcesses(Snapshot before, Snapshot after, int count) {
    long dropped = before.memAvailableKb() - after.memAvailableKb();
    long processes = after.processesPssKb() - before.processesPssKb();
    return (dropped - processes) / (double) count;
  }

  private static void create(ClusterApi api, String name, String host, boolean web) throws IOException, InterruptedException {
    ObjectNode body = JSON.createObjectNode();
    body.put("name", name).put("template", "busybox").put("start", true);
    var command = body.putArray("command");
    if (web) {
      command.add("/bin/sh").add("-c").add("echo " + name + " > /tmp/index.html && exec httpd -f -p 80 -h /tmp");
    } else {
      command.add("/bin/sleep").add("100000");
    }
    // Small caps, the default guarantee (16M): 1,000 of them fit a 2-core 24G host at the default overcommit.
    body.putObject("limits").put("cpu", "0.25").put("memory", "32M").put("pids", "16");
    body.putObject("placement").put("host", host);
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (true) {
      ClusterApi.Answer a = api.call("POST", "/v1/containers", body, Duration.ofSeconds(60));
      if (a.status() == 201) return;
      if (!a.retryable() || System.nanoTime() > deadline) throw new IllegalStateException("create " + name + ": HTTP " + a.status() + " " + a.text());
      Thread.sleep(200);
    }
  }

  private static int countRunning(ClusterApi api, List<String> names) throws IOException, InterruptedException {
    java.util.Set<String> wanted = new java.util.HashSet<>(names);
    int running = 0;
    for (JsonNode c : api.get("/v1/containers").path("items")) {
      if (wanted.contains(c.path("id").asText()) && c.path("phase").asText().equals("running")) running++;
    }
    return running;
  }

  /** GET / of each serving container from this machine; counts those that answer with their own name. */
  private static int fetchAll(ClusterApi api, List<String> names) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    int answered = 0;
    for (String name : names) {
      String address = api.get("/v1/containers/" + name).path("address").asText().split("/")[0];
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + address + "/index.html")).timeout(Duration.ofSeconds(5))
            .GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().strip().equals(name)) answered++;
        else System.err.println(name + " at " + address + ": HTTP " + r.statusCode() + " " + r.body().strip());
      } catch (IOException e) {
        System.err.println(name + " at " + address + ": " + e);
      }
    }
    return answered;
  }

  interface Task {
    void run(String name) throws Exception;
  }

  private static void all(ExecutorService pool, List<String> names, Task task) throws Exception {
    List<Future<?>> fs = new ArrayList<>();
    for (String n : names) fs.add(pool.submit(() -> {
      task.run(n);
      return null;
    }));
    for (Future<?> f : fs) f.get(BOUND.toSeconds(), TimeUnit.SECONDS);
  }

  /**
   * The machine's MemAvailable, the node's RSS and threads, and the PSS of every process in the given cgroups
   * (each container's own processes), in KiB.
   */
  record Snapshot(long memAvailableKb, long rssKb, long threads, long processesPssKb) {
    static Snapshot of(long nodePid, Path containerCgroups) throws IOException {
      String status = Files.readString(Path.of("/proc", Long.toString(nodePid), "status"));
      return new Snapshot(ProcMemory.memAvailableKb(), ProcMemory.field(status, "VmRSS:"), ProcMemory.field(status, "Threads:"), pssUnder(containerCgroups));
    }

    /** runc puts each container in cgroups named by its id (dense-runc-...): their processes are found by that name. */
    static Snapshot ofRunc() throws IOException {
      long pss = 0;
      try (var procs = Files.list(Path.of("/proc"))) {
        for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
          try {
            if (Files.readString(p.resolve("cgroup")).contains("dense-runc-")) pss += ProcMemory.pssKb(p);
          } catch (IOException gone) {
            // exited meanwhile
          }
        }
      }
      return new Snapshot(ProcMemory.memAvailableKb(), 0, 0, pss);
    }

    private static long pssUnder(Path cgroups) throws IOException {
      if (!Files.isDirectory(cgroups)) return 0;
      long total = 0;
      try (var dirs = Files.list(cgroups)) {
        for (Path cg : dirs.filter(Files::isDirectory).toList()) {
          List<String> pids;
          try {
            pids = Files.readAllLines(cg.resolve("cgroup.procs"));
          } catch (IOException gone) {
            continue;
          }
          for (String pid : pids) {
            try {
              total += ProcMemory.pssKb(Path.of("/proc", pid.strip()));
            } catch (IOException gone) {
              // exited meanwhile
            }
          }
        }
      }
      return total;
    }
  }
}
