package io.berth.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.berth.node.api.ApiTokens;
import io.berth.node.ops.BerthOperations.AuditEntry;
import io.berth.node.ops.BerthOperations.EntityRef;
import io.berth.node.ops.ClusterOperations;
import io.berth.protocol.access.AccessReply;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.Role;
import io.berth.protocol.access.TokenScope;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tenant's view of the audit on a real node, its events read back from Cassandra: a name acme used and destroyed,
 * then used again by globex. Over the REST API with scoped tokens, each tenant's history, timeline and event stream
 * hold its own incarnation's events and nothing of the other's, of the hosts, or of the access log.
 */
class TenantAuditTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CommandContext OPS = new CommandContext("ops-team", "tenant audit test", null);
  private static final String ACME = ApiTokens.newToken();
  private static final String GLOBEX = ApiTokens.newToken();
  private static Path dir;
  private static TestNode node;
  private static ClusterOperations ops;
  private static String api;

  @BeforeAll
  static void start() throws Exception {
    HostRequirements.requireRootLinux();
    dir = Files.createTempDirectory("tenant-audit");
    Path tokens = dir.resolve("api-tokens");
    Files.createFile(tokens, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tokens, "root " + ApiTokens.hashOf(ApiTokens.newToken()) + "\n");
    node = TestNode.start("ta", TestNode.newRun(), 1, List.of(), TestNode.freePort(),
        com.typesafe.config.ConfigFactory.parseMap(Map.of("berth.api.tokens-file", tokens.toString())));
    ops = node.node().services().operations();
    api = "http://127.0.0.1:" + node.node().apiPort();
    for (var t : List.of(Map.entry("acme", ACME), Map.entry("globex", GLOBEX))) {
      AccessReply r = await(ops.issueToken(t.getKey() + "-viewer", Credential.token(ApiTokens.hashOf(t.getValue()).substring("sha256:".length())),
          Role.VIEWER, TokenScope.parse("scope", "owner=" + t.getKey()), Optional.empty(), OPS));
      assertInstanceOf(AccessReply.Done.class, r, "issue " + t.getKey() + "'s token");
    }
  }

  @AfterAll
  static void stop() throws IOException {
    if (node != null) node.close();
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static ContainerSpec spec(String name, String owner) {
    return new ContainerSpec(ContainerId.of(name), TemplateRef.of("busybox"), null, List.of("/bin/sleep", "60"),
        Limits.DEFAULT.withMemoryBytes(32L << 20).withCpuMillis(100).withPids(32), RestartPolicy.NEVER, Map.of("owner", owner), null);
  }

  record Answer(int status, JsonNode body) {}

  private static Answer get(String token, String path) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(api + path).toURL().openConnection();
    c.setRequestProperty("Authorization", "Bearer " + token);
    c.setConnectTimeout(5000);
    c.setReadTimeout(20000);
    int status = c.getResponseCode();
    var in = status < 400 ? c.getInputStream() : c.getErrorStream();
    return new Answer(status, JSON.readTree(in.readAllBytes()));
  }

  /** The (persistence id, sequence number, type) of each item of a history or timeline answer. */
  private static List<String> items(Answer a) {
    assertEquals(200, a.status(), a.body().toString());
    List<String> out = new ArrayList<>();
    a.body().get("items").forEach(i -> out.add(i.get("persistenceId").asText() + "#" + i.get("sequenceNr").asLong() + " " + i.get("type").asText()));
    return out;
  }

  @Test
  void eachTenantReadsItsOwnIncarnationOfAReusedNameOnly() throws Exception {
    Instant since = Instant.now().minusSeconds(1);
    String name = node.unique("tenant");
    ContainerId id = ContainerId.of(name);
    String pid = "container|" + name;
    assertInstanceOf(ContainerReply.Done.class, await(ops.create(spec(name, "acme"), false, OPS)));
    assertInstanceOf(ContainerReply.Done.class, await(ops.destroy(id, OPS)));
    assertInstanceOf(ContainerReply.Done.class, await(ops.create(spec(name, "globex"), false, OPS)));

    // The whole log as the provider reads it: where globex's incarnation begins, and what each tenant should see.
    List<AuditEntry> log = await(ops.history(EntityRef.container(id), 1, 1000));
    long globexFrom = log.stream().filter(e -> e.event() instanceof ContainerEvent.ContainerDefined).mapToLong(AuditEntry::sequenceNr).max().orElseThrow();
    List<String> acmes = new ArrayList<>();
    List<String> globexes = new ArrayList<>();
    for (AuditEntry e : log) {
      if (e.event() instanceof ContainerEvent.ReservationAccepted || e.event() instanceof ContainerEvent.ReservationDeclined) continue;
      (e.sequenceNr() < globexFrom ? acmes : globexes).add(pid + "#" + e.sequenceNr() + " " + e.type());
    }
    assertTrue(acmes.size() >= 2 && globexes.size() >= 1, "acme's incarnation was defined and destroyed, globex's defined: " + log);

    // History: the name is globex's now, so for acme it answers as one that does not exist; globex reads its part.
    Answer acmeHistory = get(ACME, "/v1/containers/" + name + "/history");
    assertEquals(404, acmeHistory.status(), acmeHistory.body().toString());
    assertEquals(globexes, items(get(GLOBEX, "/v1/containers/" + name + "/history")));

    // The timeline (read by tag, so within the journal's consistency delay): each its own, nothing of hosts or tokens.
    String window = "/v1/audit/timeline?since=" + since + "&until=" + since.plusSeconds(600);
    HostRequirements.await("acme's timeline shows its incarnation's " + acmes.size() + " events", Duration.ofSeconds(30),
        () -> timeline(ACME, window).size() >= acmes.size());
    assertEquals(acmes, items(get(ACME, window)));
    HostRequirements.await("globex's timeline shows its " + globexes.size() + " events", Duration.ofSeconds(30),
        () -> timeline(GLOBEX, window).size() >= globexes.size());
    assertEquals(globexes, items(get(GLOBEX, window)));

    // The live stream from before the first of them: the same events, as they come.
    // (The tokens issued at the start are in the timeline before them: there is always an entry just before.)
    List<AuditEntry> recent = await(ops.timeline(since.minusSeconds(600), Instant.now(), 10_000));
    int first = recent.indexOf(recent.stream().filter(e -> e.persistenceId().equals(pid)).findFirst().orElseThrow());
    String before = recent.get(first - 1).offset();
    List<String> streamed = stream(GLOBEX, "?offset=" + before, globexes.size(), Duration.ofSeconds(30));
    assertEquals(globexes, streamed.stream().filter(e -> e.startsWith(pid)).toList());
    assertFalse(streamed.stream().anyMatch(e -> !e.startsWith(pid)), "only its container's events: " + streamed);
  }

  private static List<String> timeline(String token, String window) {
    try {
      return items(get(token, window));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The first {@code count} events of a scoped caller's stream, read within {@code within}; fails saying what came. */
  private static List<String> stream(String token, String query, int count, Duration within) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(api + "/v1/events" + query).toURL().openConnection();
    c.setRequestProperty("Authorization", "Bearer " + token);
    c.setConnectTimeout(5000);
    c.setReadTimeout(2000);
    assertEquals(200, c.getResponseCode());
    List<String> seen = new ArrayList<>();
    long deadline = System.nanoTime() + within.toNanos();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
      while (seen.size() < count && System.nanoTime() < deadline) {
        String line;
        try {
          line = in.readLine();
        } catch (SocketTimeoutException quiet) {
          continue;
        }
        if (line == null) break;
        if (line.startsWith("data: ")) {
          JsonNode e = JSON.readTree(line.substring("data: ".length()));
          seen.add(e.get("persistenceId").asText() + "#" + e.get("sequenceNr").asLong() + " " + e.get("type").asText());
        }
      }
    } finally {
      c.disconnect();
    }
    assertTrue(seen.size() >= count, "within " + within + ", " + count + " events on the stream; it brought " + seen);
    return seen;
  }
}
