package io.berth.bench.node;

import io.berth.bench.Results;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * 300 containers created and started through the API across the hosts of a running cluster
 * ({@code bin/berth up}, 3 hosts), a few requests at a time: total time and containers per second.
 * Baseline in the same run: as many {@code runc run -d} on this machine, the same number at a time.
 * Every container is destroyed afterwards.
 *
 * <p>{@code java -cp <benchmarks classpath> io.berth.bench.node.ManyContainersBench [count] [parallel]}
 */
public final class ManyContainersBench {
  private ManyContainersBench() {}

  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    int parallel = args.length > 1 ? Integer.parseInt(args[1]) : 6;
    Path repo = ApiStartBench.repo();
    ClusterApi api = ClusterApi.local(repo);
    Path dir = Files.createTempDirectory("berth-bench-many");
    // A container's root is an unprivileged host uid: the data root must be searchable by it (0700 is not).
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Runc runc = new Runc(dir, repo.resolve(".local/templates/busybox"));
    String run = Long.toHexString(System.nanoTime() & 0xffffff);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) names.add("many-" + run + "-" + i);

    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      long t0 = System.nanoTime();
      all(pool, names, name -> api.createAndStart(name, "0.01", "16M"));
      double berthSeconds = (System.nanoTime() - t0) / 1e9;
      all(pool, names, api::destroy);

      long r0 = System.nanoTime();
      all(pool, names, runc::start);
      double runcSeconds = (System.nanoTime() - r0) / 1e9;
      all(pool, names, runc::delete);

      Results results = new Results("node-many");
      results.record("runc run -d x" + count + " (" + parallel + " at a time)", "s", runcSeconds, Double.NaN, null, Double.NaN);
      results.record("berth API create+start x" + count + " across the cluster (" + parallel + " at a time)", "s", berthSeconds,
          Double.NaN, "runc run -d x" + count, runcSeconds);
      results.record("berth containers per second", "1/s", count / berthSeconds, Double.NaN, "runc containers per second",
          count / runcSeconds);
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
      Runc.removeTree(dir);
    }
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
