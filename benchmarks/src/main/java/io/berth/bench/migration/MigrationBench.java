package io.berth.bench.migration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.bench.Results;
import io.berth.bench.isolation.BenchHost;
import io.berth.bench.isolation.RawCriu;
import io.berth.bench.node.ClusterApi;
import io.berth.isolation.IsolationLayer;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Live migration of a container holding SIZE MiB of touched, non-zero memory between the hosts of the local cluster,
 * through the REST API, against the raw CRIU stop-and-copy of an equivalent container on this machine with its
 * images on tmpfs ({@link RawCriu}: {@code criu dump} + {@code criu restore}, timed from the launch of the dump until
 * the restore returned), interleaved in one run: each Berth move is followed by one raw round.
 *
 * <p>The container's tree: a shell streaming {@code yes abcdefgh | head -c BYTES} into busybox {@code tail -c BYTES}
 * (which keeps the whole stream in its memory) and on into a subshell that waits on a FIFO before hashing it. Once
 * the container's memory cgroup holds SIZE MiB and the stream is generated whole, it is moved {@code iterations}
 * times (each move to the next ready host after its current one, named with {@code to}); Berth's {@code frozenMs},
 * {@code totalMs} and {@code bytes} come from {@code lastMigration}, the phases from the events of its history (the
 * time between the saga's recorded steps). At the end the gate is opened (Berth: through exec; raw: through the
 * FIFO in its root filesystem) and each container's hash of what it kept must equal the hash of the same stream
 * computed here.
 *
 * <p>Needs a running cluster of at least two hosts ({@code bin/berth up}) and root:
 * {@code java -cp <benchmarks classpath> io.berth.bench.migration.MigrationBench [post-copy=auto|on|off] [iterations] [sizesMiB...]}
 * (default 5 iterations, sizes 16 256 1024, post-copy as the cluster decides: auto). The raw container has loopback only (as in
 * {@code CheckpointRestoreBench}); Berth's has its veth and address, re-created inside its frozen time.
 */
public final class MigrationBench {
  private static final String UNIT = "abcdefgh\n";
  private static final Duration POLL = Duration.ofMillis(50);
  private static final Duration CALL = Duration.ofSeconds(60);
  private static final List<String> PHASES = List.of("MigrationRequested", "MigrationPreflightPassed", "RootfsPreCopied",
      "ImageTransferred", "ContainerRestored", "MigrationCompleted");
  private static final List<String> PHASE_NAMES = List.of("preflight", "disk pre-copy (running)", "freeze, dump, send images and disk delta",
      "restore on the target, commit the source", "remove the source's copy, settle the directory");

  /** The migrations' {@code postCopy} (auto, on, off), named in every figure's label. */
  private static String postCopy = "auto";

  private MigrationBench() {}

  public static void main(String[] args) throws Exception {
    // "raw" first: the baseline alone, without a cluster (to check it, or to compare machines).
    boolean rawOnly = args.length > 0 && args[0].equals("raw");
    int first = rawOnly ? 1 : 0;
    if (args.length > first && args[first].startsWith("post-copy=")) {
      postCopy = args[first].substring("post-copy=".length());
      if (!postCopy.matches("auto|on|off")) throw new IllegalArgumentException("post-copy must be auto, on or off, not " + postCopy);
      first++;
    }
    int iterations = args.length > first ? number("iterations", args[first], 1, 1000) : 5;
    List<Integer> sizes = new ArrayList<>();
    for (int i = first + 1; i < args.length; i++) sizes.add(number("sizesMiB", args[i], 1, 16384));
    if (sizes.isEmpty()) sizes = List.of(16, 256, 1024);
    BenchHost.requireRoot();
    Path repo = ClusterApi.repo();
    ClusterApi api = null;
    if (!rawOnly) {
      try {
        api = ClusterApi.local(repo);
      } catch (IllegalStateException e) {
        System.err.println("MigrationBench: " + e.getMessage() + " (MigrationBench raw ... runs the baseline alone)");
        System.exit(2);
      }
      List<String> ready = api.readyHosts();
      if (ready.size() < 2) {
        System.err.println("MigrationBench: a live migration needs two hosts that take containers; ready and reachable: " + ready
            + " (bin/berth up starts 3)");
        System.exit(2);
      }
    }
    Results results = new Results("migration-live");
    try (BenchHost host = new BenchHost()) {
      for (int size : sizes) new SizeRun(api, host, repo, size, iterations).run(results);
    }
  }

  /** One size: its Berth container and its raw twin, moved and verified, their figures recorded. */
  private static final class SizeRun {
    private final ClusterApi api;
    private final BenchHost host;
    private final IsolationLayer layer;
    private final Path repo;
    private final int mib;
    private final long bytes;
    private final int iterations;
    private final String name;
    private final ContainerId rawId;
    private final String script;
    private int rawPid;

    SizeRun(ClusterApi api, BenchHost host, Path repo, int mib, int iterations) {
      this.api = api;
      this.host = host;
      this.layer = host.layer;
      this.repo = repo;
      this.mib = mib;
      this.bytes = (long) mib << 20;
      this.iterations = iterations;
      this.name = "mig-" + host.run + "-" + mib;
      this.rawId = ContainerId.of("mig-raw-" + host.run + "-" + mib);
      // The subshell opens the FIFO only when asked (exec writes to it); until then tail holds the stream in its
      // memory, blocked writing into the subshell's full pipe.
      this.script = "mkfifo /gate; yes " + UNIT.strip() + " | head -c " + bytes + " | tail -c " + bytes
          + " | (read g < /gate; sha256sum > /result); sleep 100000";
    }

    void run(Results results) throws Exception {
      boolean berth = api != null;
      System.out.printf(Locale.ROOT, "== %d MiB: %sraw twin %s, %d rounds%n", mib, berth ? "container " + name + ", " : "", rawId, iterations);
      try {
        String at = berth ? create() : null;
        layer.prepare(new ContainerSpec(rawId, TemplateRef.of("busybox"), null, List.of("/bin/sh", "-c", script),
            new Limits(500, (long) (mib + 150) << 20, 0, 64), null, null, null), null);
        rawPid = layer.start(rawId);
        Path rawRoot = layer.inspect(rawId).rootfs();
        String expected = expectedSha256(bytes);
        Duration fill = Duration.ofSeconds(60 + mib / 8);
        if (berth) waitFilled("container " + name + " on " + at, clusterCgroupRoot(at) + "/" + name, fill);
        waitFilled("the raw twin " + rawId, layer.inspect(rawId).cgroup(), fill);

        RawCriu raw = new RawCriu(layer);
        double[] frozen = new double[iterations];
        double[] total = new double[iterations];
        double[] sent = new double[iterations];
        double[] observed = new double[iterations];
        double[] rawFrozen = new double[iterations];
        double[] rawDump = new double[iterations];
        double[] rawRestore = new double[iterations];
        long rawImageBytes = 0;
        List<String> migrations = new ArrayList<>();
        for (int i = 0; i < iterations; i++) {
          String line = "";
          if (berth) {
            String target = nextHost(at);
            long t0 = System.nanoTime();
            JsonNode last = migrate(target);
            observed[i] = BenchHost.ms(System.nanoTime() - t0);
            at = target;
            migrations.add(last.path("migrationId").asText());
            frozen[i] = last.path("frozenMs").asDouble(Double.NaN);
            total[i] = last.path("totalMs").asDouble();
            sent[i] = last.path("bytes").asDouble();
            line = String.format(Locale.ROOT, "move -> %s: frozen %.0f ms, total %.0f ms, %.0f bytes sent, memory there %d MiB; ", target,
                frozen[i], total[i], sent[i], usage(clusterCgroupRoot(at) + "/" + name) >> 20);
          }
          Path images = host.tmpfs().resolve("raw-" + mib + "-" + i);
          RawCriu.Round round = raw.dumpAndRestore(rawPid, rawRoot, images);
          rawPid = round.pid();
          rawFrozen[i] = round.frozenMs();
          rawDump[i] = round.dumpMs();
          rawRestore[i] = round.restoreMs();
          rawImageBytes = RawCriu.imageBytes(images);
          BenchHost.deleteTree(images);
          System.out.printf(Locale.ROOT, "  %d: %sraw dump %.0f + restore %.0f = %.0f ms, memory %d MiB%n", i + 1, line, rawDump[i], rawRestore[i],
              rawFrozen[i], usage(layer.inspect(rawId).cgroup()) >> 20);
        }
        if (berth) verifyBerth(expected);
        verifyRaw(rawRoot, expected);

        String s = " (" + mib + " MiB)";
        String b = " (" + mib + " MiB, post-copy " + postCopy + ")";
        double rawMedian = Results.median(rawFrozen);
        results.record("raw criu dump + restore, images on tmpfs" + s, "ms", rawMedian, Results.percentile(rawFrozen, 99), null, Double.NaN);
        results.record("raw criu dump" + s, "ms", Results.median(rawDump), Results.percentile(rawDump, 99), null, Double.NaN);
        results.record("raw criu restore" + s, "ms", Results.median(rawRestore), Results.percentile(rawRestore, 99), null, Double.NaN);
        results.record("raw criu image bytes" + s, "bytes", rawImageBytes, Double.NaN, null, Double.NaN);
        if (!berth) return;
        results.record("berth live migration frozenMs" + b, "ms", Results.median(frozen), Results.percentile(frozen, 99),
            "raw criu dump + restore (tmpfs)", rawMedian);
        results.record("berth live migration totalMs" + b, "ms", Results.median(total), Results.percentile(total, 99), null, Double.NaN);
        results.record("berth live migration POST until ended (client)" + b, "ms", Results.median(observed), Results.percentile(observed, 99),
            null, Double.NaN);
        results.record("berth live migration bytes sent" + b, "bytes", Results.median(sent), Results.percentile(sent, 99), null, Double.NaN);
        for (var e : phases(migrations).entrySet()) {
          double[] v = e.getValue();
          String unit = e.getKey().startsWith("bytes") ? "bytes" : "ms";
          results.record("berth live migration " + e.getKey() + b, unit, Results.median(v), Results.percentile(v, 99), null, Double.NaN);
        }
      } finally {
        if (berth) api.destroyQuietly(name, Duration.ofMinutes(3));
        try {
          RawCriu.end(rawPid);
        } catch (RuntimeException e) {
          System.err.println("cleanup: raw twin " + rawId + ": " + e.getMessage());
        }
        try {
          if (layer.inspect(rawId).status() != io.berth.isolation.ContainerStatus.ABSENT) layer.destroy(rawId);
        } catch (RuntimeException e) {
          System.err.println("cleanup: raw twin " + rawId + ": " + e.getMessage());
        }
      }
    }

    /** Creates and starts the Berth container (placement picks its host); returns that host. */
    private String create() throws IOException, InterruptedException {
      ObjectNode body = ClusterApi.object().put("name", name).put("template", "busybox").put("start", true);
      body.putArray("command").add("/bin/sh").add("-c").add(script);
      body.putObject("limits").put("cpu", "0.5").put("memory", (mib + 150) + "M").put("pids", "64");
      JsonNode c = api.expect(201, "POST", "/v1/containers", body, CALL);
      if (!"running".equals(c.path("phase").asText())) throw new IllegalStateException("container " + name + " was created but does not run: " + c);
      return c.path("host").asText();
    }

    /** The ready host after {@code from} in id order (so the moves go round every host). */
    private String nextHost(String from) throws IOException, InterruptedException {
      List<String> ready = api.readyHosts();
      List<String> others = ready.stream().filter(h -> !h.equals(from)).sorted().toList();
      if (others.isEmpty()) throw new IllegalStateException("no ready host but " + from + " to move container " + name + " to: " + ready);
      return others.stream().filter(h -> h.compareTo(from) > 0).findFirst().orElse(others.get(0));
    }

    /**
     * Moves the container live to {@code target} and waits until the move has ended there; returns its
     * {@code lastMigration}. A busy refusal (the directory or the shard still settling the previous move) is asked
     * again; anything but a completed live move to the target fails the run.
     */
    private JsonNode migrate(String target) throws IOException, InterruptedException {
      String before = api.get("/v1/containers/" + name).path("lastMigration").path("migrationId").asText("");
      ObjectNode body = ClusterApi.object().put("to", target).put("mode", "live").put("postCopy", postCopy);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      ClusterApi.Answer a;
      while (true) {
        a = api.call("POST", "/v1/containers/" + name + "/migrations", body, CALL);
        if (a.status() == 202 || !a.retryable() || System.nanoTime() > deadline) break;
        Thread.sleep(250);
      }
      if (a.status() != 202) throw new IllegalStateException("migrate " + name + " to " + target + ": HTTP " + a.status() + " " + a.text());
      String mid = a.body().path("migration").path("migrationId").asText("");
      Duration bound = Duration.ofSeconds(60 + mib / 8);
      long end = System.nanoTime() + bound.toNanos();
      JsonNode c = a.body();
      while (true) {
        JsonNode last = c.path("lastMigration");
        String lastId = last.path("migrationId").asText("");
        boolean ended = !"migrating".equals(c.path("phase").asText()) && (mid.isEmpty() ? !lastId.equals(before) : lastId.equals(mid));
        if (ended) {
          if (!"completed".equals(last.path("outcome").asText()) || !"live".equals(last.path("mode").asText())
              || !target.equals(last.path("to").asText()) || !target.equals(c.path("host").asText()) || !"running".equals(c.path("phase").asText())) {
            throw new IllegalStateException("container " + name + ": the live move to " + target + " did not complete live there: phase "
                + c.path("phase").asText() + " on " + c.path("host").asText() + ", lastMigration " + last);
          }
          return last;
        }
        if (System.nanoTime() > end) {
          throw new IllegalStateException("container " + name + ": the move " + mid + " to " + target + " did not end within " + bound
              + "; last seen phase " + c.path("phase").asText() + ", step " + c.path("migration").path("step").asText() + ", "
              + c.path("migration").path("bytes").asText() + " bytes");
        }
        Thread.sleep(POLL.toMillis());
        c = api.get("/v1/containers/" + name);
      }
    }

    /** Waits until the cgroup's memory holds the size and the stream is generated whole (no yes or head left). */
    private void waitFilled(String what, String cgroup, Duration bound) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + bound.toNanos();
      long usage = 0;
      boolean generating = true;
      while (System.nanoTime() < deadline) {
        usage = usage(cgroup);
        generating = generating(cgroup);
        if (usage >= bytes && !generating) {
          Thread.sleep(200); // tail's last read of the pipe
          System.out.printf(Locale.ROOT, "  %s holds %d MiB%n", what, usage(cgroup) >> 20);
          return;
        }
        Thread.sleep(200);
      }
      throw new IllegalStateException(what + ": its memory cgroup " + cgroup + " did not come to hold " + mib + " MiB with the stream "
          + "generated whole within " + bound + " (usage " + (usage >> 20) + " MiB, yes|head " + (generating ? "still running" : "done") + ")");
    }

    /** Opens the gate through exec and compares the container's hash of what it kept with {@code expected}. */
    private void verifyBerth(String expected) throws IOException, InterruptedException {
      int tenths = 10 * (60 + mib / 4);
      String check = "echo go > /gate; i=0; while [ ! -s /result ] && [ $i -lt " + tenths + " ]; do usleep 100000; i=$((i+1)); done; cat /result";
      ObjectNode body = ClusterApi.object().put("timeoutMillis", tenths * 100L + 10_000);
      body.putArray("command").add("/bin/sh").add("-c").add(check);
      JsonNode r = api.expect(200, "POST", "/v1/containers/" + name + "/exec", body, Duration.ofMillis(tenths * 100L + 30_000));
      String got = r.path("stdout").asText().strip().split("\\s+")[0];
      if (!expected.equals(got)) {
        throw new IllegalStateException("container " + name + ": its data is not intact after " + iterations + " moves: sha256 " + got
            + " (exit " + r.path("exitCode").asInt() + ", stderr " + r.path("stderr").asText() + "), expected " + expected);
      }
      System.out.printf(Locale.ROOT, "  %s: data intact after %d moves (sha256 %s)%n", name, iterations, got);
    }

    /** Opens the raw twin's gate from here (its FIFO is in its root filesystem) and compares its hash. */
    private void verifyRaw(Path rawRoot, String expected) throws IOException, InterruptedException {
      // timeout: the open blocks until a reader opens the FIFO, which a lost subshell never does.
      BenchHost.must(BenchHost.sh("echo go > " + rawRoot.resolve("gate"), Duration.ofSeconds(20)));
      Path result = rawRoot.resolve("result");
      Duration bound = Duration.ofSeconds(60 + mib / 4);
      long deadline = System.nanoTime() + bound.toNanos();
      while (!(Files.isRegularFile(result) && Files.size(result) > 0)) {
        if (System.nanoTime() > deadline) throw new IllegalStateException("the raw twin " + rawId + " wrote no hash to " + result + " within " + bound);
        Thread.sleep(100);
      }
      Thread.sleep(50); // the line is written by one write(2); let it close
      String got = Files.readString(result).strip().split("\\s+")[0];
      if (!expected.equals(got)) {
        throw new IllegalStateException("the raw twin " + rawId + ": its data is not intact after " + iterations + " rounds: sha256 " + got
            + ", expected " + expected);
      }
      System.out.printf(Locale.ROOT, "  %s: data intact after %d raw rounds%n", rawId, iterations);
    }

    /**
     * The time between the saga's recorded steps of each move, from the container's history (event timestamps; each
     * includes making the step's events durable), and the bytes of the disk's pre-copy and of the frozen send.
     */
    private Map<String, double[]> phases(List<String> migrations) throws IOException, InterruptedException {
      Map<String, Map<String, JsonNode>> byMove = new HashMap<>();
      Set<String> wanted = Set.copyOf(migrations);
      long from = 1;
      while (true) {
        JsonNode page = api.get("/v1/containers/" + name + "/history?from=" + from + "&limit=1000");
        for (JsonNode e : page.path("items")) {
          String mid = e.path("details").path("migrationId").asText("");
          if (wanted.contains(mid)) byMove.computeIfAbsent(mid, k -> new HashMap<>()).put(e.path("type").asText(), e);
        }
        if (page.path("next").isNull() || page.path("next").isMissingNode()) break;
        from = page.path("next").asLong();
      }
      Map<String, double[]> out = new LinkedHashMap<>();
      for (int p = 0; p < PHASE_NAMES.size(); p++) out.put("phase: " + PHASE_NAMES.get(p), new double[migrations.size()]);
      out.put("bytes of the disk pre-copy", new double[migrations.size()]);
      out.put("bytes sent frozen (images and disk delta)", new double[migrations.size()]);
      for (int i = 0; i < migrations.size(); i++) {
        Map<String, JsonNode> events = byMove.getOrDefault(migrations.get(i), Map.of());
        for (int p = 0; p < PHASE_NAMES.size(); p++) {
          JsonNode a = events.get(PHASES.get(p));
          JsonNode b = events.get(PHASES.get(p + 1));
          out.get("phase: " + PHASE_NAMES.get(p))[i] = a == null || b == null ? Double.NaN
              : Duration.between(instant(a), instant(b)).toNanos() / 1e6;
        }
        JsonNode pre = events.get("RootfsPreCopied");
        JsonNode img = events.get("ImageTransferred");
        out.get("bytes of the disk pre-copy")[i] = pre == null ? Double.NaN : pre.path("details").path("bytes").asDouble();
        out.get("bytes sent frozen (images and disk delta)")[i] = img == null ? Double.NaN : img.path("details").path("bytes").asDouble();
      }
      out.values().removeIf(v -> java.util.Arrays.stream(v).anyMatch(Double::isNaN));
      return out;
    }

    /** The cgroup root of a host of the local cluster: {@code isolation.cgroup-root} of its config, as bin/berth up wrote it. */
    private String clusterCgroupRoot(String hostId) throws IOException {
      String local = System.getenv("BERTH_LOCAL");
      Path conf = (local != null && !local.isBlank() ? Path.of(local) : repo.resolve(".local")).resolve("cluster").resolve(hostId + ".conf");
      if (Files.isRegularFile(conf)) {
        Matcher m = Pattern.compile("isolation\\.cgroup-root\\s*=\\s*\"([^\"]+)\"").matcher(Files.readString(conf));
        if (m.find()) return m.group(1);
      }
      String cluster = System.getenv("BERTH_CLUSTER_NAME");
      return (cluster == null || cluster.isBlank() ? "berth" : cluster) + "-" + hostId;
    }
  }

  // --- the kernel's view ----------------------------------------------------------------------------

  /** The cgroup's memory usage: {@code memory.usage_in_bytes} on cgroup v1, {@code memory.current} on v2. */
  static long usage(String cgroup) throws IOException {
    Path v1 = Path.of("/sys/fs/cgroup/memory");
    Path file = Files.isDirectory(v1) ? v1.resolve(cgroup).resolve("memory.usage_in_bytes")
        : Path.of("/sys/fs/cgroup").resolve(cgroup).resolve("memory.current");
    if (!Files.isRegularFile(file)) throw new IllegalStateException("no memory cgroup " + cgroup + " here (" + file + " is missing)");
    return Long.parseLong(Files.readString(file).strip());
  }

  /** Whether {@code yes} or {@code head} still runs in the cgroup: the stream is not generated whole yet. */
  private static boolean generating(String cgroup) throws IOException {
    Path v1 = Path.of("/sys/fs/cgroup/memory");
    Path procs = (Files.isDirectory(v1) ? v1.resolve(cgroup) : Path.of("/sys/fs/cgroup").resolve(cgroup)).resolve("cgroup.procs");
    for (String pid : Files.readAllLines(procs)) {
      try {
        String comm = Files.readString(Path.of("/proc", pid.strip(), "comm")).strip();
        if (comm.equals("yes") || comm.equals("head")) return true;
      } catch (IOException gone) {
        // exited meanwhile
      }
    }
    return false;
  }

  /** The SHA-256 of the first {@code bytes} of "abcdefgh\n" repeated, as sha256sum prints it. */
  static String expectedSha256(long bytes) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] unit = UNIT.getBytes(StandardCharsets.US_ASCII);
    byte[] chunk = new byte[unit.length * 65536]; // a whole number of units: the next chunk goes on where this one ends
    for (int i = 0; i < chunk.length; i++) chunk[i] = unit[i % unit.length];
    for (long left = bytes; left > 0; ) {
      int n = (int) Math.min(left, chunk.length);
      md.update(chunk, 0, n);
      left -= n;
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static Instant instant(JsonNode event) {
    JsonNode at = event.path("at");
    if (at.isNumber()) return Instant.ofEpochSecond(0, (long) (at.asDouble() * 1e9));
    return Instant.parse(at.asText());
  }

  private static int number(String what, String text, int min, int max) {
    try {
      int n = Integer.parseInt(text);
      if (n >= min && n <= max) return n;
    } catch (NumberFormatException e) {
      // below
    }
    System.err.println(what + ": must be a whole number from " + min + " to " + max + " (got '" + text + "')");
    System.err.println("usage: MigrationBench [raw] [iterations] [sizesMiB...]");
    System.exit(2);
    return 0;
  }
}
