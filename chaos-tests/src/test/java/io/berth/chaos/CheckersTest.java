package io.berth.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each checker fails on a hand-made bad input (a history, a log, a kernel sample) and its problem names the
 * container, the hosts and the times; and passes on the matching good one. No cluster: these run everywhere.
 */
class CheckersTest {
  private static final Instant T = Instant.parse("2026-12-02T13:00:00Z");

  @Test
  void neverTwoCopiesFailsWhenASampleSeesTwoHosts() throws Exception {
    var flip = new java.util.concurrent.atomic.AtomicInteger();
    try (CopySampler bad = new CopySampler(() -> flip.incrementAndGet() % 50 == 25 ? List.of("node-1", "node-3") : List.of("node-1"), "ch-1",
        Duration.ofMillis(1)); CopySampler good = new CopySampler(() -> List.of("node-2"), "ch-2", Duration.ofMillis(1))) {
      awaitSamples(bad, good);
      Verdict v = Checkers.neverTwoCopies(List.of(bad, good));
      assertFalse(v.valid());
      assertEquals(1, v.problems().size(), v.problems().toString());
      assertTrue(v.problems().get(0).contains("two copies of ch-1") && v.problems().get(0).contains("[node-1, node-3]"), v.problems().get(0));
      assertTrue(Checkers.neverTwoCopies(List.of(good)).valid());
    }
  }

  @Test
  void neverTwoCopiesFailsWhenTheSamplerSawTooLittle() {
    CopySampler idle = new CopySampler(() -> List.of(), "ch-3", Duration.ofSeconds(10));
    idle.close();
    Verdict v = Checkers.neverTwoCopies(List.of(idle));
    assertFalse(v.valid());
    assertTrue(v.problems().get(0).contains("ch-3 ran only"), v.problems().toString());
  }

  @Test
  void anAcknowledgedChangeMissingFromTheLogIsFound() {
    History h = new History();
    h.add(op("0", History.Type.INVOKE, "stop", "ch-1", "c-1", T));
    h.add(op("nemesis", History.Type.INVOKE, "partition", "node-2", "nemesis-0", T.minusSeconds(1)));
    h.add(op("0", History.Type.OK, "stop", "ch-1", "c-1", T.plusSeconds(1)));
    h.add(op("nemesis", History.Type.OK, "partition", "node-2", "nemesis-0", T.plusSeconds(5)));
    h.add(op("1", History.Type.INVOKE, "exec", "ch-1", "c-2", T));
    h.add(op("1", History.Type.OK, "exec", "ch-1", "c-2", T.plusSeconds(1))); // exec records nothing: not asked for
    h.add(op("2", History.Type.INVOKE, "start", "ch-2", "c-3", T));
    h.add(op("2", History.Type.UNKNOWN, "start", "ch-2", "c-3", T.plusSeconds(30))); // may not have happened: not asked for
    Verdict lost = Checkers.acknowledgedInLog(h, List.of(new Checkers.LogEvent("container", "ch-1", "ContainerStopped", "c-other", T)));
    assertFalse(lost.valid());
    String p = lost.problems().get(0);
    assertTrue(p.contains("stop ch-1") && p.contains("c-1") && p.contains(T.plusSeconds(1).toString()) && p.contains("partition node-2"), p);
    // the same event under another entity's name does not count
    assertFalse(Checkers.acknowledgedInLog(h, List.of(new Checkers.LogEvent("container", "ch-2", "ContainerStopped", "c-1", T))).valid());
    assertTrue(Checkers.acknowledgedInLog(h, List.of(new Checkers.LogEvent("container", "ch-1", "ContainerStopped", "c-1", T))).valid());
  }

  @Test
  void anUncordonOfAnUncordonedHostNeedsNoEventButOneOfACordonedHostDoes() {
    History h = new History();
    h.add(op("0", History.Type.INVOKE, "uncordon", "node-1", "u-1", T));
    h.add(op("0", History.Type.OK, "uncordon", "node-1", "u-1", T.plusSeconds(1)));
    List<Checkers.LogEvent> neverCordoned = List.of(new Checkers.LogEvent("host", "node-1", "HostRegistered", "r", T.minusSeconds(60)));
    assertTrue(Checkers.acknowledgedInLog(h, neverCordoned).valid());
    List<Checkers.LogEvent> cordoned = List.of(new Checkers.LogEvent("host", "node-1", "HostRegistered", "r", T.minusSeconds(60)),
        new Checkers.LogEvent("host", "node-1", "DrainRequested", "d", T.minusSeconds(10)));
    Verdict lost = Checkers.acknowledgedInLog(h, cordoned);
    assertFalse(lost.valid(), "the host was draining: its uncordon must be in the log");
    assertTrue(lost.problems().get(0).contains("uncordon node-1"), lost.problems().toString());
  }

  @Test
  void aSetOfTheMemoryAContainerHasNeedsNoEventButAChangeDoes() throws Exception {
    History h = new History();
    h.add(new History.Op(0, "0", History.Type.INVOKE, "set", "ch-1", "s-1", T, Map.of("memory", "64M"), ""));
    h.add(new History.Op(0, "0", History.Type.OK, "set", "ch-1", "s-1", T.plusSeconds(1), Map.of("memory", "64M"), ""));
    // As the API gives them: a define's cap is in its spec, a change's in its limits.
    Checkers.LogEvent defined = Checkers.LogEvent.of(json("{\"entity\":{\"kind\":\"container\",\"id\":\"ch-1\"},\"type\":\"ContainerDefined\","
        + "\"correlationId\":\"c\",\"at\":\"" + T.minusSeconds(60) + "\",\"details\":{\"spec\":{\"limits\":{\"memory\":\"64M\"}}}}"));
    assertEquals("64M", defined.memory());
    assertTrue(Checkers.acknowledgedInLog(h, List.of(defined)).valid(), "64M already: nothing to record");
    Checkers.LogEvent changed = Checkers.LogEvent.of(json("{\"entity\":{\"kind\":\"container\",\"id\":\"ch-1\"},\"type\":\"LimitsChanged\","
        + "\"correlationId\":\"other\",\"at\":\"" + T.minusSeconds(30) + "\",\"details\":{\"limits\":{\"memory\":\"128M\"}}}"));
    Verdict lost = Checkers.acknowledgedInLog(h, List.of(defined, changed));
    assertFalse(lost.valid(), "it had 128M: setting 64M must be in the log");
    assertTrue(lost.problems().get(0).contains("set ch-1"), lost.problems().toString());
  }

  @Test
  void aKernelThatDoesNotMatchTheLogIsNotConverged() {
    Map<String, Checkers.Placed> log = Map.of("ch-1", new Checkers.Placed("running", "node-1"), "ch-2", new Checkers.Placed("stopped", "node-2"),
        "ch-3", new Checkers.Placed("running", "node-3"));
    Map<String, List<String>> kernel = Map.of("ch-1", List.of("node-2"), "ch-2", List.of("node-2"), "ch-4", List.of("node-1"));
    List<String> m = Checkers.mismatches(log, kernel, T);
    assertEquals(4, m.size(), m.toString());
    assertTrue(m.get(0).contains("ch-1") && m.get(0).contains("running on node-1") && m.get(0).contains("[node-2]") && m.get(0).contains(T.toString()), m.get(0));
    assertTrue(m.get(1).contains("ch-2: the log says stopped"), m.get(1));
    assertTrue(m.get(2).contains("ch-3") && m.get(2).contains("[]"), m.get(2));
    assertTrue(m.get(3).contains("ch-4 is not in the log"), m.get(3));
    Verdict v = Checkers.converged(m, T, Duration.ofSeconds(90), Duration.ofSeconds(91));
    assertFalse(v.valid());
    assertTrue(v.problems().get(0).startsWith("not converged 90 s after the last heal (" + T + ")"), v.problems().get(0));
    assertTrue(Checkers.mismatches(Map.of("ch-1", new Checkers.Placed("running", "node-1")), Map.of("ch-1", List.of("node-1")), T).isEmpty());
    assertEquals(1, Checkers.mismatches(Map.of("ch-1", new Checkers.Placed("migrating", "node-1")), Map.of(), T).size(), "a move in flight is not converged");
  }

  @Test
  void everyKindOfLeftoverIsALeak() {
    KernelSample dirty = new KernelSample(T, List.of("node-1", "node-2"), Map.of(), List.of("node-1: pid 42 (sleep) in /sys/fs/cgroup/pids/x-node-1/ch-1"),
        List.of("node-1: /sys/fs/cgroup/memory/x-node-1/ch-1"), List.of("/l/cluster/node-1/isolation/containers/ch-1/rootfs"),
        List.of("/dev/loop7 on /l/cluster/node-1/disks/ch-1.img"), List.of("node-2: bv0123456789ab"), List.of("node-2: chain c_bv0123456789ab"),
        List.of("node-1: /l/cluster/node-1/isolation/containers/ch-1"));
    Verdict v = Checkers.noLeaks(dirty);
    assertFalse(v.valid());
    assertEquals(7, v.problems().size(), v.problems().toString());
    for (String kind : List.of("process", "cgroup", "mount", "loop device", "veth", "nft chain", "directory")) {
      assertTrue(v.problems().stream().anyMatch(p -> p.startsWith(kind) && p.contains("ch-1") || p.startsWith(kind) && p.contains("bv0123")), kind);
    }
    assertTrue(v.problems().stream().allMatch(p -> p.contains(T.toString())), v.problems().toString());
    KernelSample clean = new KernelSample(T, List.of("node-1"), Map.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
    assertTrue(Checkers.noLeaks(clean).valid());
  }

  @Test
  void aBrokenChainOrAReplayThatDiffersFromTheLiveEntityFails() throws Exception {
    JsonNode intact = json("{\"intact\":true,\"entitiesChecked\":3,\"eventsChecked\":40,\"brokenLinks\":[]}");
    JsonNode live = json("{\"id\":\"ch-1\",\"phase\":\"running\",\"host\":\"node-2\",\"limits\":{\"memory\":\"96M\"},\"used\":{\"cpu\":1}}");
    JsonNode same = json("{\"id\":\"ch-1\",\"phase\":\"running\",\"host\":\"node-2\",\"limits\":{\"memory\":\"96M\"},\"used\":null}");
    JsonNode stale = json("{\"id\":\"ch-1\",\"phase\":\"running\",\"host\":\"node-2\",\"limits\":{\"memory\":\"64M\"}}");
    assertTrue(Checkers.audit(intact, Map.of("ch-1", new JsonNode[] {live, same})).valid(), "measurements are not state");
    Verdict differs = Checkers.audit(intact, Map.of("ch-1", new JsonNode[] {live, stale}));
    assertFalse(differs.valid());
    assertTrue(differs.problems().get(0).contains("ch-1 on node-2") && differs.problems().get(0).contains("limits"), differs.problems().get(0));
    Verdict broken = Checkers.audit(json("{\"intact\":false,\"brokenLinks\":[\"container ch-1 #4\"]}"), Map.of());
    assertFalse(broken.valid());
    assertTrue(broken.problems().get(0).contains("ch-1 #4"), broken.problems().get(0));
  }

  @Test
  void aFiveHundredAnAcceptedBadChangeOrAChangedStateFailsTheFuzzer() throws Exception {
    JsonNode s = json("{\"containers\":[{\"id\":\"ch-1\",\"events\":4}]}");
    List<Checkers.Fuzzed> fine = List.of(new Checkers.Fuzzed("POST /v1/containers body {", 400, "400 malformed-body"),
        new Checkers.Fuzzed("GET /v1/containers/ch-1?junk=1", 200, "200"));
    assertTrue(Checkers.badInput(fine, s, s, List.of()).valid(), "a read that ignores a parameter changes nothing");
    assertFalse(Checkers.badInput(List.of(new Checkers.Fuzzed("POST /v1/containers body x", 500, "500 failed")), s, s, List.of()).valid());
    assertFalse(Checkers.badInput(List.of(new Checkers.Fuzzed("POST /v1/containers body x", 0, "no answer")), s, s, List.of()).valid());
    Verdict accepted = Checkers.badInput(List.of(new Checkers.Fuzzed("POST /v1/containers/ch-1/stop headers {X-Berth-Principal=}", 200, "200")), s, s, List.of());
    assertFalse(accepted.valid());
    assertTrue(accepted.problems().get(0).contains("was accepted"), accepted.problems().toString());
    Verdict changed = Checkers.badInput(fine, s, json("{\"containers\":[{\"id\":\"ch-1\",\"events\":5}]}"), List.of());
    Verdict caused = Checkers.badInput(fine, s, s, List.of("LimitsChanged of ch-1 at " + T + " from PATCH /v1/containers/ch-1/limits body {}"));
    assertFalse(caused.valid());
    assertTrue(caused.problems().get(0).contains("LimitsChanged of ch-1"), caused.problems().toString());
    assertFalse(changed.valid());
    assertTrue(changed.problems().get(0).contains("the state changed"), changed.problems().toString());
  }

  @Test
  void theFuzzersCasesAreManyAndEachIsSentFirst() {
    var cases = new Fuzzer(new Api(List.of(java.net.URI.create("http://127.0.0.1:9"))), 1, "ch-1", "node-1").cases();
    assertTrue(cases.size() > 60, "cases: " + cases.size());
    assertTrue(cases.stream().anyMatch(c -> c.body() != null && c.body().length() > 256 * 1024), "one body is over the 256 KiB limit");
    assertTrue(cases.stream().anyMatch(c -> c.headers().containsKey("X-Berth-Principal")), "headers are fuzzed");
    assertTrue(cases.stream().anyMatch(c -> c.path().contains("?")), "query parameters are fuzzed");
  }

  @Test
  void theSummaryNamesTheSeedAndEachVerdict() {
    History h = new History();
    h.add(op("0", History.Type.INVOKE, "create", "ch-1", "c", T));
    h.add(op("0", History.Type.OK, "create", "ch-1", "c", T));
    String s = ChaosReport.summary(7, h, List.of(Verdict.of("convergence", List.of("ch-1 somewhere"), "x")));
    assertTrue(s.contains("seed 7") && s.contains("create") && s.contains("INVALID") && s.contains("ch-1 somewhere"), s);
  }

  private static void awaitSamples(CopySampler... samplers) {
    Berth.await("the samplers took 60 samples", Duration.ofSeconds(10), () -> java.util.Arrays.stream(samplers).allMatch(s -> s.samples() >= 60));
  }

  private static History.Op op(String process, History.Type type, String f, String target, String corr, Instant at) {
    return new History.Op(0, process, type, f, target, corr, at, Map.of(), "");
  }

  private static JsonNode json(String s) throws Exception {
    return Berth.JSON.readTree(s);
  }
}
