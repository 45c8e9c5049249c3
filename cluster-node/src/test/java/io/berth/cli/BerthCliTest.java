package io.berth.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.node.api.ApiTestServer;
import io.berth.node.api.ScriptedOperations;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.reply.Rejection;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The CLI's main logic in-process, against the real routes on a local port over {@link ScriptedOperations}. */
class BerthCliTest {
  static ApiTestServer server;
  ScriptedOperations ops;

  @BeforeAll
  static void up() throws Exception {
    server = new ApiTestServer();
  }

  @AfterAll
  static void down() throws Exception {
    if (server != null) server.close();
  }

  @BeforeEach
  void reset() {
    ops = server.ops;
    ops.reset();
  }

  static CliRun berth(String... args) {
    return berth(Map.of("BERTH_API", server.url), args);
  }

  static CliRun berth(Map<String, String> env, String... args) {
    return CliRun.of(env, args);
  }

  static void oneLineError(CliRun r, int code, String line) {
    assertEquals(code, r.code(), r.toString());
    assertEquals(line + "\n", r.err(), r.toString());
    assertEquals("", r.out(), r.toString());
  }

  @Test
  void createThenListAsATableAndAsJson() {
    CliRun c = berth("ct", "create", "web-1", "--template", "busybox", "--memory", "64M", "--cpus", "0.5", "--pids", "128",
        "--label", "app=web", "--host", "host-2", "--anti-affinity", "web", "--restart", "on-failure", "--start", "--", "/bin/sleep", "100");
    assertEquals(0, c.code(), c.toString());
    assertEquals("container web-1: running on host-2 at 198.18.1.10/16\n", c.out());
    assertEquals(List.of("create web-1 start=true limits=cpu=0.5 memory=64M pids=128 memory-guarantee=16M"), ops.calls);
    assertEquals(0, berth("ct", "create", "db", "--template", "busybox").code());

    CliRun list = berth("ct", "list");
    assertEquals(0, list.code(), list.toString());
    List<String> lines = list.lines();
    assertEquals(3, lines.size(), list.out());
    assertTrue(lines.get(0).startsWith("NAME   PHASE    HOST    ADDRESS"), lines.get(0));
    // CPU and MEMORY: measured use over the cap; db's host has not measured it yet.
    assertTrue(lines.get(1).startsWith("db     defined  host-1  198.18.1.10/16  busybox   -         -        512"), lines.get(1));
    assertTrue(lines.get(2).startsWith("web-1  running  host-2  198.18.1.10/16  busybox   0.12/0.5  20M/64M  128"), lines.get(2));
    int column = lines.get(0).indexOf("PHASE");
    for (String l : lines) assertEquals(' ', l.charAt(column - 1), "aligned: " + l);

    CliRun json = berth("ct", "list", "--output", "json");
    assertEquals(0, json.code());
    Map<String, Object> page = JsonText.object(json.out());
    assertEquals(2, Render.items(page).size());
    CliRun global = berth("--output", "json", "ct", "show", "web-1");
    assertEquals("web-1", JsonText.object(global.out()).get("id"), "--output before the verb works too: " + global);
  }

  @Test
  void showAsFieldsAndAtATime() {
    berth("ct", "create", "web-1", "--template", "busybox", "--label", "app=web", "--", "/bin/sh", "-c", "sleep 1");
    CliRun show = berth("ct", "show", "web-1");
    assertEquals(0, show.code(), show.toString());
    assertTrue(show.out().contains("name:      web-1\n"), show.out());
    assertTrue(show.out().contains("command:   /bin/sh -c sleep 1\n"), show.out());
    assertTrue(show.out().contains("limits:    cpu 1, memory 256M, pids 512\n"), show.out());
    assertTrue(show.out().contains("labels:    app=web\n"), show.out());
    assertTrue(show.out().contains("security:  unprivileged (own user namespace)\n"), show.out());
    assertEquals(0, berth("ct", "create", "ops-1", "--template", "busybox", "--privileged").code());
    CliRun priv = berth("ct", "show", "ops-1");
    assertTrue(priv.out().contains("security:  PRIVILEGED (root inside is root on the host)\n"), priv.out());
    assertEquals(Boolean.TRUE, JsonText.object(berth("ct", "show", "ops-1", "--output", "json").out()).get("privileged"));
    CliRun at = berth("ct", "show", "web-1", "--at", "2025-02-01T00:00:00Z");
    assertEquals(0, at.code(), at.toString());
    assertTrue(ops.calls.contains("containerAt web-1 2025-02-01T00:00:00Z"), ops.calls.toString());
    oneLineError(berth("ct", "show", "web-1", "--at", "2020-01-01T00:00:00Z"), 3, "berth: container web-1 did not exist at 2020-01-01T00:00:00Z");
    oneLineError(berth("ct", "show", "web-1", "--at", "whenever"), 2, "berth: --at: " + Times.TIME_RULE + " (got \"whenever\")");
  }

  @Test
  void templateBuild() {
    CliRun r = berth("template", "build", "web", "--include", "nginx,openssh-server");
    assertEquals(0, r.code(), r.toString());
    assertEquals("template web: built 200M from debian-12 (sha256:" + "de".repeat(32) + ")\n", r.out());
    assertEquals(List.of("buildTemplate web debian-12 [nginx, openssh-server]"), ops.calls);
    oneLineError(berth("template", "build", "web", "--distribution", "centos-7"), 2,
        "berth: template web: distribution: must be one of [debian-12] (got \"centos-7\")");
  }

  @Test
  void errorsAreOneLineWithMeaningfulExitCodes() {
    oneLineError(berth("ct", "create", "web-1", "--template", "busybox", "--memory", "1M"), 2,
        "berth: container web-1: limits.memory: must be between 4M and 1024T (got \"1M\")");
    oneLineError(berth("ct", "show", "nope"), 3, "berth: container nope: no such container");
    berth("ct", "create", "web-1", "--template", "busybox", "--start");
    oneLineError(berth("ct", "start", "web-1"), 4, "berth: container web-1 is running: cannot start");
    oneLineError(berth("ct", "create", "web-1", "--template", "busybox"), 4, "berth: container web-1 exists already");
    ops.override.set(CompletableFuture.completedFuture(new ContainerReply.Refused(new Rejection(Rejection.Code.NO_CAPACITY, "",
        "no host can take 64G: host-1 lacks 56G memory"))));
    oneLineError(berth("ct", "create", "big", "--template", "busybox", "--memory", "64G"), 5,
        "berth: container big: no host can take 64G: host-1 lacks 56G memory");
    ops.override.set(CompletableFuture.completedFuture(new ContainerReply.Refused(new Rejection(Rejection.Code.FAILED, "",
        "start failed: pivot_root: EINVAL"))));
    oneLineError(berth("ct", "stop", "web-1"), 1, "berth: container web-1: start failed: pivot_root: EINVAL");
    ops.override.set(CompletableFuture.failedFuture(new RuntimeException("Cassandra is down")));
    CliRun unavailable = berth("ct", "stop", "web-1");
    assertEquals(69, unavailable.code(), unavailable.toString());
  }

  @Test
  void badFlagsExit2WithOneLineAndReachNothing() {
    CliRun unknown = berth("ct", "create", "web-1", "--template", "busybox", "--memroy", "64M");
    assertEquals(2, unknown.code(), unknown.toString());
    assertEquals(1, unknown.err().split("\n").length, unknown.err());
    assertTrue(unknown.err().startsWith("berth: Unknown option: '--memroy'"), unknown.err());
    CliRun missing = berth("ct", "create", "web-1");
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("--template"), missing.err());
    assertEquals(1, missing.err().split("\n").length, missing.err());
    oneLineError(berth("ct", "create", "web-1", "--template", "busybox", "--label", "novalue"), 2,
        "berth: --label: must be key=value (got \"novalue\")");
    oneLineError(berth("ct", "stop", "web-1", "--timeout", "soon"), 2,
        "berth: --timeout: must be a duration such as 10 (seconds), 10s, 500ms or 2m (got \"soon\")");
    oneLineError(berth("ct", "set", "web-1"), 2, "berth: ct set web-1: name at least one of --memory, --cpus, --pids, --disk, --cpu-weight, --cpu-guarantee, --memory-guarantee, --checkpoint-every");
    oneLineError(berth("ct"), 2, "berth: ct needs a verb: create, start, stop, kill, destroy, list, show, set, exec, migrate, recover (see 'berth ct --help')");
    assertEquals(2, berth("--output", "yaml", "ct", "list").code());
    assertEquals(2, berth("frobnicate").code());
    assertEquals(List.of(), ops.calls);
  }

  @Test
  void execPassesOutputThroughAndExitsWithTheCommandsCode() {
    berth("ct", "create", "web-1", "--template", "busybox", "--start");
    ops.execResult = new ContainerReply.ExecResult(3, "out\n", "err\n", false);
    CliRun r = berth("ct", "exec", "web-1", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3");
    assertEquals(3, r.code(), r.toString());
    assertEquals("out\n", r.out());
    assertEquals("err\n", r.err());
    assertTrue(ops.calls.contains("exec web-1 [/bin/sh, -c, echo out; echo err >&2; exit 3] timeout=30000"), ops.calls.toString());
    CliRun json = berth("ct", "exec", "web-1", "--output", "json", "--timeout", "5s", "--", "true");
    assertEquals(3, json.code());
    assertEquals(3L, JsonText.object(json.out()).get("exitCode"));
    assertTrue(ops.calls.contains("exec web-1 [true] timeout=5000"), ops.calls.toString());
  }

  /** The CLI runs from its own lib dir (its classes and picocli: cluster-node's pom): no class of it may name another Berth module's. */
  @Test
  void theCliNamesNoClassOutsideItsOwnLibDir() throws Exception {
    java.nio.file.Path classes = java.nio.file.Path.of("target/classes/io/berth/cli");
    List<String> offenders = new java.util.ArrayList<>();
    try (var files = java.nio.file.Files.walk(classes)) {
      for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
        String text = new String(java.nio.file.Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        if (text.contains("io/berth/protocol/") || text.contains("io/berth/node/")) offenders.add(f.getFileName().toString());
      }
    }
    assertEquals(List.of(), offenders, "CLI classes that would fail with NoClassDefFoundError in bin/berth");
  }

  @Test
  void checkpointEveryIsCheckedBeforeAndByTheNodeAndShownWithItsCost() {
    oneLineError(berth("ct", "create", "db-1", "--template", "busybox", "--storage", "shared", "--checkpoint-every", "soon"), 2,
        "berth: --checkpoint-every: " + io.berth.protocol.spec.Durations.RULE + " (got \"soon\")");
    oneLineError(berth("ct", "create", "db-1", "--template", "busybox", "--storage", "shared", "--checkpoint-every", "1m30s"), 2,
        "berth: --checkpoint-every: " + io.berth.protocol.spec.Durations.RULE + " (got \"1m30s\")");
    assertEquals(List.of(), ops.calls, "a malformed duration reaches nothing");
    oneLineError(berth("ct", "create", "db-1", "--template", "busybox", "--storage", "shared", "--checkpoint-every", "5s"), 2,
        "berth: container db-1: checkpointEvery: must be off or from 10s to 24h (got \"5s\")");
    oneLineError(berth("ct", "create", "db-1", "--template", "busybox", "--checkpoint-every", "30s"), 2,
        "berth: container db-1: checkpointEvery: checkpoints are kept on shared storage: needs --storage shared (got \"30s\")");
    assertEquals(List.of(), ops.calls, "refused by the node's validation before any operation");

    assertEquals(0, berth("ct", "create", "db-1", "--template", "busybox", "--storage", "shared", "--checkpoint-every", "30s").code());
    ops.checkpointView = new io.berth.node.ops.BerthOperations.CheckpointView(List.of(
        new io.berth.node.ops.BerthOperations.KeptCheckpoint(12, java.time.Instant.now().minusSeconds(8), 81, "criu-stats", 264_609, "host-1"),
        new io.berth.node.ops.BerthOperations.KeptCheckpoint(11, java.time.Instant.now().minusSeconds(38), 87, "criu-stats", 264_000, "host-1")),
        "criu dump of container db-1: exit 1", java.util.Optional.of(java.time.Instant.parse("2025-02-01T00:00:00Z")));
    CliRun show = berth("ct", "show", "db-1");
    assertEquals(0, show.code(), show.toString());
    assertTrue(show.out().matches("(?s).*checkpoints: +every 30s; last #12 [89]s ago, frozen 81 ms; median frozen 84 ms of 2 kept\n.*"), show.out());
    assertTrue(show.out().contains(": criu dump of container db-1: exit 1\n"), show.out());
    Map<String, Object> json = JsonText.object(berth("ct", "show", "db-1", "--output", "json").out());
    assertEquals("30s", json.get("checkpointEvery"));
    assertEquals(81L, ((Number) Verb.obj(json.get("checkpoints")).get("lastFrozenMs")).longValue());
    assertEquals(84L, ((Number) Verb.obj(json.get("checkpoints")).get("medianFrozenMs")).longValue());

    ops.calls.clear();
    oneLineError(berth("ct", "set", "db-1", "--checkpoint-every", "often"), 2,
        "berth: --checkpoint-every: " + io.berth.protocol.spec.Durations.RULE + " (got \"often\")");
    assertEquals(0, berth("ct", "set", "db-1", "--checkpoint-every", "5m").code());
    assertEquals(0, berth("ct", "set", "db-1", "--checkpoint-every", "off").code());
    assertEquals(List.of("setCheckpointSchedule db-1 PT5M", "setCheckpointSchedule db-1 PT0S"), ops.calls);
  }

  @Test
  void lifecycleVerbsSendWhatTheyShould() {
    berth("ct", "create", "web-1", "--template", "busybox", "--start");
    assertEquals(0, berth("ct", "set", "web-1", "--memory", "128M", "--cpus", "500m").code());
    CliRun migrated = berth("ct", "migrate", "web-1", "--to", "host-3", "--cold");
    assertEquals(0, migrated.code(), migrated.err());
    assertEquals("container web-1: migrated cold host-1 -> host-3 in 1400 ms (frozen 212 ms, 49.6 MiB sent)\n", migrated.out());
    assertEquals(0, berth("ct", "stop", "web-1", "--timeout", "2s", "--reason", "maintenance").code());
    assertEquals(0, berth("ct", "start", "web-1").code());
    assertEquals(0, berth("ct", "kill", "web-1", "--signal", "TERM").code());
    CliRun d = berth("ct", "destroy", "web-1");
    assertEquals("container web-1: destroyed on host-3 at 198.18.1.10/16\n", d.out());
    assertEquals(List.of("create web-1 start=true limits=cpu=1 memory=256M pids=512 memory-guarantee=16M", "get web-1",
        "setLimits web-1 cpu=0.5 memory=128M pids=512 memory-guarantee=16M", "migrate web-1 to=host-3 mode=COLD postCopy=AUTO", "get web-1", "stop web-1 timeout=2000",
        "start web-1", "kill web-1 signal=15", "destroy web-1"), ops.calls);
    assertEquals("maintenance", ops.contexts.get(3).reason());
  }

  @Test
  void hostsTemplatesStatus() {
    CliRun hosts = berth("host", "list");
    assertEquals(0, hosts.code(), hosts.toString());
    assertEquals("NAME    PHASE  CONTAINERS  CPU-USED  CPU-RESERVED  CPU-CAPS  MEM-USED  MEM-RESERVED  MEM-CAPS  REACHABLE", hosts.lines().get(0).strip(),
        hosts.out());
    assertEquals("host-1  ready  1           -         0.1/2         0.5/2     -         16M/8G        64M/8G    yes", hosts.lines().get(1).strip(),
        hosts.out());
    assertEquals("host host-2: cordoned\n", berth("host", "cordon", "host-2").out());
    assertTrue(berth("host", "show", "host-2").out().contains("phase:      cordoned\n"));
    assertEquals("host host-2: ready\n", berth("host", "uncordon", "host-2").out());
    oneLineError(berth("host", "show", "host-9"), 3, "berth: host host-9: no such host");
    CliRun templates = berth("template", "list");
    assertTrue(templates.lines().get(1).startsWith("busybox  sha256:abababababab  2M"), templates.out());
    CliRun imported = berth("template", "import", "alpine", "/srv/alpine.tar");
    assertEquals(0, imported.code(), imported.toString());
    assertTrue(ops.calls.contains("importTemplate alpine /srv/alpine.tar"), ops.calls.toString());
    berth("ct", "create", "web-1", "--template", "busybox", "--start");
    CliRun status = berth("status");
    assertEquals(0, status.code(), status.toString());
    assertTrue(status.out().contains("hosts:      3 (3 reachable, 3 ready, 0 cordoned, 0 draining, 0 fenced)\n"), status.out());
    assertTrue(status.out().contains("containers: 1 (1 running)\n"), status.out());
  }

  @Test
  void auditHistoryTimelineVerifyAndEvents() {
    CliRun h = berth("audit", "web-1", "--limit", "2");
    assertEquals(0, h.code(), h.toString());
    assertTrue(h.lines().get(0).startsWith("SEQ  TIME"), h.out());
    assertTrue(h.lines().get(2).contains("ContainerStarted  alice"), h.out());
    assertTrue(h.lines().get(2).contains("host=host-1 pid=4242"), h.out());
    assertEquals("berth: more: berth audit web-1 --from 3\n", h.err());
    assertEquals(0, berth("audit", "host-1", "--host").code());
    assertTrue(ops.calls.contains("history host|host-1 from=1 limit=100"), ops.calls.toString());
    CliRun t = berth("audit", "--since", "2025-01-31T00:00:00Z", "--until", "2025-02-01T00:00:00Z");
    assertEquals(0, t.code(), t.toString());
    assertTrue(t.lines().get(1).contains("container web-1"), t.out());
    assertTrue(ops.calls.contains("timeline since=2025-01-31T00:00:00Z until=2025-02-01T00:00:00Z limit=100"), ops.calls.toString());
    oneLineError(berth("audit"), 2, "berth: audit: give NAME (with --host for a host), or --since TIME");
    CliRun v = berth("audit", "verify");
    assertEquals(0, v.code(), v.toString());
    assertEquals("intact: 4 entities, 12 events checked\n", v.out());
    ops.brokenLinks = List.of(new io.berth.node.ops.BerthOperations.BrokenLink("host|host-1", 3, "checkpoint-hash",
        "its stored bytes hash to ab but the checkpoint of host|host-1 1..5 by node-1:0f signed cd"));
    CliRun bad = berth("audit", "verify");
    assertEquals(1, bad.code(), bad.toString());
    assertEquals("BROKEN: 4 entities, 12 events checked", bad.lines().get(0));
    assertEquals("  host|host-1 #3 [checkpoint-hash]: its stored bytes hash to ab but the checkpoint of host|host-1 1..5 by node-1:0f signed cd",
        bad.lines().get(1));
    CliRun badJson = berth("audit", "verify", "--output", "json");
    assertTrue(badJson.out().contains("\"sequenceNr\":3,\"check\":\"checkpoint-hash\""), badJson.out());
    ops.brokenLinks = List.of();
    CliRun events = berth("events", "--from", "o1");
    assertEquals(0, events.code(), events.toString());
    assertEquals(3, events.lines().size(), events.out());
    assertTrue(events.lines().get(1).startsWith("o2 "), events.out());
    assertTrue(events.lines().get(2).startsWith("o3 "), events.out());
    assertTrue(ops.calls.contains("events o1"), ops.calls.toString());
    CliRun ej = berth("events", "--from", "o2", "--output", "json");
    assertEquals("o3", JsonText.object(ej.out().strip()).get("offset"), ej.out());
  }

  @Test
  void theApiAddressComesFromTheFlagTheEnvironmentOrTheRunFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path repo) throws Exception {
    java.nio.file.Files.createDirectories(repo.resolve(".local/run"));
    java.nio.file.Files.writeString(repo.resolve(".local/run/api"), server.url + "\n");
    assertEquals(0, berth(Map.of("BERTH_REPO", repo.toString()), "ct", "list").code());
    CliRun unreachable = berth(Map.of(), "--api", "http://127.0.0.1:1", "ct", "list");
    oneLineError(unreachable, 69, "berth: cannot reach the Berth API at http://127.0.0.1:1 (connection refused); is the cluster up? (berth up)");
    assertFalse(ops.calls.isEmpty());
  }
}
