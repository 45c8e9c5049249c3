package io.berth.bench.cli;

import com.typesafe.config.ConfigFactory;
import io.berth.bench.Results;
import io.berth.node.api.ApiServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * The CLI's own cost: wall time of {@code berth ct list} through {@code bin/berth-cli} (a JVM with its AppCDS
 * archive) against a running API, beside {@code curl -s} of the same URL and {@code java -version} (the JVM's
 * floor), all in the same run and interleaved so they share the machine's noise. Target: 0.3 s median.
 *
 * <p>The API is the real routes bound on 127.0.0.1 over {@link ListOnlyOperations} (20 running containers), so
 * the figure is the CLI's and not the cluster's. Needs {@code cluster-node/target/cli-lib} (mvn package).
 *
 * <pre>mvn -q -pl benchmarks exec:java -Dexec.mainClass=io.berth.bench.cli.CliCostBenchmark [-Dexec.args="ROUNDS"]</pre>
 */
public final class CliCostBenchmark {
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(30);

  private CliCostBenchmark() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    if (rounds < 1 || rounds > 500) throw new IllegalArgumentException("ROUNDS must be 1-500 (got " + rounds + ")");
    Path repo = repo();
    Path launcher = repo.resolve("bin/berth-cli");
    if (!Files.isExecutable(launcher)) throw new IllegalStateException(launcher + " is missing or not executable");
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "cli-bench", ConfigFactory.parseString(
        "pekko.actor.provider = local\npekko.loglevel = WARNING").withFallback(ConfigFactory.defaultReference()));
    try {
      ServerBinding binding = ApiServer.start(system, new ListOnlyOperations(20), "127.0.0.1", 0)
          .toCompletableFuture().get(20, TimeUnit.SECONDS);
      String url = "http://127.0.0.1:" + binding.localAddress().getPort();
      Map<String, String> env = Map.of("BERTH_API", url);
      List<String> cli = List.of(launcher.toString(), "ct", "list");
      List<String> curl = List.of("curl", "-s", "-f", url + "/v1/containers");
      List<String> javaVersion = List.of("java", "-version");

      // The first run builds the CDS archive when it is missing or stale; check the output once.
      String first = run(cli, env, true);
      if (!first.contains("web-19") || !first.startsWith("NAME")) throw new IllegalStateException("berth ct list printed: " + first);
      run(curl, env, false);
      run(javaVersion, env, false);

      double[] cliMs = new double[rounds];
      double[] curlMs = new double[rounds];
      double[] javaMs = new double[rounds];
      for (int i = 0; i < rounds; i++) {
        cliMs[i] = timed(cli, env);
        curlMs[i] = timed(curl, env);
        javaMs[i] = timed(javaVersion, env);
      }
      Results results = new Results("cli");
      double cliMedian = Results.median(cliMs);
      double curlMedian = Results.median(curlMs);
      double javaMedian = Results.median(javaMs);
      results.record("cli: berth ct list (bin/berth-cli, 20 containers)", "ms", cliMedian, Results.percentile(cliMs, 99), "curl -s", curlMedian);
      results.record("cli: berth ct list over the JVM floor", "ms", cliMedian, Results.percentile(cliMs, 99), "java -version", javaMedian);
      results.record("cli: java -version (JVM floor)", "ms", javaMedian, Results.percentile(javaMs, 99), "curl -s", curlMedian);
      System.out.printf("berth ct list median %.1f ms (target 300 ms): %s%n", cliMedian, cliMedian <= 300 ? "met" : "NOT met");
      binding.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  private static double timed(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    run(command, env, false);
    return (System.nanoTime() - t0) / 1e6;
  }

  /** Runs {@code command} to the end (bounded), failing on a non-zero exit; returns stdout when asked. */
  private static String run(List<String> command, Map<String, String> env, boolean capture) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(false);
    pb.environment().putAll(env);
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    if (!capture) pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    String out = capture ? new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8) : "";
    if (!p.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish within " + RUN_TIMEOUT);
    }
    if (p.exitValue() != 0) throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue());
    return out;
  }

  private static Path repo() {
    String env = System.getenv("BERTH_REPO");
    Path p = env != null && !env.isBlank() ? Path.of(env) : Path.of("").toAbsolutePath();
    if (p.getFileName() != null && p.getFileName().toString().equals("benchmarks")) p = p.getParent();
    return p;
  }
}
