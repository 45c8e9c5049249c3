package io.berth.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.node.api.ApiTestServer;
import io.berth.node.api.ApiTokens;
import io.berth.protocol.access.AccessEvent;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.Role;
import io.berth.protocol.event.CommandContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Roles, tenant scopes and tokens issued through the API, driven by the CLI as an operator would: an admin of the
 * tokens file issues tokens with {@code berth token create}, each is then used for what its role and scope allow and
 * refused (403, exit 77) for the rest; revoked, expired and duplicate tokens; bad role, scope and expiry. The routes
 * and the HTTP stack are the real ones; the access log behind them is {@link io.berth.node.api.ScriptedOperations}'s
 * (the real fold; the singleton itself is exercised on the real cluster).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApiRolesTest {
  static Path dir;
  static ApiTestServer server;
  static final String ADMIN = "file-admin-token-7c1d2e3f4a5b6c7d";

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("api-roles");
    Path tokens = TestFiles.tokensFile(dir.resolve("api-tokens"), "root " + ApiTokens.hashOf(ADMIN) + "\n");
    server = new ApiTestServer(Optional.empty(), Optional.of(ApiTokens.load(tokens)));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) server.close();
    TestFiles.deleteTree(dir);
  }

  @BeforeEach
  void reset() {
    server.ops.reset();
  }

  static CliRun berth(String token, String... args) {
    return CliRun.of(Map.of("BERTH_API", server.url, "BERTH_TOKEN", token), args);
  }

  /** Issues a token as the file's admin and answers it, as a script would take it: the last line. */
  static String issue(String... options) {
    CliRun r = berth(ADMIN, concat(List.of("token", "create"), options));
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.err().contains("Berth keeps only its hash"), r.err());
    String token = r.lastLine();
    assertTrue(token.startsWith("berth_") && token.length() > 40, "a random token on the last line: " + r.out());
    return token;
  }

  private static String[] concat(List<String> head, String... tail) {
    List<String> all = new java.util.ArrayList<>(head);
    all.addAll(List.of(tail));
    return all.toArray(String[]::new);
  }

  @Test
  void eachRoleMayDoWhatItAllowsAndIsRefusedTheRestWithExit77() {
    String viewer = issue("--name", "auditor", "--role", "viewer");
    String operator = issue("--name", "ci", "--role", "operator", "--expires", "30d");
    assertEquals(0, berth(ADMIN, "ct", "create", "web-1", "--template", "busybox").code());

    assertEquals(0, berth(viewer, "ct", "list").code());
    assertEquals(0, berth(viewer, "host", "list").code());
    CliRun viewerCreate = berth(viewer, "ct", "create", "web-2", "--template", "busybox");
    assertEquals(77, viewerCreate.code(), viewerCreate.toString());
    assertTrue(viewerCreate.err().contains("needs the role operator or above; token auditor has the role viewer"), viewerCreate.err());
    assertEquals(77, berth(viewer, "ct", "stop", "web-1").code());

    CliRun created = berth(operator, "ct", "create", "web-2", "--template", "busybox");
    assertEquals(0, created.code(), created.toString());
    assertEquals("ci", server.ops.contexts.get(server.ops.contexts.size() - 1).principal(), "the token's name is the principal");
    CliRun cordon = berth(operator, "host", "cordon", "host-1");
    assertEquals(77, cordon.code(), cordon.toString());
    assertTrue(cordon.err().contains("needs the role admin"), cordon.err());
    assertEquals(77, berth(operator, "token", "list").code(), "reading the tokens is an admin's");
    CliRun privileged = berth(operator, "ct", "create", "root-1", "--template", "busybox", "--privileged");
    assertEquals(77, privileged.code(), privileged.toString());
    assertTrue(privileged.err().contains("privileged"), privileged.err());
    assertEquals(0, berth(ADMIN, "ct", "create", "root-1", "--template", "busybox", "--privileged").code(), "an admin may");

    CliRun list = berth(ADMIN, "token", "list");
    assertEquals(0, list.code(), list.toString());
    assertTrue(list.out().contains("auditor") && list.out().contains("viewer") && list.out().contains("ci") && list.out().contains("operator")
        && list.out().contains("root") && list.out().contains("file"), list.out());
    assertFalse(list.out().contains(viewer) || list.out().contains(operator) || list.out().contains(ADMIN), "never a token: " + list.out());
    assertFalse(list.out().contains(server.ops.access.get().tokens().get("ci").credential().sha256()), "nor its hash: " + list.out());
  }

  @Test
  void aScopedTokenSeesAndActsOnItsTenantsContainersOnly() {
    String acme = issue("--name", "acme-ci", "--role", "operator", "--scope", "owner=acme");
    assertEquals(0, berth(ADMIN, "ct", "create", "globex-1", "--template", "busybox", "--label", "owner=globex").code());

    assertEquals(0, berth(acme, "ct", "create", "acme-1", "--template", "busybox", "--label", "owner=acme").code());
    CliRun unlabelled = berth(acme, "ct", "create", "acme-2", "--template", "busybox");
    assertEquals(77, unlabelled.code(), unlabelled.toString());
    assertTrue(unlabelled.err().contains("must carry the label owner=acme"), unlabelled.err());

    CliRun list = berth(acme, "ct", "list");
    assertEquals(0, list.code(), list.toString());
    assertTrue(list.out().contains("acme-1") && !list.out().contains("globex-1"), list.out());

    // Another tenant's container answers exactly as one that does not exist.
    CliRun other = berth(acme, "ct", "show", "globex-1");
    CliRun none = berth(acme, "ct", "show", "nosuch-1");
    assertEquals(3, other.code(), other.toString());
    assertEquals(none.err().replace("nosuch-1", "X"), other.err().replace("globex-1", "X"));
    assertEquals(3, berth(acme, "ct", "stop", "globex-1").code());
    assertEquals(3, berth(acme, "ct", "destroy", "globex-1").code());
    assertEquals(3, berth(acme, "ct", "exec", "globex-1", "--", "/bin/true").code());
    CliRun audit = berth(acme, "audit", "globex-1");
    assertEquals(3, audit.code(), "its history answers as a name that does not exist: " + audit);
    assertTrue(server.ops.calls.stream().noneMatch(call -> call.startsWith("stop globex") || call.startsWith("destroy")),
        "only reads reached Berth: " + server.ops.calls);
    assertTrue(server.ops.containers.keySet().stream().anyMatch(id -> id.value().equals("globex-1")), "globex-1 is still there");
    assertEquals(0, berth(acme, "ct", "start", "acme-1").code());

    CliRun hosts = berth(acme, "host", "list");
    assertEquals(77, hosts.code(), hosts.toString());
    assertTrue(hosts.err().contains("is scoped to owner=acme"), hosts.err());
    assertEquals(77, berth(acme, "ct", "migrate", "acme-1").code(), "moving a container chooses hosts: the provider's call");
    assertEquals(0, berth(acme, "template", "list").code());
  }

  @Test
  void aScopedTokensEventsAndTimelineHoldItsContainersEventsOnly() {
    // The scripted audit's events are all web-1's (StartRequested, ContainerStarted, LimitsChanged); web-1 is acme's.
    String acme = issue("--name", "acme-audit", "--role", "viewer", "--scope", "owner=acme");
    String globex = issue("--name", "globex-audit", "--role", "viewer", "--scope", "owner=globex");
    assertEquals(0, berth(ADMIN, "ct", "create", "web-1", "--template", "busybox", "--label", "owner=acme").code());

    for (String[] read : List.of(new String[] {"events"}, new String[] {"events", "--from", "o0"})) {
      CliRun own = berth(acme, read);
      assertEquals(0, own.code(), own.toString());
      assertTrue(own.out().contains("StartRequested") && own.out().contains("ContainerStarted") && own.out().contains("LimitsChanged"), own.out());
      CliRun other = berth(globex, read);
      assertEquals(0, other.code(), other.toString());
      assertFalse(other.out().contains("web-1"), "another tenant's container's events: " + other.out());
    }
    assertEquals(0, berth(ADMIN, "ct", "destroy", "web-1").code());
    assertFalse(berth(acme, "events").out().contains("web-1"), "a name no one holds is no tenant's");
  }

  @Test
  void aRevokedTokenIsRefusedAndItsNameMayBeIssuedAgain() {
    String first = issue("--name", "deploy", "--role", "operator");
    assertEquals(0, berth(first, "ct", "list").code());
    CliRun duplicate = berth(ADMIN, "token", "create", "--name", "deploy", "--role", "viewer");
    assertEquals(4, duplicate.code(), duplicate.toString());
    assertTrue(duplicate.err().contains("a token named deploy is in force"), duplicate.err());

    CliRun revoke = berth(ADMIN, "token", "revoke", "deploy");
    assertEquals(0, revoke.code(), revoke.toString());
    // This node forgets what it read when it revokes: refused at once here (other nodes within about a second).
    CliRun refused = berth(first, "ct", "list");
    assertEquals(77, refused.code(), refused.toString());
    assertTrue(refused.err().contains("not one of this cluster's"), refused.err());
    assertEquals(3, berth(ADMIN, "token", "revoke", "deploy").code(), "revoked already");

    String second = issue("--name", "deploy", "--role", "viewer");
    assertEquals(0, berth(second, "ct", "list").code());
    assertEquals(77, berth(first, "ct", "list").code(), "the first token stays refused");

    CliRun fileToken = berth(ADMIN, "token", "revoke", "root");
    assertEquals(4, fileToken.code(), fileToken.toString());
    assertTrue(fileToken.err().contains("remove its line"), fileToken.err());
    CliRun fileName = berth(ADMIN, "token", "create", "--name", "root", "--role", "viewer");
    assertEquals(4, fileName.code(), fileName.toString());
  }

  @Test
  void anExpiredTokenIsRefusedNamingWhenItExpired() {
    String token = "berth_expired-token-0123456789abcdef";
    Instant past = Instant.now().minusSeconds(60);
    var state = server.ops.access.get();
    server.ops.access.set(state.apply(new AccessEvent.TokenIssued(new CommandContext("root", "test", "c-1").meta(past.minusSeconds(3600), state.lastEventHash()),
        "old", Credential.token(ApiTokens.hashOf(token).substring("sha256:".length())), Role.ADMIN, Optional.empty(), Optional.of(past))));
    CliRun r = berth(token, "ct", "list");
    assertEquals(77, r.code(), r.toString());
    assertTrue(r.err().contains("token old expired at " + past), r.err());
    CliRun list = berth(ADMIN, "token", "list", "--output", "json");
    assertTrue(list.out().contains("\"expired\":true"), list.out());
  }

  @Test
  void aBadRoleScopeOrExpiryIsRefusedNamingTheFieldAndNothingIsIssued() {
    for (String[] bad : List.of(new String[] {"--role", "root"}, new String[] {"--role", "viewer", "--scope", "acme"},
        new String[] {"--role", "viewer", "--expires", "10s"}, new String[] {"--role", "viewer", "--expires", "forever"})) {
      CliRun r = berth(ADMIN, concat(List.of("token", "create", "--name", "bad"), bad));
      assertEquals(2, r.code(), String.join(" ", bad) + ": " + r);
      String field = bad[bad.length - 2].substring(2);
      assertTrue(r.err().contains(field), "names the field " + field + ": " + r.err());
    }
    CliRun badName = berth(ADMIN, "token", "create", "--name", "no spaces", "--role", "viewer");
    assertEquals(2, badName.code(), badName.toString());
    assertTrue(server.ops.access.get().tokens().isEmpty(), "nothing issued: " + server.ops.access.get());
  }
}
