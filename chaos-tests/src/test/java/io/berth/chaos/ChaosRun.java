package io.berth.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One chaos run against a started local cluster: the workload and the nemesis together for {@code length}; every
 * fault healed; then the checkers in the order their inputs allow: convergence (the kernels against the log within
 * {@code convergence} of the last heal), audit (chains and replay, while the containers live), bad input (the fuzzer,
 * against live containers), no leaks (after destroying everything), never two copies (the samplers, all run long),
 * acknowledged in log (the timeline, which lags). Returns the verdicts; writes the report.
 */
final class ChaosRun {
  record Settings(long seed, int clients, int names, Duration length, int maxOpsPerClient, List<Nemesis.Fault> faults, Duration gap,
      Duration hold, Duration convergence, int fuzz, Map<Workload.Kind, Integer> ops) {
    Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("seed", seed);
      m.put("clients", clients);
      m.put("names", names);
      m.put("length", length.toString());
      m.put("maxOpsPerClient", maxOpsPerClient);
      m.put("faults", faults.stream().map(Nemesis.Fault::f).toList());
      m.put("gap", gap.toString());
      m.put("hold", hold.toString());
      m.put("convergence", convergence.toString());
      m.put("fuzz", fuzz);
      Map<String, Integer> mix = new LinkedHashMap<>();
      ops.forEach((k, w) -> mix.put(k.f(), w));
      m.put("ops", mix);
      return m;
    }
  }

  private final Berth berth;
  private final Settings settings;
  private final History history = new History();
  private final List<String> names = new ArrayList<>();

  ChaosRun(Berth berth, Settings settings) {
    this.berth = berth;
    this.settings = settings;
    for (int i = 1; i <= settings.names(); i++) names.add("ch-" + i);
  }

  List<Verdict> run(Path reports) throws Exception {
    System.out.println("chaos run: seed " + settings.seed() + ", settings " + settings.asMap());
    Instant started = Instant.now();
    Api api = Api.of(berth.local);
    List<CopySampler> samplers = new ArrayList<>();
    for (String ct : names) samplers.add(new CopySampler(berth, ct, Duration.ofMillis(50)));
    List<Verdict> verdicts = new ArrayList<>();
    Nemesis nemesis = new Nemesis(berth, history, new Nemesis.Settings(settings.seed(), settings.faults(), Duration.ofSeconds(5), settings.gap(), settings.hold()));
    try {
      Workload workload = new Workload(api, history, new Workload.Settings(settings.seed(), settings.clients(), names, Berth.HOSTS,
          settings.maxOpsPerClient(), settings.length(), Duration.ofSeconds(30), settings.ops()));
      long deadline = System.nanoTime() + settings.length().toNanos();
      Thread faults = new Thread(() -> nemesis.run(deadline), "chaos-nemesis");
      if (!settings.faults().isEmpty()) faults.start();
      int ops;
      try {
        ops = workload.run();
      } finally {
        nemesis.stop();
        faults.join(Berth.UP.plusMinutes(1).toMillis());
        nemesis.healEverything();
      }
      System.out.println("chaos run: " + ops + " operations, faults: " + history.ops().stream().filter(o -> "nemesis".equals(o.process())).count() / 2);
      Berth.Run up = berth.berth(Berth.UP, "up", "--hosts", Integer.toString(Berth.HOSTS.size()));
      if (up.exit() != 0) throw new AssertionError("after the last heal, bin/berth up: " + up);
      Instant lastHeal = history.lastHeal() != null ? history.lastHeal() : Instant.now();
      for (String h : Berth.HOSTS) finalOp(api, "uncordon", h, "POST", "/v1/hosts/" + h + "/uncordon", null);

      verdicts.add(convergence(api, lastHeal));
      verdicts.add(audit(api));
      verdicts.add(badInput(api));
      verdicts.add(noLeaks(api));
      samplers.forEach(CopySampler::close);
      verdicts.add(0, Checkers.neverTwoCopies(samplers));
      verdicts.add(1, acknowledged(api, started));
    } finally {
      samplers.forEach(CopySampler::close);
      nemesis.healEverything();
      Path dir = ChaosReport.write(reports.resolve("run-" + started.toString().replace(':', '-') + "-seed-" + settings.seed()), settings.seed(),
          settings.asMap(), history, verdicts);
      ChaosReport.writeCopies(dir, samplers);
      ChaosReport.copyNodeLogs(dir, berth.local.resolve("cluster"));
      System.out.println(ChaosReport.summary(settings.seed(), history, verdicts));
      System.out.println("chaos report: " + dir);
    }
    return verdicts;
  }

  /** An operation of the run's own end (uncordon, destroy everything), recorded like the clients' ones. */
  private Api.Answer finalOp(Api api, String f, String target, String method, String path, String body) {
    String correlation = "chaos-final-" + UUID.randomUUID();
    history.add("final", History.Type.INVOKE, f, target, correlation, Map.of(), method + " " + path);
    Api.Answer a = api.call(0, method, path, body, Map.of("X-Correlation-Id", correlation), Duration.ofSeconds(60));
    history.add("final", a.unknown() || a.status() == 503 ? History.Type.UNKNOWN : a.ok() ? History.Type.OK : History.Type.FAIL, f, target,
        correlation, Map.of(), a.summary());
    return a;
  }

  private Verdict convergence(Api api, Instant lastHeal) {
    long deadline = System.nanoTime() + settings.convergence().toNanos();
    List<String> last;
    while (true) {
      Map<String, Checkers.Placed> log = logView(api);
      KernelSample k = KernelSample.read(berth);
      last = log == null ? List.of("the API did not list the containers at " + Instant.now()) : Checkers.mismatches(log, k.running(), k.at());
      if (last.isEmpty() || System.nanoTime() > deadline) break;
      Berth.sleep(1000);
    }
    return Checkers.converged(last, lastHeal, settings.convergence(), Duration.between(lastHeal, Instant.now()));
  }

  /** Every container the log knows, with its phase and host; null when the API could not say. */
  private static Map<String, Checkers.Placed> logView(Api api) {
    Api.Answer a = api.get("/v1/containers");
    if (!a.ok()) return null;
    Map<String, Checkers.Placed> view = new HashMap<>();
    for (JsonNode c : a.json().path("items")) view.put(c.path("id").asText(), new Checkers.Placed(c.path("phase").asText(), c.path("host").asText(null)));
    return view;
  }

  private Verdict audit(Api api) {
    Api.Answer verify = api.post("/v1/audit/verify", "{}");
    Map<String, JsonNode[]> views = new LinkedHashMap<>();
    for (JsonNode c : api.get("/v1/containers").json().path("items")) {
      String id = c.path("id").asText();
      JsonNode live = api.get("/v1/containers/" + id).json();
      JsonNode replayed = api.get("/v1/containers/" + id + "?at=" + Instant.now()).json();
      views.put(id, new JsonNode[] {live, replayed});
    }
    return Checkers.audit(verify.ok() ? verify.json() : Berth.JSON.createObjectNode().put("error", verify.summary()), views);
  }

  private Verdict badInput(Api api) {
    JsonNode before = Fuzzer.fingerprint(api);
    String target = before.path("containers").path(0).path("id").asText("ch-1");
    Fuzzer fuzzer = new Fuzzer(api, settings.seed(), target, Berth.HOSTS.get(0));
    List<Checkers.Fuzzed> fuzzed = fuzzer.run(settings.fuzz());
    JsonNode after = Fuzzer.fingerprint(api);
    List<String> ids = new ArrayList<>();
    before.path("containers").forEach(c -> ids.add(c.path("id").asText()));
    return Checkers.badInput(fuzzed, before, after, fuzzer.eventsCaused(ids, Berth.HOSTS));
  }

  /** Destroys every container (each a recorded op, retried while busy), then reads the kernels until clean or 60 s. */
  private Verdict noLeaks(Api api) {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode items = api.get("/v1/containers").json().path("items");
      if (items.isArray() && items.isEmpty()) break;
      for (JsonNode c : items) finalOp(api, "destroy", c.path("id").asText(), "DELETE", "/v1/containers/" + c.path("id").asText(), null);
      Berth.sleep(1000);
    }
    long clean = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    KernelSample k = KernelSample.read(berth);
    while (!k.leaks().isEmpty() && System.nanoTime() < clean) {
      Berth.sleep(1000);
      k = KernelSample.read(berth);
    }
    List<String> left = new ArrayList<>(k.leaks());
    JsonNode items = api.get("/v1/containers").json().path("items");
    for (JsonNode c : items) left.add("not destroyed within 120 s: " + c.path("id").asText() + " (" + c.path("phase").asText() + " on " + c.path("host").asText() + ")");
    return Verdict.of("no-leaks", left, "destroyed everything, then " + k.leaks().size() + " leftovers of processes, mounts, loop devices, cgroups, "
        + "veths, nft chains, directories on " + k.hosts() + " at " + k.at());
  }

  /** The events since the run began, read from the timeline until every acknowledged change is there or 60 s passed (it lags). */
  private Verdict acknowledged(Api api, Instant since) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Verdict v;
    while (true) {
      v = Checkers.acknowledgedInLog(history, timeline(api, since.minusSeconds(5)));
      if (v.valid() || System.nanoTime() > deadline) return v;
      Berth.sleep(2000);
    }
  }

  private static List<Checkers.LogEvent> timeline(Api api, Instant since) {
    Map<String, Checkers.LogEvent> seen = new LinkedHashMap<>();
    Instant from = since;
    Instant until = Instant.now().plusSeconds(1);
    for (int page = 0; page < 200; page++) {
      Api.Answer a = api.get("/v1/audit/timeline?since=" + from + "&until=" + until + "&limit=1000");
      if (!a.ok()) break;
      JsonNode items = a.json().path("items");
      int fresh = 0;
      Instant last = from;
      for (JsonNode e : items) {
        if (seen.putIfAbsent(e.path("persistenceId").asText() + "#" + e.path("sequenceNr").asText(), Checkers.LogEvent.of(e)) == null) fresh++;
        Instant at = Instant.parse(e.path("at").asText());
        if (at.isAfter(last)) last = at;
      }
      if (items.size() < 1000 || fresh == 0) break;
      from = last; // inclusive: events at that same instant are read again and dropped as seen
    }
    return new ArrayList<>(seen.values());
  }
}
