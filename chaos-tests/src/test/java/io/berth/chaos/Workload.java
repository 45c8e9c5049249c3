package io.berth.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * K clients, each on its own thread with its own {@code Random(seed, client)}, issuing random operations through the
 * REST API on a bounded pool of container names (a name comes back after its container is destroyed), until each has
 * issued {@code maxOps} or the deadline passed. Every operation goes into the history as an invoke and its completion,
 * sent with an X-Correlation-Id of its own so the events it caused can be found in the log.
 */
final class Workload {
  /** What the clients do, and how often (the weights: changes of one container far more often than a drain). */
  enum Kind {
    CREATE(6), START(4), STOP(4), EXEC(3), SET(3), MIGRATE_LIVE(3), MIGRATE_COLD(2), DRAIN(1), UNCORDON(2), DESTROY(3);

    final int weight;

    Kind(int weight) {
      this.weight = weight;
    }

    String f() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  /**
   * The mix of operations: every kind with its own weight when {@code spec} is blank, else only the kinds it lists,
   * {@code kind[:weight]} separated by commas ({@code create,start}: containers made and started, none stopped, moved
   * or destroyed, which a fencing test wants). An unknown kind or a weight below 1 is refused, naming what is allowed.
   */
  static Map<Kind, Integer> weights(String spec) {
    Map<Kind, Integer> out = new java.util.EnumMap<>(Kind.class);
    if (spec == null || spec.isBlank()) {
      for (Kind k : Kind.values()) out.put(k, k.weight);
      return out;
    }
    for (String part : spec.split(",")) {
      String[] kw = part.strip().split(":", 2);
      Kind kind = java.util.Arrays.stream(Kind.values()).filter(k -> k.f().equals(kw[0])).findFirst().orElseThrow(() -> new IllegalArgumentException(
          "berth.chaos.ops: \"" + kw[0] + "\" is not an operation (one of " + java.util.Arrays.stream(Kind.values()).map(Kind::f).toList() + ")"));
      int weight;
      try {
        weight = kw.length == 1 ? kind.weight : Integer.parseInt(kw[1]);
      } catch (NumberFormatException e) {
        weight = 0;
      }
      if (weight < 1) throw new IllegalArgumentException("berth.chaos.ops: the weight of " + kw[0] + " must be a whole number of at least 1 (got \"" + part.strip() + "\")");
      out.put(kind, weight);
    }
    return out;
  }

  /** Its bounds, mix and seed; a run with the same ones issues the same operations in each client's order. */
  record Settings(long seed, int clients, List<String> names, List<String> hosts, int maxOps, Duration length, Duration opTimeout,
      Map<Kind, Integer> weights) {}

  private final Api api;
  private final History history;
  private final Settings settings;

  Workload(Api api, History history, Settings settings) {
    this.api = api;
    this.history = history;
    this.settings = settings;
  }

  /** Runs every client to its bound; returns how many operations were issued. */
  int run() throws InterruptedException {
    long deadline = System.nanoTime() + settings.length().toNanos();
    List<Thread> threads = new ArrayList<>();
    int[] issued = new int[settings.clients()];
    for (int c = 0; c < settings.clients(); c++) {
      int client = c;
      Thread t = new Thread(() -> issued[client] = client(client, deadline), "chaos-client-" + c);
      t.start();
      threads.add(t);
    }
    // Each op is bounded by opTimeout, so the clients end within length + opTimeout (+ the pause between two ops).
    long joinBy = deadline + settings.opTimeout().plusSeconds(5).toNanos();
    for (Thread t : threads) {
      t.join(Math.max(1, (joinBy - System.nanoTime()) / 1_000_000));
      if (t.isAlive()) throw new AssertionError(t.getName() + " did not end within its bound (" + settings.length() + " + " + settings.opTimeout() + ")");
    }
    int total = 0;
    for (int n : issued) total += n;
    return total;
  }

  private int client(int client, long deadline) {
    Random random = new Random(settings.seed() * 1_000_003L + client);
    int n = 0;
    while (n < settings.maxOps() && System.nanoTime() < deadline) {
      Kind kind = pick(random, settings.weights());
      String ct = settings.names().get(random.nextInt(settings.names().size()));
      String host = settings.hosts().get(random.nextInt(settings.hosts().size()));
      issue(client, kind, ct, host, random);
      n++;
      Berth.sleep(100 + random.nextInt(700));
    }
    return n;
  }

  private static Kind pick(Random random, Map<Kind, Integer> weights) {
    int total = 0;
    for (int w : weights.values()) total += w;
    int r = random.nextInt(total);
    for (Map.Entry<Kind, Integer> k : weights.entrySet()) {
      r -= k.getValue();
      if (r < 0) return k.getKey();
    }
    throw new IllegalStateException("unreachable");
  }

  private void issue(int client, Kind kind, String ct, String host, Random random) {
    String method;
    String path;
    String body;
    String target = ct;
    Map<String, Object> args = new LinkedHashMap<>();
    switch (kind) {
      case CREATE -> {
        boolean start = random.nextInt(4) != 0;
        boolean shared = random.nextInt(3) == 0;
        method = "POST";
        path = "/v1/containers";
        body = "{\"name\":\"" + ct + "\",\"template\":\"busybox\",\"command\":[\"sleep\",\"100000\"],\"limits\":{\"memory\":\"64M\",\"cpu\":\"0.25\"},"
            + "\"restart\":\"always\",\"storage\":\"" + (shared ? "shared" : "local") + "\",\"start\":" + start + "}";
        args.put("start", start);
        args.put("storage", shared ? "shared" : "local");
      }
      case START -> {
        method = "POST";
        path = "/v1/containers/" + ct + "/start";
        body = null;
      }
      case STOP -> {
        method = "POST";
        path = "/v1/containers/" + ct + "/stop";
        body = "{\"timeoutMillis\":2000}";
      }
      case EXEC -> {
        method = "POST";
        path = "/v1/containers/" + ct + "/exec";
        body = "{\"command\":[\"hostname\"],\"timeoutMillis\":5000}";
      }
      case SET -> {
        String memory = List.of("64M", "96M", "128M").get(random.nextInt(3));
        method = "PATCH";
        path = "/v1/containers/" + ct + "/limits";
        body = "{\"memory\":\"" + memory + "\"}";
        args.put("memory", memory);
      }
      case MIGRATE_LIVE, MIGRATE_COLD -> {
        String mode = kind == Kind.MIGRATE_LIVE ? "live" : "cold";
        method = "POST";
        path = "/v1/containers/" + ct + "/migrations";
        body = "{\"mode\":\"" + mode + "\"}";
        args.put("mode", mode);
      }
      case DRAIN -> {
        target = host;
        method = "POST";
        path = "/v1/hosts/" + host + "/drain";
        body = "{\"mode\":\"live\",\"parallel\":2}";
      }
      case UNCORDON -> {
        target = host;
        method = "POST";
        path = "/v1/hosts/" + host + "/uncordon";
        body = null;
      }
      case DESTROY -> {
        method = "DELETE";
        path = "/v1/containers/" + ct;
        body = null;
      }
      default -> throw new IllegalStateException(kind.toString());
    }
    String process = Integer.toString(client);
    String correlation = "chaos-" + UUID.randomUUID();
    history.add(process, History.Type.INVOKE, kind.f(), target, correlation, args, method + " " + path);
    Api.Answer a = api.call(client, method, path, body, Map.of("X-Correlation-Id", correlation, "X-Berth-Reason", "chaos client " + client),
        settings.opTimeout());
    History.Type outcome = a.unknown() ? History.Type.UNKNOWN : a.ok() ? History.Type.OK : History.Type.FAIL;
    // A 503 from a change says it may go on (a saga's patience ran out) or it could not be made durable: either way it
    // may have happened, so it is unknown, not a failure.
    if (a.status() == 503) outcome = History.Type.UNKNOWN;
    history.add(process, outcome, kind.f(), target, correlation, args, a.summary());
  }
}
