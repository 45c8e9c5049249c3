package io.berth.bench.migration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.berth.bench.Results;
import io.berth.bench.isolation.BenchHost;
import io.berth.bench.node.ClusterApi;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Drain of one host of the local cluster holding COUNT containers, half running {@code sleep 100000}, half stopped
 * (started once, so their disks are on the host): {@code POST /v1/hosts/HOST/drain} {@code {"mode":"live",
 * "parallel":P}}, then {@code GET /v1/hosts/HOST} until it is no longer draining. Reports the time from the request
 * until the drain has ended, containers per second, and {@code lastDrainLeft}; checks that every container moved
 * kept its phase on another host. Then the host is uncordoned and the containers destroyed (also on failure).
 *
 * <p>The containers are put on HOST without a pin: a pinned container has nowhere to go but its pin, so a drain leaves
 * it where it is (Directory: "without one, a pinned container has nowhere to go but its pin"). The other ready hosts
 * are cordoned while they are created and uncordoned before the drain, so placement picks HOST.
 *
 * <p>Needs a running cluster of at least two hosts ({@code bin/berth up}):
 * {@code java -cp <benchmarks classpath> io.berth.bench.migration.DrainBench [count] [parallel] [host]}
 * (default 20, 4, node-1). Drain rounds run every 2 s on the cluster's leader (DrainDriver.ROUND), so the total is
 * quantized by that.
 */
public final class DrainBench {
  private static final Duration CALL = Duration.ofSeconds(60);

  private DrainBench() {}

  public static void main(String[] args) throws Exception {
    int count = args.length > 0 ? number("count", args[0], 1, 500) : 20;
    int parallel = args.length > 1 ? number("parallel", args[1], 1, 64) : 4;
    String host = args.length > 2 ? args[2] : "node-1";
    ClusterApi api;
    try {
      api = ClusterApi.local(ClusterApi.repo());
    } catch (IllegalStateException e) {
      System.err.println("DrainBench: " + e.getMessage());
      System.exit(2);
      return;
    }
    List<String> ready = api.readyHosts();
    if (!ready.contains(host) || ready.size() < 2) {
      System.err.println("DrainBench: host " + host + " and at least one other must be ready and reachable; ready: " + ready);
      System.exit(2);
    }
    String run = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
    List<String> names = new ArrayList<>();
    List<String> cordoned = new ArrayList<>();
    boolean drained = false;
    try {
      // Only the ready hosts are cordoned here, so only those are uncordoned after (an operator's cordon stays).
      for (String h : ready) {
        if (h.equals(host)) continue;
        api.expect(200, "POST", "/v1/hosts/" + h + "/cordon", null, CALL);
        cordoned.add(h);
      }
      for (int i = 0; i < count; i++) {
        String name = String.format(Locale.ROOT, "drain-%s-%02d", run, i);
        names.add(name);
        create(api, name, host);
        // Every other one stopped: moved cold, disk only.
        if (i % 2 == 1) api.expect(200, "POST", "/v1/containers/" + name + "/stop", ClusterApi.object().put("timeoutMillis", 1000), CALL);
      }
      for (String h : new ArrayList<>(cordoned)) {
        api.expect(200, "POST", "/v1/hosts/" + h + "/uncordon", null, CALL);
        cordoned.remove(h);
      }
      System.out.printf(Locale.ROOT, "%d containers on %s (%d running, %d stopped); drain live, parallel %d%n", count, host, (count + 1) / 2,
          count / 2, parallel);

      Duration bound = Duration.ofSeconds(60 + 15L * count);
      long t0 = System.nanoTime();
      drained = true;
      api.expect(200, "POST", "/v1/hosts/" + host + "/drain", ClusterApi.object().put("mode", "live").put("parallel", parallel), CALL);
      JsonNode h;
      long deadline = t0 + bound.toNanos();
      while (true) {
        h = api.get("/v1/hosts/" + host);
        if (!"draining".equals(h.path("phase").asText()) && !h.path("draining").asBoolean(false)) break;
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the drain of " + host + " did not end within " + bound + "; still " + h.path("containers").asText()
              + " containers there, host " + h);
        }
        Thread.sleep(100);
      }
      double totalMs = BenchHost.ms(System.nanoTime() - t0);
      List<String> left = new ArrayList<>();
      h.path("lastDrainLeft").forEach(n -> left.add(n.asText()));

      int moved = 0;
      List<String> wrong = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        JsonNode c = api.get("/v1/containers/" + names.get(i));
        String want = i % 2 == 1 ? "stopped" : "running";
        boolean away = !host.equals(c.path("host").asText());
        if (away) moved++;
        if (away && !want.equals(c.path("phase").asText())) {
          wrong.add(names.get(i) + " is " + c.path("phase").asText() + " on " + c.path("host").asText() + " (was " + want + ")");
        }
      }
      System.out.printf(Locale.ROOT, "drain ended in %.0f ms: %d of %d moved; phase %s; lastDrainLeft %s%n", totalMs, moved, count,
          h.path("phase").asText(), left);

      Results results = new Results("migration-drain");
      String s = " (" + count + " containers, half running, live, parallel " + parallel + ")";
      results.record("drain of a host: request until ended" + s, "ms", totalMs, Double.NaN, null, Double.NaN);
      results.record("drain of a host: containers moved per second (higher is better)" + s, "containers/s", moved / (totalMs / 1000),
          Double.NaN, null, Double.NaN);
      results.record("drain of a host: containers left (lastDrainLeft)" + s, "containers", left.size(), Double.NaN, null, Double.NaN);
      if (!wrong.isEmpty()) throw new IllegalStateException("moved but not as they were: " + wrong);
    } finally {
      for (String h : cordoned) uncordonQuietly(api, h);
      if (drained) uncordonQuietly(api, host);
      for (String name : names) api.destroyQuietly(name, Duration.ofMinutes(2));
    }
  }

  private static void create(ClusterApi api, String name, String host) throws IOException, InterruptedException {
    ObjectNode body = ClusterApi.object().put("name", name).put("template", "busybox").put("start", true);
    body.putArray("command").add("/bin/sleep").add("100000");
    body.putObject("limits").put("cpu", "0.1").put("memory", "32M").put("pids", "16");
    JsonNode c = api.expect(201, "POST", "/v1/containers", body, CALL);
    if (!host.equals(c.path("host").asText()) || !"running".equals(c.path("phase").asText())) {
      throw new IllegalStateException("container " + name + " was to run on " + host + " (the others cordoned): it is " + c.path("phase").asText()
          + " on " + c.path("host").asText());
    }
  }

  private static void uncordonQuietly(ClusterApi api, String host) {
    try {
      ClusterApi.Answer a = api.call("POST", "/v1/hosts/" + host + "/uncordon", null, CALL);
      if (!a.ok()) System.err.println("cleanup: host " + host + " was not uncordoned: HTTP " + a.status() + " " + a.text());
    } catch (IOException | RuntimeException e) {
      System.err.println("cleanup: host " + host + " was not uncordoned: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static int number(String what, String text, int min, int max) {
    try {
      int n = Integer.parseInt(text);
      if (n >= min && n <= max) return n;
    } catch (NumberFormatException e) {
      // below
    }
    System.err.println(what + ": must be a whole number from " + min + " to " + max + " (got '" + text + "')");
    System.err.println("usage: DrainBench [count] [parallel] [host]");
    System.exit(2);
    return 0;
  }
}
