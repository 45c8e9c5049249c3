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
  /** The hosts of the clusters these tests start. */
  static final List<String> HOSTS = List.of("node-1", "node-2", "node-3");
  /** bin/berth up's bound: on a fresh machine it builds CRIU and the template first. */
  static final Duration UP = Duration.ofMinutes(6);
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

  /**
   * A cluster of its own under {@code chaos-tests/target/DIR}, named {@code name}, not started yet: one a run that
   * died half-way left there is taken down and removed first, so each test class starts from an empty log.
   */
  static Berth fresh(String dir, String name) {
    requireRootLinux();
    Path repo = repo();
    Berth berth = new Berth(repo, repo.resolve("chaos-tests/target").resolve(dir), name);
    if (Files.isDirectory(berth.local)) {
      berth.berth(Duration.ofMinutes(3), "down");
      berth.removeTree(berth.local);
    }
    return berth;
  }

  /** {@code bin/berth up --hosts 3}, which must succeed (also to bring back hosts a test killed). */
  Run up() {
    Run up = berth(UP, "up", "--hosts", "3");
    if (up.exit() != 0) throw new AssertionError(up.toString());
    return up;
  }

  /**
   * {@code bin/berth down} and the cluster's tree removed. The nodes' logs outlive it, in {@code DIR-logs} beside the
   * tree: a failure is diagnosed from them.
   */
  void down() {
    Path keep = local.resolveSibling(local.getFileName() + "-logs");
    if (Files.isDirectory(local.resolve("cluster"))) {
      try (var logs = Files.newDirectoryStream(local.resolve("cluster"), "node-*.log")) {
        Files.createDirectories(keep);
        for (Path log : logs) Files.copy(log, keep.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        System.err.println("keep the nodes' logs: " + e);
      }
    }
    Run down = berth(Duration.ofMinutes(3), "down");
    if (down.exit() != 0) System.err.println("clean-up: " + down);
    removeTree(local);
  }

  /** rm -rf that never crosses into a mount (a container rootfs still mounted must not be emptied). */
  void removeTree(Path dir) {
    Run rm = run(List.of("rm", "-rf", "--one-file-system", dir.toString()), Duration.ofMinutes(2));
    if (rm.exit() != 0) System.err.println("clean-up: " + rm);
  }

  /** The repository: BERTH_REPO, or the parent of the module's directory (where mvn runs the tests). */
  static Path repo() {
    String env = System.getenv("BERTH_REPO");
    Path p = env != null && !env.isBlank() ? Path.of(env) : Path.of("").toAbsolutePath().getParent();
    return p.toAbsolutePath();
  }

  /** These tests need root on Linux and the packaged node; under CI=true they fail rather than skip without them. */
  static void requireRootLinux() {
    String reason = null;
    if (!System.getProperty("os.name").toLowerCase().contains("linux")) reason = "the end-to-end test needs Linux";
    else if (!"root".equals(System.getProperty("user.name"))) reason = "the end-to-end test needs root (network namespaces, cgroups, mounts)";
    else if (!Files.isRegularFile(repo().resolve("cluster-node/target/node.classpath"))) {
      reason = "the end-to-end test needs the packaged node (run it through mvn verify)";
    }
    if (reason == null) return;
    if ("true".equals(System.getenv("CI"))) org.junit.jupiter.api.Assertions.fail("CI=true and " + reason);
    org.junit.jupiter.api.Assumptions.assumeTrue(false, reason);
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

  /** The host as the API shows it. */
  JsonNode host(String host) {
    Run r = berth("host", "show", host, "--output", "json");
    if (r.exit() != 0) throw new AssertionError(r.toString());
    return r.json();
  }

  /** The hosts whose kernel runs a process of the container (its pids cgroup there is not empty). */
  List<String> hostsRunning(String ct) {
    List<String> running = new ArrayList<>();
    for (String h : HOSTS) {
      Path procs = cgroupFile("pids", h, ct, "cgroup.procs");
      try {
        if (Files.exists(procs) && !Files.readString(procs).isBlank()) running.add(h);
      } catch (IOException e) {
        // removed between the two reads (ENOENT, ENODEV): not running there
      }
    }
    return running;
  }

  /**
   * The hosts where a process of the container can run: its pids cgroup there holds a process that is neither
   * stopped nor traced ({@code T}, {@code t} in /proc/PID/stat) and its freezer cgroup, if any, is not FROZEN. A live
   * migration holds the source's copy traced by CRIU until the target's copy runs (by design, so the source can
   * resume if the restore fails): that copy cannot act, so it is not a second copy running.
   */
  List<String> hostsExecuting(String ct) {
    List<String> executing = new ArrayList<>();
    for (String h : HOSTS) {
      try {
        Path freezer = cgroupFile("freezer", h, ct, "freezer.state");
        if (Files.exists(freezer) && Files.readString(freezer).strip().equals("FROZEN")) continue;
        Path procs = cgroupFile("pids", h, ct, "cgroup.procs");
        if (!Files.exists(procs)) continue;
        for (String pid : Files.readAllLines(procs)) {
          if (pid.isBlank()) continue;
          String stat;
          try {
            stat = Files.readString(Path.of("/proc", pid.strip(), "stat"));
          } catch (IOException gone) {
            continue;
          }
          char state = stat.charAt(stat.lastIndexOf(')') + 2);
          if (state != 't' && state != 'T' && state != 'Z' && state != 'X') {
            executing.add(h);
            break;
          }
        }
      } catch (IOException e) {
        // removed between the two reads (ENOENT, ENODEV): not running there
      }
    }
    return executing;
  }

  /**
   * Kills the whole host: its node JVM, its watchdog and every process of its containers, then detaches the mounts
   * of its containers (a dead host's kernel takes its mounts with it; these hosts share one kernel, so the fault does
   * that part by hand). Returns when the kill was sent (System.nanoTime).
   */
  long killHost(String host) throws IOException {
    List<String> pids = new ArrayList<>();
    pids.add(Long.toString(nodePid(host)));
    Path lock = local.resolve("cluster/" + host + "/isolation/watchdog/lock");
    if (Files.exists(lock)) pids.add(Files.readString(lock).trim());
    try (var cgroups = Files.list(Path.of("/sys/fs/cgroup/pids", name + "-" + host))) {
      for (Path cg : cgroups.filter(Files::isDirectory).toList()) {
        Path procs = cg.resolve("cgroup.procs");
        if (Files.exists(procs)) for (String p : Files.readAllLines(procs)) if (!p.isBlank()) pids.add(p.strip());
      }
    }
    List<String> argv = new ArrayList<>(List.of("kill", "-9"));
    argv.addAll(pids);
    long t0 = System.nanoTime();
    run(argv, Duration.ofSeconds(10));
    String prefix = local.resolve("cluster/" + host + "/isolation/containers").toString() + "/";
    List<String> points = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].startsWith(prefix)) points.add(f[4]);
    }
    for (int i = points.size() - 1; i >= 0; i--) run(List.of("umount", "-l", points.get(i)), Duration.ofSeconds(10));
    return t0;
  }

  /**
   * Cuts {@code host} off from the management network (the other hosts' cluster ports and APIs, Cassandra): an nft
   * table in its network namespace drops every packet in and out of its management interface, so its node and its
   * containers go on running but hear nothing. Closing it heals the partition.
   */
  AutoCloseable partition(String host) {
    String table = "inet berth_chaos_partition";
    Run cut = run(List.of("ip", "netns", "exec", netns(host), "nft", "add table " + table + " ; "
        + "add chain " + table + " input { type filter hook input priority -50 ; policy accept ; } ; "
        + "add chain " + table + " output { type filter hook output priority -50 ; policy accept ; } ; "
        + "add rule " + table + " input iifname \"mg0\" drop ; "
        + "add rule " + table + " output oifname \"mg0\" drop"), Duration.ofSeconds(10));
    if (cut.exit() != 0) throw new AssertionError("partition " + host + ": " + cut);
    return () -> {
      Run heal = run(List.of("ip", "netns", "exec", netns(host), "nft", "delete table " + table), Duration.ofSeconds(10));
      if (heal.exit() != 0 && !heal.stderr().contains("No such file")) System.err.println("heal the partition of " + host + ": " + heal);
    };
  }

  /** The types of a container's events in order; empty while the API cannot answer. */
  List<String> eventTypes(String ct) {
    Run r = berth("audit", ct, "--output", "json", "--limit", "1000");
    if (r.exit() != 0) return List.of();
    List<String> types = new ArrayList<>();
    r.json().path("items").forEach(e -> types.add(e.path("type").asText()));
    return types;
  }

  /** The events of a host's log, as {@code berth audit HOST --host} shows them; empty while the API cannot answer. */
  List<JsonNode> hostEvents(String host) {
    Run r = berth("audit", host, "--host", "--output", "json", "--limit", "1000");
    if (r.exit() != 0) return List.of();
    List<JsonNode> events = new ArrayList<>();
    r.json().path("items").forEach(events::add);
    return events;
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
