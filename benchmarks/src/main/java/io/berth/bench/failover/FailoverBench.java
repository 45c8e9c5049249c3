package io.berth.bench.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Failover time on the local cluster of {@code bin/berth up}: a whole host (its node JVM, its watchdog and every
 * process of its containers) killed while it runs {@code count} shared-storage containers, until all of them run
 * elsewhere; each round split into detection (the kill to the first survivor's "unreachable"), downing (to the
 * member's removal), fencing (to {@code HostFenced}) and restart (to the last {@code ContainerStarted}), from the
 * host's fence evidence and the events' times. The victim alternates between node-2 and node-3 (node-1 keeps the
 * directory and the shard coordinators: a kill of the oldest member adds their hand-over, see the README); after each
 * round the victim is brought back with {@code bin/berth up}.
 *
 * <p>{@code java -cp <benchmarks classpath> io.berth.bench.failover.FailoverBench [rounds] [count] [victims]} (defaults
 * 5, 3 and {@code node-2,node-3}: the victims taken in turn; name node-1 to measure the oldest member's failover),
 * as root, with a cluster from {@code bin/berth up --hosts 3}. There is no baseline to run beside it here; the
 * issue's anchors: Nomad marks a node down after about 20 s, Incus after 20 s (no fencing), Proxmox HA about 2 min,
 * Kubernetes about 5 min 50 s by default.
 */
public final class FailoverBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SINCE = Pattern.compile("unreachable from \\S+ since (\\S+?);");
  private static final Pattern REMOVED = Pattern.compile("removed from the cluster at (\\S+) after");
  private final HttpClient http;
  private final String[] identity;
  private final Path repo;
  /** Every host's API line ("URL NAME"), as bin/berth up lists them in .local/run/apis; calls go to one not the victim. */
  private final List<String> apis;
  private String api;

  private FailoverBench(Path repo, List<String> apis) {
    this.repo = repo;
    this.http = io.berth.bench.node.ClusterApi.client(repo, Duration.ofSeconds(3));
    this.identity = io.berth.bench.node.ClusterApi.identity(repo);
    this.apis = apis;
    this.api = apis.get(0).split(" ")[0];
  }

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int count = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    List<String> victims = List.of((args.length > 2 ? args[2] : "node-2,node-3").split(","));
    Path repo = io.berth.bench.node.ClusterApi.repo();
    List<String> apis = Files.readAllLines(repo.resolve(".local/run/apis")).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    new FailoverBench(repo, apis).run(rounds, count, victims);
  }

  private void run(int rounds, int count, List<String> victims) throws Exception {
    double[][] split = new double[5][rounds];
    for (int r = 0; r < rounds; r++) {
      String victim = victims.get(r % victims.size());
      api = survivorApi(victim);
      List<String> names = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String name = "fob-" + r + "-" + i;
        names.add(name);
        send("POST", "/v1/containers", "{\"name\":\"" + name + "\",\"template\":\"busybox\",\"command\":[\"/bin/sleep\",\"100000\"],"
            + "\"limits\":{\"cpu\":\"0.1\",\"memory\":\"32M\"},\"restart\":\"always\",\"storage\":\"shared\",\"placement\":{\"host\":\"" + victim
            + "\"},\"start\":true}", 201);
      }
      Instant killed = killHost(victim);
      long t0 = System.nanoTime();
      long deadline = t0 + Duration.ofSeconds(120).toNanos();
      while (!allElsewhere(names, victim)) {
        if (System.nanoTime() > deadline) throw new IllegalStateException("round " + r + ": not all of " + names + " ran elsewhere within 120 s");
        Thread.sleep(100);
      }
      double seen = (System.nanoTime() - t0) / 1e6;
      JsonNode fenced = lastOfType(get("/v1/hosts/" + victim + "/history?limit=1000"), "HostFenced");
      String evidence = fenced.path("details").path("evidence").asText();
      Instant since = at(SINCE, evidence);
      Instant removed = at(REMOVED, evidence);
      Instant fencedAt = Instant.parse(fenced.path("at").asText());
      Instant started = Instant.MIN;
      for (String n : names) {
        Instant s = Instant.parse(lastOfType(get("/v1/containers/" + n + "/history?limit=1000"), "ContainerStarted").path("at").asText());
        if (s.isAfter(started)) started = s;
      }
      split[0][r] = Duration.between(killed, since).toMillis();
      split[1][r] = Duration.between(since, removed).toMillis();
      split[2][r] = Duration.between(removed, fencedAt).toMillis();
      split[3][r] = Duration.between(fencedAt, started).toMillis();
      // The whole: from the kill to the last start on a survivor, both read on this machine's clock (the hosts of the
      // local cluster share it); the client's own view (its poll) comes after, by up to one poll.
      double total = Duration.between(killed, started).toMillis();
      split[4][r] = total;
      System.out.printf("round %d (%s): total %.0f ms = detection %.0f + downing %.0f + fencing %.0f + restart %.0f; the client saw all running"
          + " after %.0f ms%n", r + 1, victim, total, split[0][r], split[1][r], split[2][r], split[3][r], seen);
      for (String n : names) send("DELETE", "/v1/containers/" + n, null, 200);
      Process up = new ProcessBuilder(repo.resolve("bin/berth").toString(), "up", "--hosts", "3").inheritIO()
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (up.waitFor() != 0) throw new IllegalStateException("bin/berth up did not bring " + victim + " back");
    }
    String[] what = {"detection", "downing", "fencing", "restart", "total"};
    io.berth.bench.Results results = new io.berth.bench.Results("failover");
    String of = "failover of a killed host with " + count + " shared-storage containers (victims " + String.join(",", victims) + "): ";
    for (int i = 0; i < what.length; i++) {
      System.out.printf("median %-9s %6.0f ms%n", what[i], median(split[i]));
      results.record(of + what[i], "ms", median(split[i]), io.berth.bench.Results.percentile(split[i], 99), null, Double.NaN);
    }
  }

  /** Kills the host's node JVM, its watchdog and every process of its containers, at once; returns when. */
  private Instant killHost(String host) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of("kill", "-9", Files.readString(repo.resolve(".local/run/" + host + ".pid")).strip()));
    Path lock = repo.resolve(".local/cluster/" + host + "/isolation/watchdog/lock");
    if (Files.exists(lock)) argv.add(Files.readString(lock).strip());
    try (var cgroups = Files.list(Path.of("/sys/fs/cgroup/pids/berth-" + host))) {
      for (Path cg : cgroups.filter(Files::isDirectory).toList()) {
        for (String p : Files.readAllLines(cg.resolve("cgroup.procs"))) if (!p.isBlank()) argv.add(p.strip());
      }
    }
    Instant at = Instant.now();
    new ProcessBuilder(argv).inheritIO().start().waitFor();
    // A dead host's kernel takes its mounts with it; these hosts share one kernel, so the fault does that part by hand.
    String prefix = repo.resolve(".local/cluster/" + host + "/isolation/containers") + "/";
    List<String> points = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].startsWith(prefix)) points.add(f[4]);
    }
    for (int i = points.size() - 1; i >= 0; i--) new ProcessBuilder("umount", "-l", points.get(i)).inheritIO().start().waitFor();
    return at;
  }

  private boolean allElsewhere(List<String> names, String victim) throws InterruptedException {
    for (String n : names) {
      try {
        JsonNode c = get("/v1/containers/" + n);
        if (!"running".equals(c.path("phase").asText()) || victim.equals(c.path("host").asText())) return false;
      } catch (IOException | IllegalStateException e) {
        return false;
      }
    }
    return true;
  }

  /** The first API that is not the victim's. */
  private String survivorApi(String victim) {
    for (String line : apis) {
      String[] f = line.split(" ");
      if (f.length == 2 && !f[1].equals(victim)) return f[0];
    }
    throw new IllegalStateException("no API but " + victim + "'s in .local/run/apis: " + apis);
  }

  private static JsonNode lastOfType(JsonNode history, String type) {
    JsonNode last = null;
    for (JsonNode e : history.path("items")) if (type.equals(e.path("type").asText())) last = e;
    if (last == null) throw new IllegalStateException("no " + type + " in " + history);
    return last;
  }

  private static Instant at(Pattern p, String evidence) {
    Matcher m = p.matcher(evidence);
    if (!m.find()) throw new IllegalStateException("the fence evidence does not name " + p.pattern() + ": " + evidence);
    return Instant.parse(m.group(1));
  }

  private JsonNode get(String path) throws IOException, InterruptedException {
    // Short: a read that reaches an entity still on the dead host waits for its shard to move, and the poll would
    // wait with it instead of asking again.
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(1)).headers(identity).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) throw new IllegalStateException("GET " + path + ": HTTP " + r.statusCode() + " " + r.body());
    return JSON.readTree(r.body());
  }

  private void send(String method, String path, String body, int expect) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
        .headers(identity);
    b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody()) : b.method(method, HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != expect) throw new IllegalStateException(method + " " + path + ": HTTP " + r.statusCode() + " " + r.body());
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
