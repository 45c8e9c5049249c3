package io.berth.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.reply.Rejection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every endpoint through the real HTTP stack, against {@link ScriptedOperations}. */
class BerthRoutesTest {
  static ApiTestServer server;
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final ObjectMapper json = new ObjectMapper();
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

  static HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url + path)).timeout(Duration.ofSeconds(20));
    if (body != null && !List.of(headers).contains("Content-Type")) b.header("Content-Type", "application/json");
    for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode body(HttpResponse<String> r) throws Exception {
    return json.readTree(r.body());
  }

  /** A problem detail with this status, type kind and field; returns it for more checks. */
  static JsonNode problem(HttpResponse<String> r, int status, String kind, String field) throws Exception {
    assertEquals(status, r.statusCode(), "status of " + r.request().method() + " " + r.uri() + ": " + r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"), "content type: " + r.headers());
    JsonNode p = body(r);
    assertEquals("urn:berth:problem:" + kind, p.get("type").asText(), r.body());
    assertEquals(status, p.get("status").asInt());
    assertEquals(field, p.get("field").asText(), r.body());
    assertFalse(p.get("title").asText().isEmpty());
    return p;
  }

  String create(String name) throws Exception {
    HttpResponse<String> r = send("POST", "/v1/containers", "{\"name\":\"" + name + "\",\"template\":\"busybox\"}");
    assertEquals(201, r.statusCode(), r.body());
    return r.body();
  }

  // --- containers ----------------------------------------------------------------------------------

  @Test
  void createAnswers201WithTheContainerAndPassesPrincipalReasonAndCorrelation() throws Exception {
    HttpResponse<String> r = send("POST", "/v1/containers",
        "{\"name\":\"web-1\",\"template\":\"busybox\",\"command\":[\"/bin/sleep\",\"100\"],\"limits\":{\"memory\":\"64M\",\"cpu\":0.5,"
            + "\"pids\":128},\"restart\":\"on-failure\",\"labels\":{\"app\":\"web\"},\"placement\":{\"host\":\"host-2\","
            + "\"antiAffinityGroup\":\"web\"},\"start\":true}",
        "X-Berth-Principal", "alice", "X-Berth-Reason", "launch", "X-Correlation-Id", "req-42");
    assertEquals(201, r.statusCode(), r.body());
    assertEquals("/v1/containers/web-1", r.headers().firstValue("Location").orElseThrow());
    assertEquals("req-42", r.headers().firstValue("X-Correlation-Id").orElseThrow());
    JsonNode c = body(r);
    assertEquals("web-1", c.get("id").asText());
    assertEquals("running", c.get("phase").asText());
    assertEquals("host-2", c.get("host").asText());
    assertEquals("198.18.1.10/16", c.get("address").asText());
    assertEquals("0.5", c.get("limits").get("cpu").asText());
    assertEquals("64M", c.get("limits").get("memory").asText());
    assertEquals(128, c.get("limits").get("pids").asInt());
    assertEquals("on-failure", c.get("restart").asText());
    assertEquals("web", c.get("labels").get("app").asText());
    assertEquals("/bin/sleep", c.get("command").get(0).asText());
    assertEquals(4242, c.get("pid").asInt());
    assertTrue(c.get("updatedAt").asText().startsWith("2025-01-31T12:00"), c.toString());
    assertEquals(List.of("create web-1 start=true limits=cpu=0.5 memory=64M pids=128 memory-guarantee=16M"), ops.calls);
    var ctx = ops.contexts.get(0);
    assertEquals("alice", ctx.principal());
    assertEquals("launch", ctx.reason());
    assertEquals("req-42", ctx.correlationId());
  }

  @Test
  void aContainerIsUnprivilegedUnlessPrivilegedIsAskedForByNameAndShowsWhichItIs() throws Exception {
    JsonNode plain = body(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\"}"));
    assertEquals(false, plain.get("privileged").asBoolean(true), plain.toString());
    JsonNode priv = body(send("POST", "/v1/containers", "{\"name\":\"ops-1\",\"template\":\"busybox\",\"privileged\":true}"));
    assertEquals(true, priv.get("privileged").asBoolean(false), priv.toString());
    assertEquals(true, body(send("GET", "/v1/containers/ops-1", null)).get("privileged").asBoolean(false));
    problem(send("POST", "/v1/containers", "{\"name\":\"ops-2\",\"template\":\"busybox\",\"privileged\":\"yes\"}"), 400, "invalid-field", "privileged");
  }

  @Test
  void aCorrelationIdIsGeneratedWhenAbsentEchoedAndUsedAndThePrincipalDefaultsToTheOsUser() throws Exception {
    HttpResponse<String> r = send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\"}");
    assertEquals(201, r.statusCode(), r.body());
    String cid = r.headers().firstValue("X-Correlation-Id").orElseThrow();
    assertEquals(36, cid.length(), cid);
    assertEquals(cid, ops.contexts.get(0).correlationId());
    assertEquals(BerthRoutes.osPrincipal(), ops.contexts.get(0).principal());
    assertEquals("defined", body(r).get("phase").asText());
  }

  @Test
  void unknownFieldsAreRefusedNamingThePathAndNothingIsCalled() throws Exception {
    JsonNode p = problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"bogus\":1}"), 400, "unknown-field", "bogus");
    assertTrue(p.get("rule").asText().startsWith("is not a known field"), p.toString());
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"memroy\":\"64M\"}}"), 400,
        "unknown-field", "limits.memroy");
    problem(send("POST", "/v1/containers/web-1/start", "{\"force\":true}"), 400, "unknown-field", "force");
    assertEquals(List.of(), ops.calls);
  }

  @Test
  void malformedAndWronglyTypedBodiesAreRefused() throws Exception {
    JsonNode p = problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":"), 400, "malformed-body", "body");
    assertEquals("must be well-formed JSON", p.get("rule").asText());
    problem(send("POST", "/v1/containers", "{\"name\":\"a\",\"name\":\"b\",\"template\":\"busybox\"}"), 400, "malformed-body", "body");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\"} {}"), 400, "invalid-field", "body");
    problem(send("POST", "/v1/containers", "[1,2]"), 400, "invalid-field", "body");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"start\":\"yes\"}"), 400, "invalid-field", "start");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"command\":\"ls\"}"), 400, "invalid-field", "command");
    problem(send("POST", "/v1/containers/web-1/stop", "{\"timeoutMillis\":\"soon\"}"), 400, "invalid-field", "timeoutMillis");
    // Text must be text (the soak's fuzzer had {"name": 2281327211188578361} accepted as a container's name).
    problem(send("POST", "/v1/containers", "{\"name\":2281327211188578361,\"template\":\"busybox\"}"), 400, "invalid-field", "name");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":true}"), 400, "invalid-field", "template");
    problem(send("POST", "/v1/containers/web-1/exec", "{\"command\":[\"x\",-2078492451]}"), 400, "invalid-field", "command[1]");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"labels\":{\"tier\":1}}"), 400, "invalid-field", "labels.tier");
    // ... but limits and signals take numbers where they say so.
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"pids\":true}}"), 400, "invalid-field", "limits.pids");
    assertEquals(List.of(), ops.calls);
  }

  @Test
  void limitsAndSignalsTakeNumbersOrText() throws Exception {
    assertEquals(201, send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"cpu\":0.5,\"memory\":67108864,"
        + "\"pids\":64,\"cpuWeight\":200}}").statusCode());
    assertEquals(201, send("POST", "/v1/containers", "{\"name\":\"web-2\",\"template\":\"busybox\",\"limits\":{\"cpu\":\"500m\",\"memory\":\"64M\"}}").statusCode());
  }

  @Test
  void oversizedBodiesGet413AndNothingIsCalled() throws Exception {
    String big = "{\"name\":\"web-1\",\"template\":\"busybox\",\"labels\":{\"a\":\"" + "x".repeat(300 * 1024) + "\"}}";
    problem(send("POST", "/v1/containers", big), 413, "body-too-large", "body");
    assertEquals(List.of(), ops.calls);
  }

  @Test
  void aBodyThatIsNotJsonGets415() throws Exception {
    problem(send("POST", "/v1/containers/web-1/stop", "timeout=1", "Content-Type", "text/plain"), 415, "unsupported-media-type", "Content-Type");
    assertEquals(List.of(), ops.calls);
  }

  @Test
  void fieldsBreakingRulesAreNamedWithTheRuleAndPersistNothing() throws Exception {
    JsonNode p = problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"memory\":\"1M\"}}"),
        400, "invalid-field", "limits.memory");
    assertEquals("must be between 4M and 1024T", p.get("rule").asText());
    assertEquals("limits.memory: must be between 4M and 1024T (got \"1M\")", p.get("detail").asText());
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"cpu\":\"lots\"}}"), 400, "invalid-field", "limits.cpu");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"pids\":\"many\"}}"), 400, "invalid-field", "limits.pids");
    problem(send("POST", "/v1/containers", "{\"name\":\"Web_1\",\"template\":\"busybox\"}"), 400, "invalid-field", "name");
    problem(send("POST", "/v1/containers", "{\"template\":\"busybox\"}"), 400, "invalid-field", "name");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"../etc\"}"), 400, "invalid-field", "template");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"restart\":\"sometimes\"}"), 400, "invalid-field", "restart");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"placement\":{\"host\":\"HOST!\"}}"), 400,
        "invalid-field", "placement.host");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"labels\":{\"Bad Key\":\"v\"}}"), 400, "invalid-field", "labels");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"command\":[\"\"]}"), 400, "invalid-field", "command[0]");
    problem(send("POST", "/v1/containers/Not_A_Name/start", null), 400, "invalid-field", "container");
    problem(send("POST", "/v1/containers/web-1/kill", "{\"signal\":\"NOPE\"}"), 400, "invalid-field", "signal");
    problem(send("POST", "/v1/containers/web-1/stop", "{\"timeoutMillis\":-1}"), 400, "invalid-field", "timeoutMillis");
    problem(send("POST", "/v1/containers/web-1/exec", "{\"command\":[]}"), 400, "invalid-field", "command");
    problem(send("POST", "/v1/containers/web-1/exec", "{}"), 400, "invalid-field", "command");
    problem(send("POST", "/v1/containers/web-1/migrations", "{\"to\":\"host-2\",\"mode\":\"warm\"}"), 400, "invalid-field", "mode");
    problem(send("POST", "/v1/containers/web-1/migrations", "{\"to\":\"Not A Host\"}"), 400, "invalid-field", "to");
    problem(send("PATCH", "/v1/containers/web-1/limits", "{\"memory\":\"lots\"}"), 400, "invalid-field", "limits.memory");
    problem(send("PUT", "/v1/containers/web-1/limits", "{\"pids\":0}"), 400, "invalid-field", "limits.pids");
    // The weight and the guarantees: each named with its rule, a guarantee above its cap refused.
    JsonNode w = problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"cpuWeight\":0}}"),
        400, "invalid-field", "limits.cpuWeight");
    assertEquals("must be between 1 and 10000 (100 is the default share)", w.get("rule").asText());
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"cpuWeight\":\"heavy\"}}"), 400,
        "invalid-field", "limits.cpuWeight");
    JsonNode g = problem(send("POST", "/v1/containers",
        "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"cpu\":\"0.5\",\"cpuGuarantee\":\"1\"}}"), 400, "invalid-field",
        "limits.cpuGuarantee");
    assertEquals("must be between 0 and the cpu cap (0.5)", g.get("rule").asText());
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"cpuGuarantee\":\"-1\"}}"), 400,
        "invalid-field", "limits.cpuGuarantee");
    JsonNode m = problem(send("POST", "/v1/containers",
        "{\"name\":\"web-1\",\"template\":\"busybox\",\"limits\":{\"memory\":\"64M\",\"memoryGuarantee\":\"128M\"}}"), 400,
        "invalid-field", "limits.memoryGuarantee");
    assertEquals("must be between 0 and the memory limit (64M)", m.get("rule").asText());
    problem(send("PATCH", "/v1/containers/web-1/limits", "{\"memoryGuarantee\":\"a lot\"}"), 400, "invalid-field", "limits.memoryGuarantee");
    problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\"}", "X-Berth-Principal", "bad principal"), 400,
        "invalid-field", "X-Berth-Principal");
    problem(send("POST", "/v1/containers/web-1/start", null, "X-Berth-Reason", "r".repeat(1100)), 400, "invalid-field", "X-Berth-Reason");
    assertEquals(List.of(), ops.calls);
  }

  @ParameterizedTest
  @CsvSource({"INVALID,422,invalid", "NOT_FOUND,404,not-found", "ALREADY_EXISTS,409,already-exists", "WRONG_PHASE,409,wrong-phase",
      "BUSY,409,busy", "NO_CAPACITY,409,no-capacity", "FAILED,500,failed", "UNAVAILABLE,503,unavailable"})
  void refusalsMapToStatusesAsProblems(Rejection.Code code, int status, String kind) throws Exception {
    ops.override.set(CompletableFuture.completedFuture(new ContainerReply.Refused(new Rejection(code, "limits.memory",
        "limits.memory: must be at most the host's 8G (got \"16G\")"))));
    JsonNode p = problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\"}"), status, kind, "limits.memory");
    assertEquals("limits.memory: must be at most the host's 8G (got \"16G\")", p.get("detail").asText());
    if (code == Rejection.Code.INVALID) assertEquals("must be at most the host's 8G", p.get("rule").asText());
  }

  @Test
  void aFailedFutureIs503AndATimedOutAskSaysWhatItMeans() throws Exception {
    ops.override.set(CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("Ask timed out on [EntityRef(EntityTypeKey"
        + "[io.berth.protocol.container.ContainerCommand](container), web-1)] after [5000 ms]. Message of type [x.Create].")));
    JsonNode p = problem(send("POST", "/v1/containers", "{\"name\":\"web-1\",\"template\":\"busybox\"}"), 503, "unavailable", "");
    assertEquals("Berth could not complete the request: the part of the cluster that holds it did not answer within 5 s (it may be"
        + " starting, recovering its log, or moving to another host); try again", p.get("detail").asText());
    ops.override.set(CompletableFuture.failedFuture(new IllegalStateException("host node-2 has no migration agent")));
    JsonNode other = problem(send("POST", "/v1/containers", "{\"name\":\"web-2\",\"template\":\"busybox\"}"), 503, "unavailable", "");
    assertEquals("Berth could not complete the request: host node-2 has no migration agent", other.get("detail").asText());
  }

  @Test
  void aLimitsChangeThatChangesNothingWritesNothingAndAnEmptyPatchIsRefused() throws Exception {
    create("web-1");
    ops.calls.clear();
    problem(send("PATCH", "/v1/containers/web-1/limits", "{}"), 400, "invalid-field", "limits");
    assertEquals("256M", body(send("PATCH", "/v1/containers/web-1/limits", "{\"memory\":\"256M\"}")).get("limits").get("memory").asText());
    assertEquals(200, send("PUT", "/v1/containers/web-1/limits", "{}").statusCode(), "PUT of the defaults it runs with");
    assertEquals(List.of("get web-1", "get web-1"), ops.calls, "no resize asked: nothing to change");
    problem(send("PATCH", "/v1/containers/nope/limits", "{\"memory\":\"64M\"}"), 404, "not-found", "container");
  }

  @Test
  void lifecycleCallsReachBerthWithTheirArguments() throws Exception {
    create("web-1");
    assertEquals("running", body(send("POST", "/v1/containers/web-1/start", null)).get("phase").asText());
    problem(send("POST", "/v1/containers/web-1/start", ""), 409, "wrong-phase", "phase");
    JsonNode exec = body(send("POST", "/v1/containers/web-1/exec", "{\"command\":[\"echo\",\"hello\"],\"timeoutMillis\":5000}"));
    assertEquals(0, exec.get("exitCode").asInt());
    assertEquals("hello\n", exec.get("stdout").asText());
    assertFalse(exec.get("truncated").asBoolean());
    JsonNode patched = body(send("PATCH", "/v1/containers/web-1/limits", "{\"memory\":\"128M\"}"));
    assertEquals("128M", patched.get("limits").get("memory").asText());
    assertEquals("1", patched.get("limits").get("cpu").asText(), "PATCH keeps what it does not name");
    JsonNode put = body(send("PUT", "/v1/containers/web-1/limits", "{\"cpu\":\"250m\"}"));
    assertEquals("0.25", put.get("limits").get("cpu").asText());
    assertEquals("256M", put.get("limits").get("memory").asText(), "PUT gives defaults to what it does not name");
    assertEquals(100, put.get("limits").get("cpuWeight").asInt());
    assertEquals("0", put.get("limits").get("cpuGuarantee").asText());
    assertEquals("16M", put.get("limits").get("memoryGuarantee").asText(), "the default guarantee");
    HttpResponse<String> migrating = send("POST", "/v1/containers/web-1/migrations", "{\"to\":\"host-3\",\"mode\":\"cold\"}");
    assertEquals(202, migrating.statusCode(), migrating.body());
    assertEquals("migrating", body(migrating).get("phase").asText());
    assertEquals("host-3", body(migrating).get("migration").get("target").asText());
    assertEquals("cold", body(migrating).get("migration").get("mode").asText());
    JsonNode moved = body(send("GET", "/v1/containers/web-1", null));
    assertEquals("completed", moved.get("lastMigration").get("outcome").asText());
    assertEquals(212, moved.get("lastMigration").get("frozenMs").asLong());
    assertEquals("stopped", body(send("POST", "/v1/containers/web-1/stop", "{\"timeoutMillis\":2500}")).get("phase").asText());
    create("web-2");
    send("POST", "/v1/containers/web-2/start", null);
    assertEquals(200, send("POST", "/v1/containers/web-2/kill", "{\"signal\":\"SIGTERM\"}").statusCode());
    assertEquals("destroyed", body(send("DELETE", "/v1/containers/web-1", null)).get("phase").asText());
    problem(send("DELETE", "/v1/containers/web-1", null), 404, "not-found", "container");
    assertEquals(List.of(
        "create web-1 start=false limits=cpu=1 memory=256M pids=512 memory-guarantee=16M",
        "start web-1",
        "start web-1",
        "exec web-1 [echo, hello] timeout=5000",
        "get web-1",
        "setLimits web-1 cpu=1 memory=128M pids=512 memory-guarantee=16M",
        "get web-1",
        "setLimits web-1 cpu=0.25 memory=256M pids=512 memory-guarantee=16M",
        "migrate web-1 to=host-3 mode=COLD postCopy=AUTO",
        "get web-1",
        "stop web-1 timeout=2500",
        "create web-2 start=false limits=cpu=1 memory=256M pids=512 memory-guarantee=16M",
        "start web-2",
        "kill web-2 signal=15",
        "destroy web-1",
        "destroy web-1"), ops.calls);
  }

  @Test
  void listShowAndStateAtATime() throws Exception {
    create("web-2");
    create("web-1");
    JsonNode list = body(send("GET", "/v1/containers", null));
    assertEquals(2, list.get("items").size());
    assertEquals("web-1", list.get("items").get(0).get("id").asText(), "sorted by name");
    assertEquals("web-2", body(send("GET", "/v1/containers/web-2", null)).get("id").asText());
    JsonNode nf = problem(send("GET", "/v1/containers/nope", null), 404, "not-found", "container");
    assertEquals("container nope: no such container", nf.get("detail").asText());
    assertEquals("defined", body(send("GET", "/v1/containers/web-1?at=2025-02-01T00:00:00Z", null)).get("phase").asText());
    problem(send("GET", "/v1/containers/web-1?at=2020-01-01T00:00:00Z", null), 404, "not-found", "container");
    problem(send("GET", "/v1/containers/web-1?at=yesterday", null), 400, "invalid-field", "at");
    assertTrue(ops.calls.contains("containerAt web-1 2025-02-01T00:00:00Z"), ops.calls.toString());
  }

  // --- hosts, templates, status ---------------------------------------------------------------------

  @Test
  void hosts() throws Exception {
    JsonNode list = body(send("GET", "/v1/hosts", null));
    assertEquals(3, list.get("items").size());
    JsonNode h = list.get("items").get(0);
    assertEquals("host-1", h.get("id").asText());
    assertEquals("ready", h.get("phase").asText());
    assertEquals("2", h.get("capacity").get("cpu").asText());
    assertEquals("8G", h.get("capacity").get("memory").asText());
    assertEquals("0.5", h.get("allocated").get("cpu").asText());
    assertEquals("64M", h.get("allocated").get("memory").asText());
    assertTrue(h.get("reachable").asBoolean());
    assertEquals("198.18.0.2", body(send("GET", "/v1/hosts/host-2", null)).get("address").asText());
    problem(send("GET", "/v1/hosts/host-9", null), 404, "not-found", "host");
    problem(send("GET", "/v1/hosts/-x", null), 400, "invalid-field", "host");
    assertEquals("cordoned", body(send("POST", "/v1/hosts/host-1/cordon", null, "X-Berth-Reason", "maintenance")).get("phase").asText());
    assertEquals("maintenance", ops.contexts.get(0).reason());
    assertEquals("ready", body(send("POST", "/v1/hosts/host-1/uncordon", null)).get("phase").asText());
    problem(send("POST", "/v1/hosts/host-9/cordon", null), 404, "not-found", "host");
  }

  @Test
  void templates() throws Exception {
    JsonNode list = body(send("GET", "/v1/templates", null));
    assertEquals("busybox", list.get("items").get(0).get("name").asText());
    assertEquals("2M", list.get("items").get(0).get("size").asText());
    HttpResponse<String> r = send("POST", "/v1/templates", "{\"name\":\"alpine\",\"path\":\"/srv/alpine.tar\"}");
    assertEquals(201, r.statusCode(), r.body());
    assertEquals("alpine", body(r).get("name").asText());
    problem(send("POST", "/v1/templates", "{\"name\":\"alpine\",\"path\":\"relative/dir\"}"), 400, "invalid-field", "path");
    problem(send("POST", "/v1/templates", "{\"name\":\"sha256:" + "a".repeat(64) + "\",\"path\":\"/x\"}"), 400, "invalid-field", "name");
    problem(send("POST", "/v1/templates", "{\"name\":\"Alpine!\",\"path\":\"/x\"}"), 400, "invalid-field", "name");
    assertEquals(List.of("templates", "importTemplate alpine /srv/alpine.tar"), ops.calls);
  }

  @Test
  void templateBuildIsCheckedFieldByField() throws Exception {
    HttpResponse<String> r = send("POST", "/v1/templates/build", "{\"name\":\"web\",\"distribution\":\"debian-12\",\"include\":[\"nginx\",\"openssh-server\"]}");
    assertEquals(201, r.statusCode(), r.body());
    assertEquals("web", body(r).get("name").asText());
    assertEquals("200M", body(r).get("size").asText());
    JsonNode p = problem(send("POST", "/v1/templates/build", "{\"name\":\"web\",\"distribution\":\"debian-13\"}"), 400, "invalid-field", "distribution");
    assertTrue(p.get("detail").asText().contains("must be one of [debian-12]"), p.toString());
    problem(send("POST", "/v1/templates/build", "{\"name\":\"web\"}"), 400, "invalid-field", "distribution");
    problem(send("POST", "/v1/templates/build", "{\"distribution\":\"debian-12\"}"), 400, "invalid-field", "name");
    problem(send("POST", "/v1/templates/build", "{\"name\":\"Web!\",\"distribution\":\"debian-12\"}"), 400, "invalid-field", "name");
    p = problem(send("POST", "/v1/templates/build", "{\"name\":\"web\",\"distribution\":\"debian-12\",\"include\":[\"--foreign\"]}"), 400,
        "invalid-field", "include");
    assertTrue(p.get("detail").asText().contains("Debian package name"), p.toString());
    problem(send("POST", "/v1/templates/build", "{\"name\":\"web\",\"distribution\":\"debian-12\",\"mirror\":\"http://x\"}"), 400,
        "unknown-field", "mirror");
    assertEquals(List.of("buildTemplate web debian-12 [nginx, openssh-server]"), ops.calls);
  }

  @Test
  void status() throws Exception {
    create("web-1");
    create("web-2");
    send("POST", "/v1/containers/web-2/start", null);
    JsonNode s = body(send("GET", "/v1/status", null));
    assertEquals(3, s.get("hosts").get("total").asInt());
    assertEquals(3, s.get("hosts").get("reachable").asInt());
    assertEquals(2, s.get("containers").get("total").asInt());
    assertEquals(1, s.get("containers").get("byPhase").get("running").asInt());
    assertEquals(1, s.get("containers").get("byPhase").get("defined").asInt());
  }

  // --- audit -----------------------------------------------------------------------------------------

  @Test
  void historyPagesAndJsonLines() throws Exception {
    JsonNode page = body(send("GET", "/v1/containers/web-1/history?limit=2", null));
    assertEquals(2, page.get("items").size());
    assertEquals(3, page.get("next").asLong());
    JsonNode e = page.get("items").get(1);
    assertEquals("container|web-1", e.get("persistenceId").asText());
    assertEquals("container", e.get("entity").get("kind").asText());
    assertEquals("ContainerStarted", e.get("type").asText());
    assertEquals("alice", e.get("principal").asText());
    assertEquals("host-1", e.get("details").get("host").asText());
    assertEquals(4242, e.get("details").get("pid").asInt());
    assertFalse(e.get("details").has("meta"));
    JsonNode last = body(send("GET", "/v1/containers/web-1/history?from=3", null));
    assertEquals("64M", last.get("items").get(0).get("details").get("limits").get("memory").asText());
    assertTrue(last.get("next").isNull());
    HttpResponse<String> lines = send("GET", "/v1/hosts/host-1/history?format=jsonl&limit=2", null);
    assertEquals(200, lines.statusCode());
    assertTrue(lines.headers().firstValue("Content-Type").orElse("").startsWith("application/jsonl"));
    assertEquals("3", lines.headers().firstValue("X-Next-From").orElseThrow());
    String[] l = lines.body().split("\n");
    assertEquals(2, l.length);
    assertEquals("host|host-1", json.readTree(l[0]).get("persistenceId").asText());
    problem(send("GET", "/v1/containers/web-1/history?limit=0", null), 400, "invalid-field", "limit");
    problem(send("GET", "/v1/containers/web-1/history?from=x", null), 400, "invalid-field", "from");
    problem(send("GET", "/v1/containers/web-1/history?format=xml", null), 400, "invalid-field", "format");
    assertEquals(List.of("history container|web-1 from=1 limit=2", "history container|web-1 from=3 limit=100",
        "history host|host-1 from=1 limit=2"), ops.calls);
  }

  @Test
  void timelineAndVerify() throws Exception {
    JsonNode t = body(send("GET", "/v1/audit/timeline?since=2025-01-31T00:00:00Z&until=2025-02-01T00:00:00Z&limit=50", null));
    assertEquals(3, t.get("items").size());
    assertEquals("o1", t.get("items").get(0).get("offset").asText());
    problem(send("GET", "/v1/audit/timeline?since=2025-02-01T00:00:00Z&until=2025-01-31T00:00:00Z", null), 400, "invalid-field", "until");
    problem(send("GET", "/v1/audit/timeline?since=monday", null), 400, "invalid-field", "since");
    JsonNode v = body(send("POST", "/v1/audit/verify", null));
    assertTrue(v.get("intact").asBoolean());
    assertEquals(4, v.get("entitiesChecked").asInt());
    assertEquals(1, body(send("POST", "/v1/audit/verify", "{\"container\":\"web-1\"}")).get("entitiesChecked").asInt());
    problem(send("POST", "/v1/audit/verify", "{\"container\":\"web-1\",\"host\":\"host-1\"}"), 400, "invalid-field", "host");
    assertEquals(List.of("timeline since=2025-01-31T00:00:00Z until=2025-02-01T00:00:00Z limit=50", "verify all",
        "verify container|web-1"), ops.calls);
  }

  // --- events ----------------------------------------------------------------------------------------

  /** The first {@code n} SSE events (id and data lines) of GET {@code path}. */
  static List<String[]> sse(String path, int n, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url + path)).timeout(Duration.ofSeconds(20));
    for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    HttpResponse<java.util.stream.Stream<String>> r = http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"), r.headers().toString());
    List<String[]> events = new java.util.ArrayList<>();
    String id = null, type = null;
    var it = r.body().iterator();
    while (events.size() < n && it.hasNext()) {
      String line = it.next();
      if (line.startsWith("id: ")) id = line.substring(4);
      else if (line.startsWith("event: ")) type = line.substring(7);
      else if (line.startsWith("data: ")) events.add(new String[] {id, type, line.substring(6)});
    }
    r.body().close();
    return events;
  }

  @Test
  void eventStreamResumesFromTheOffsetGivenAndEachIdIsTheEntrysOffset() throws Exception {
    List<String[]> fromQuery = sse("/v1/events?offset=o1", 2);
    assertEquals("o2", fromQuery.get(0)[0]);
    assertEquals("ContainerStarted", fromQuery.get(0)[1]);
    assertEquals("o2", json.readTree(fromQuery.get(0)[2]).get("offset").asText());
    assertEquals("o3", fromQuery.get(1)[0]);
    List<String[]> fromHeader = sse("/v1/events?offset=o1", 1, "Last-Event-ID", "o2");
    assertEquals("o3", fromHeader.get(0)[0], "Last-Event-ID wins over ?offset");
    assertEquals(List.of("events o1", "events o2"), ops.calls);
    problem(send("GET", "/v1/events?offset=" + "x".repeat(300), null), 400, "invalid-field", "offset");
  }

  // --- routes and the OpenAPI document ----------------------------------------------------------------

  @Test
  void unknownRoutesAndMethodsAreProblems() throws Exception {
    problem(send("GET", "/v1/nothing", null), 404, "no-route", "path");
    HttpResponse<String> r = send("DELETE", "/v1/hosts", null);
    problem(r, 405, "method-not-allowed", "method");
    assertEquals("GET", r.headers().firstValue("Allow").orElseThrow());
  }

  @Test
  void theOpenApiDocumentCoversEveryRouteAndNothingElse() throws Exception {
    HttpResponse<String> r = send("GET", "/v1/openapi.json", null);
    assertEquals(200, r.statusCode());
    JsonNode doc = body(r);
    assertEquals("3.1.0", doc.get("openapi").asText());
    List<String> served = new BerthRoutes(ops, "tester").endpoints();
    java.util.Set<String> documented = new java.util.TreeSet<>();
    doc.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames().forEachRemaining(m -> {
      documented.add(m.toUpperCase(java.util.Locale.ROOT) + " " + p.getKey());
      assertNotNull(p.getValue().get(m).get("responses"), p.getKey() + " " + m + " has no responses");
    }));
    assertEquals(new java.util.TreeSet<>(served), documented);
    // Every documented route is routed (not 404 no-route, not 405), with its path parameters filled.
    for (String route : documented) {
      String method = route.substring(0, route.indexOf(' '));
      String path = route.substring(route.indexOf(' ') + 1).replace("{id}", "x1");
      if (path.equals("/v1/events")) continue; // a stream; covered above
      HttpResponse<String> answer = send(method, path, method.equals("GET") || method.equals("DELETE") ? null : "{}");
      assertFalse(answer.body().contains("urn:berth:problem:no-route") || answer.statusCode() == 405, route + ": " + answer.body());
    }
    assertTrue(ops.containers.isEmpty() || ops.containers.containsKey(ContainerId.of("x1")));
  }
}
