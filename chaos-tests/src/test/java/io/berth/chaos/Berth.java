package io.berth.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code bin/berth} as an operator would, against a local cluster of its own: its own state directory,
 * cluster name and /16 (198.19.0.0/16), so it never meets a developer's {@code berth up}. The build is not
 * repeated ({@code BERTH_NO_BUILD=1}): the test runs inside {@code mvn verify}, after the node was packaged.
 */
final class Berth {
  static final ObjectMapper JSON = new ObjectMapper();
  /** The management segment bin/berth-local-cluster gives a cluster on 198.19 (/24: the API, cluster port, Cassandra). */
  static final String MGMT = "198.18.251";

  final Path repo;
  final Path local;
  final String name;

  Berth(Path repo, Path local, String name) {
    this.repo = repo;
    this.local = local;
    this.name = name;
  }

  /** What a command printed and how it ended. */
  record Run(List<String> argv, int exit, String stdout, String stderr) {
    JsonNode json() {
      try {
        return JSON.readTree(stdout);
      } catch (IOException e) {
        throw new AssertionError("not JSON from " + argv + ": " + stdout + stderr, e);
      }
    }

    @Override
    public String toString() {
      return String.join(" ", argv) + " -> exit " + exit + "\nstdout: " + stdout + "\nstderr: " + stderr;
    }
  }

  /** {@code bin/berth ARGS}, bounded by {@code timeout}. */
  Run berth(Duration timeout, String... args) {
    List<String> argv = new ArrayList<>();
    argv.add(repo.resolve("bin/berth").toString());
    argv.addAll(List.of(args));
    return run(argv, timeout);
  }

  Run berth(String... args) {
    return berth(Duration.ofSeconds(90), args);
  }

  Run run(List<String> argv, Duration timeout) {
    try {
      ProcessBuilder pb = new ProcessBuilder(argv).directory(repo.toFile());
      Map<String, String> env = pb.environment();
      env.put("BERTH_LOCAL", local.toString());
      env.put("BERTH_CLUSTER_NAME", name);
      env.put("BERTH_CLUSTER_SUBNET", "198.19");
      env.put("BERTH_NO_BUILD", "1");
      env.put("BERTH_REPO", repo.toString());
      env.remove("BERTH_API");
      Path out = Files.createTempFile("berth-e2e-out", ".txt");
      Path err = Files.createTempFile("berth-e2e-err", ".txt");
      try {
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          p.descendants().forEach(ProcessHandle::destroyForcibly);
          p.destroyForcibly();
          throw new AssertionError(String.join(" ", argv) + " did not finish within " + timeout + "; stderr so far: "
              + Files.readString(err, StandardCharsets.UTF_8));
        }
        return new Run(argv, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("run " + argv, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted running " + argv, e);
    }
  }

  /** The pid in the file of node {@code host} (node-I), as bin/berth up wrote it. */
  long nodePid(String host) throws IOException {
    return Long.parseLong(Files.readString(local.resolve("run").resolve(host + ".pid")).trim());
  }

  /** The local cluster's Cassandra JVM (its embedded launcher records it). */
  long cassandraPid() throws IOException {
    java.util.Properties p = new java.util.Properties();
    try (var in = Files.newInputStream(local.resolve("cluster/cassandra/node.properties"))) {
      p.load(in);
    }
    return Long.parseLong(p.getProperty("pid").trim());
  }

  String netns(String host) {
    return name + "-" + host;
  }

  /** A cgroup v1 file of a container on node {@code host} of this cluster. */
  Path cgroupFile(String controller, String host, String container, String file) {
    return Path.of("/sys/fs/cgroup", controller, name + "-" + host, container, file);
  }

  // --- what the end-to-end tests ask of the cluster, as an operator would ---------------------------

  /** The container as the API shows it; while a node is (re)joining the API may answer 503 (exit 69) for a while. */
  com.fasterxml.jackson.databind.JsonNode show(String ct) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Run r = berth("ct", "show", ct, "--output", "json");
    while (r.exit() == 69 && System.nanoTime() < deadline) {
      sleep(500);
      r = berth("ct", "show", ct, "--output", "json");
    }
    if (r.exit() != 0) throw new AssertionError(r.toString());
    return r.json();
  }

  /** The types of a container's events in order; empty while the API cannot answer. */
  List<String> eventTypes(String ct) {
    Run r = berth("audit", ct, "--output", "json", "--limit", "1000");
    if (r.exit() != 0) return List.of();
    List<String> types = new ArrayList<>();
    r.json().path("items").forEach(e -> types.add(e.path("type").asText()));
    return types;
  }

  /** A command's stdout and stderr, bounded to 30 s. */
  String sh(String... argv) {
    Run r = run(List.of(argv), Duration.ofSeconds(30));
    return r.stdout() + r.stderr();
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Polls {@code condition} until it holds (an AssertionError meanwhile counts as not yet), or fails saying what did not happen. */
  static void await(String what, Duration timeout, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) return;
      } catch (AssertionError notYet) {
        // the API may be restarting: try again until the deadline
      }
      sleep(200);
    }
    throw new AssertionError("within " + timeout.toSeconds() + " s, " + what + " did not happen");
  }
}
