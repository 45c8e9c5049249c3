package io.berth.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Malformed, oversized and rule-breaking requests, drawn with a seed from cases on every kind of door: bodies (not
 * JSON, wrong types, unknown and duplicate fields, values past their rules, 300 KiB), paths (bad ids, traversal,
 * NUL, unknown routes and methods), query parameters (bad times, page sizes, formats) and headers (principal,
 * reason, correlation id, content type). Each targets a live container or host where it can, so a request wrongly
 * taken would change something; {@link #fingerprint} reads the state before and after.
 */
final class Fuzzer {
  /** One request: method, path, body (null: none), headers. */
  record Request(String method, String path, String body, Map<String, String> headers) {
    String describe() {
      String b = body == null ? "" : " body " + (body.length() > 120 ? body.substring(0, 120) + "... (" + body.length() + " chars)" : body);
      String h = headers.isEmpty() ? "" : " headers " + abbreviate(headers.toString());
      return method + " " + abbreviate(path) + b + h;
    }

    private static String abbreviate(String s) {
      return s.length() > 160 ? s.substring(0, 160) + "... (" + s.length() + " chars)" : s;
    }
  }

  private final Api api;
  private final Random random;
  private final String ct;
  private final String host;
  private final Map<String, String> sent = new LinkedHashMap<>();

  /** {@code ct} a live container and {@code host} a host: the targets a wrongly accepted request would change. */
  Fuzzer(Api api, long seed, String ct, String host) {
    this.api = api;
    this.random = new Random(seed ^ 0x66757a7aL);
    this.ct = ct;
    this.host = host;
  }

  List<Checkers.Fuzzed> run(int count) {
    List<Request> cases = cases();
    List<Checkers.Fuzzed> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Request r = i < cases.size() ? cases.get(i) : mutate(cases.get(random.nextInt(cases.size())));
      // Each request under a correlation id of its own, so an event it wrongly caused names it (unless it fuzzes that header).
      Map<String, String> headers = new LinkedHashMap<>(r.headers());
      headers.putIfAbsent("X-Correlation-Id", "fuzz-" + i);
      sent.put("fuzz-" + i, r.describe());
      Api.Answer a = api.call(i, r.method(), r.path(), r.body(), headers, Duration.ofSeconds(15));
      out.add(new Checkers.Fuzzed(r.describe(), a.status(), a.summary()));
    }
    return out;
  }

  private static final Map<String, String> NONE = Map.of();

  /**
   * The events of any container or host whose correlation id is one the fuzzer sent, each with the request: what a
   * rule-breaking request did that it must not.
   */
  List<String> eventsCaused(List<String> containers, List<String> hosts) {
    List<String> out = new ArrayList<>();
    List<String> paths = new ArrayList<>();
    containers.forEach(c -> paths.add("/v1/containers/" + c + "/history?limit=1000"));
    hosts.forEach(h -> paths.add("/v1/hosts/" + h + "/history?limit=1000"));
    for (String p : paths) {
      for (JsonNode e : api.get(p).json().path("items")) {
        String request = sent.get(e.path("correlationId").asText());
        if (request != null) out.add(e.path("type").asText() + " of " + e.path("entity").path("id").asText() + " at " + e.path("at").asText() + " from " + request);
      }
    }
    return out;
  }

  /** The hand-picked cases, each breaking one rule (in order: every one is sent once before any mutation). */
  List<Request> cases() {
    String big = "x".repeat(300 * 1024);
    String c = "/v1/containers/" + ct;
    String h = "/v1/hosts/" + host;
    List<Request> r = new ArrayList<>();
    // bodies
    for (String body : List.of("not json", "{", "[]", "null", "\"x\"", "{\"name\":\"fz-1\"}", "{\"name\":\"FZ UPPER\",\"template\":\"busybox\"}",
        "{\"name\":\"" + "a".repeat(300) + "\",\"template\":\"busybox\"}", "{\"name\":\"../fz\",\"template\":\"busybox\"}",
        "{\"name\":\"fz-2\",\"template\":\"busybox\",\"limits\":{\"memory\":\"1M\"}}",
        "{\"name\":\"fz-3\",\"template\":\"busybox\",\"limits\":{\"memory\":\"99999999999999999999T\"}}",
        "{\"name\":\"fz-4\",\"template\":\"busybox\",\"limits\":{\"cpu\":\"abc\"}}",
        "{\"name\":\"fz-5\",\"template\":\"busybox\",\"limits\":{\"pids\":-1}}",
        "{\"name\":\"fz-6\",\"template\":\"busybox\",\"limits\":{\"memroy\":\"64M\"}}",
        "{\"name\":\"fz-7\",\"template\":\"busybox\",\"name\":\"fz-8\"}",
        "{\"name\":\"fz-9\",\"template\":\"busybox\",\"command\":[\"a\\u0000b\"]}",
        "{\"name\":\"fz-10\",\"template\":\"busybox\",\"checkpointEvery\":\"5s\"}",
        "{\"name\":\"fz-11\",\"template\":\"busybox\",\"storage\":\"floppy\"}",
        "{\"name\":\"fz-12\",\"template\":\"busybox\",\"restart\":\"sometimes\"}",
        "{\"name\":\"fz-13\",\"template\":\"busybox\",\"limits\":{\"cpu\":\"0.5\",\"cpuGuarantee\":\"1\"}}",
        "{\"name\":\"fz-14\",\"template\":\"busybox\",\"labels\":{\"BAD KEY\":\"v\"}}",
        "{\"name\":\"fz-15\",\"template\":\"busybox\",\"placement\":{\"host\":\"no host!\"}}",
        "{\"name\":\"fz-16\",\"template\":\"busybox\",\"start\":\"yes\"}",
        "{\"name\":\"fz-17\",\"template\":\"busybox\",\"big\":\"" + big + "\"}")) {
      r.add(new Request("POST", "/v1/containers", body, NONE));
    }
    r.add(new Request("POST", "/v1/containers", "{\"name\":\"fz-18\",\"template\":\"busybox\"}", Map.of("Content-Type", "text/plain")));
    for (String body : List.of("{\"memory\":\"1M\"}", "{\"memory\":[]}", "{\"memroy\":\"64M\"}", "{\"cpuGuarantee\":\"64\"}", "{\"cpuWeight\":0}",
        "{\"pids\":\"many\"}", "{\"memory\":\"64M\",\"memory\":\"128M\"}")) {
      r.add(new Request("PATCH", c + "/limits", body, NONE));
    }
    r.add(new Request("PUT", c + "/limits", "{\"disk\":\"-1\"}", NONE));
    r.add(new Request("POST", c + "/stop", "{\"timeoutMillis\":-1}", NONE));
    r.add(new Request("POST", c + "/stop", "{\"timeoutMillis\":\"soon\"}", NONE));
    r.add(new Request("POST", c + "/kill", "{\"signal\":\"FOO\"}", NONE));
    r.add(new Request("POST", c + "/kill", "{\"signal\":65}", NONE));
    r.add(new Request("POST", c + "/exec", "{\"command\":[]}", NONE));
    r.add(new Request("POST", c + "/exec", "{}", NONE));
    r.add(new Request("POST", c + "/exec", "{\"command\":[\"true\"],\"timeoutMillis\":0}", NONE));
    r.add(new Request("POST", c + "/migrations", "{\"mode\":\"warp\"}", NONE));
    r.add(new Request("POST", c + "/migrations", "{\"mode\":\"live\",\"postCopy\":\"maybe\"}", NONE));
    r.add(new Request("POST", c + "/migrations", "{\"to\":\"NODE 9\"}", NONE));
    r.add(new Request("POST", c + "/recover", "{\"from\":\"thin air\"}", NONE));
    r.add(new Request("PUT", c + "/checkpoint-schedule", "{\"checkpointEvery\":\"1s\"}", NONE));
    r.add(new Request("POST", h + "/drain", "{\"mode\":\"fast\"}", NONE));
    r.add(new Request("POST", h + "/drain", "{\"parallel\":0}", NONE));
    r.add(new Request("POST", h + "/drain", "{\"parallel\":65}", NONE));
    r.add(new Request("POST", h + "/cordon", "{\"why\":\"body on a bodiless call\"}", NONE));
    r.add(new Request("POST", "/v1/audit/verify", "{\"container\":\"" + ct + "\",\"host\":\"" + host + "\"}", NONE));
    r.add(new Request("POST", "/v1/templates", "{\"name\":\"BAD NAME\",\"path\":\"/tmp\"}", NONE));
    r.add(new Request("POST", "/v1/templates", "{\"name\":\"fz-t\",\"path\":\"relative/path\"}", NONE));
    // paths
    for (String p : List.of("/v1/containers/%00", "/v1/containers/..%2f..%2fetc", "/v1/containers/" + "a".repeat(300) + "/start",
        "/v1/containers/%E5%90%8D%E5%89%8D/stop", "/v1/hosts/node-99/drain", "/v1/nothing", "/v1//containers", "/v2/containers",
        "/v1/containers/UPPER/start")) {
      r.add(new Request("POST", p, "{}", NONE));
    }
    r.add(new Request("PUT", "/v1/status", "{}", NONE));
    r.add(new Request("DELETE", "/v1/hosts/" + host, null, NONE));
    r.add(new Request("DELETE", "/v1/containers/fz-never", null, NONE));
    // query parameters
    for (String q : List.of(c + "?at=yesterday", c + "/history?limit=-1", c + "/history?limit=1000000000000", c + "/history?from=abc",
        c + "/history?format=xml", "/v1/audit/timeline?since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z", "/v1/audit/timeline?since=garbage",
        "/v1/events?offset=%20bad")) {
      r.add(new Request("GET", q, null, NONE));
    }
    // headers on a change that would otherwise go through: a bad header must stop it
    String stop = "{\"timeoutMillis\":1000}";
    r.add(new Request("POST", c + "/stop", stop, Map.of("X-Berth-Principal", "")));
    r.add(new Request("POST", c + "/stop", stop, Map.of("X-Berth-Principal", "root; rm -rf /")));
    r.add(new Request("POST", c + "/stop", stop, Map.of("X-Berth-Principal", "p".repeat(2000))));
    r.add(new Request("POST", c + "/stop", stop, Map.of("X-Berth-Reason", "r".repeat(2000))));
    r.add(new Request("POST", c + "/stop", stop, Map.of("X-Correlation-Id", "c".repeat(5000))));
    r.add(new Request("PATCH", c + "/limits", "{\"memory\":\"96M\"}", Map.of("Content-Type", "application/xml")));
    return r;
  }

  /** A case with one more thing wrong: a field's value replaced by a random type, or garbage bytes, or truncation. */
  private Request mutate(Request r) {
    String body = r.body();
    int how = random.nextInt(4);
    if (body == null || how == 0) return new Request(r.method(), r.path(), randomJunk(), r.headers());
    if (how == 1 && body.length() > 2) return new Request(r.method(), r.path(), body.substring(0, 1 + random.nextInt(body.length() - 1)), r.headers());
    try {
      JsonNode tree = Berth.JSON.readTree(body);
      if (tree instanceof ObjectNode o && o.size() > 0) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        String f = names.get(random.nextInt(names.size()));
        switch (random.nextInt(4)) {
          case 0 -> o.put(f, random.nextLong());
          case 1 -> o.putArray(f).add("x").add(random.nextInt());
          case 2 -> o.put(f, "\u0000" + "z".repeat(random.nextInt(5000)));
          default -> o.putObject(f).put("nested", true);
        }
        return new Request(r.method(), r.path(), Berth.JSON.writeValueAsString(o), r.headers());
      }
    } catch (Exception notJson) {
      // the case was not JSON to begin with: junk it further below
    }
    return new Request(r.method(), r.path(), randomJunk(), r.headers());
  }

  private String randomJunk() {
    StringBuilder b = new StringBuilder();
    int n = 1 + random.nextInt(64);
    for (int i = 0; i < n; i++) b.append((char) (random.nextInt(0x5f) + 0x20));
    return b.toString();
  }

  /**
   * What the fuzzer must not change: each container's phase, host, limits, spec and number of events; each host's
   * phase, cordon and drain; the templates. Read through the API (a container's events from its own log, which is
   * read back at once, not the eventually consistent timeline).
   */
  static JsonNode fingerprint(Api api) {
    ObjectNode fp = Berth.JSON.createObjectNode();
    ArrayNode cts = fp.putArray("containers");
    for (JsonNode c : api.get("/v1/containers").json().path("items")) {
      ObjectNode o = cts.addObject();
      for (String f : List.of("id", "phase", "host", "limits", "restart", "labels", "command", "storage", "privileged", "checkpointEvery")) o.set(f, c.path(f));
      o.put("events", api.get("/v1/containers/" + c.path("id").asText() + "/history?limit=1000").json().path("items").size());
    }
    ArrayNode hosts = fp.putArray("hosts");
    for (JsonNode h : api.get("/v1/hosts").json().path("items")) {
      ObjectNode o = hosts.addObject();
      for (String f : List.of("id", "phase", "cordoned", "draining")) o.set(f, h.path(f));
    }
    fp.set("templates", api.get("/v1/templates").json().path("items"));
    return fp;
  }

  static Map<String, Object> describe(List<Request> rs) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < rs.size(); i++) m.put(Integer.toString(i), rs.get(i).describe());
    return m;
  }
}
