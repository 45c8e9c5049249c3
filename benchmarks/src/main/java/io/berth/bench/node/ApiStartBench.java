package io.berth.bench.node;

import io.berth.bench.Results;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Create + start of one container through the REST API, until the API answers (the init runs and the
 * events are durable in Cassandra), against {@code runc run -d} of the same rootfs, interleaved in one run.
 *
 * <p>Needs a running cluster ({@code bin/berth up}) and root (for runc):
 * {@code java -cp <benchmarks classpath> io.berth.bench.node.ApiStartBench [iterations]}.
 */
public final class ApiStartBench {
  private ApiStartBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    Path repo = repo();
    ClusterApi api = ClusterApi.local(repo);
    Path dir = Files.createTempDirectory("berth-bench-api");
    // A container's root is an unprivileged host uid: the data root must be searchable by it (0700 is not).
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    try {
      run(api, new Runc(dir, repo.resolve(".local/templates/busybox")), n);
    } finally {
      Runc.removeTree(dir);
    }
  }

  private static void run(ClusterApi api, Runc runc, int n) throws Exception {
    int warmup = Math.max(3, n / 10);
    double[] berth = new double[n];
    double[] baseline = new double[n];
    String run = Long.toHexString(System.nanoTime() & 0xffffff);
    for (int i = -warmup; i < n; i++) {
      String name = "bench-" + run + "-" + (i + warmup);
      long t0 = System.nanoTime();
      api.createAndStart(name, "0.1", "32M");
      long t1 = System.nanoTime();
      api.destroy(name);
      long r0 = System.nanoTime();
      runc.start(name);
      long r1 = System.nanoTime();
      runc.delete(name);
      if (i >= 0) {
        berth[i] = (t1 - t0) / 1e6;
        baseline[i] = (r1 - r0) / 1e6;
      }
    }
    Results results = new Results("node-api-start");
    double runcMedian = Results.median(baseline);
    results.record("runc run -d sleep (init up)", "ms", runcMedian, Results.percentile(baseline, 99), null, Double.NaN);
    results.record("berth API create+start until running and durable", "ms", Results.median(berth), Results.percentile(berth, 99),
        "runc run -d sleep", runcMedian);
  }

  static Path repo() {
    return ClusterApi.repo();
  }
}
