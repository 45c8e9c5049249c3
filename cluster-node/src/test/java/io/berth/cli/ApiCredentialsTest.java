package io.berth.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.node.api.ApiTestServer;
import io.berth.node.api.ApiTokens;
import io.berth.node.api.PemIdentity;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The API's door with credentials, over real HTTPS on 127.0.0.1 with certificates from {@code bin/berth-cluster-ca}
 * and a real tokens file, driven by the CLI as an operator would: no token, a wrong one, a revoked one, a spoofed
 * principal, a client that does not trust the CA, and the local cluster's files used only for its own addresses.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApiCredentialsTest {
  static Path dir;
  static Path tokens;
  static ApiTestServer server;
  static final String TOKEN = "ci-token-5f1e0c2a9b7d4e3f8a6b1c0d";

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("api-credentials");
    TestFiles.clusterCa("init", dir.resolve("tls").toString(), "credtest");
    TestFiles.clusterCa("issue", dir.resolve("tls").toString(), "node-1", "127.0.0.1");
    TestFiles.clusterCa("init", dir.resolve("other").toString(), "credtest");
    tokens = TestFiles.tokensFile(dir.resolve("api-tokens"),
        "# name sha256:hash\nci " + ApiTokens.hashOf(TOKEN) + "\nadmin " + ApiTokens.hashOf("another") + "\n");
    server = new ApiTestServer(Optional.of(new PemIdentity(dir.resolve("tls/node-1.pem"), dir.resolve("tls/node-1.key"), "berth.api.tls")),
        Optional.of(ApiTokens.load(tokens)));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) server.close();
    TestFiles.deleteTree(dir);
  }

  static CliRun berth(Map<String, String> env, String... args) {
    return CliRun.of(env, args);
  }

  private static Map<String, String> env(String token) {
    Map<String, String> env = new HashMap<>(Map.of("BERTH_API", server.url, "BERTH_CA", dir.resolve("tls/ca.pem").toString()));
    if (token != null) env.put("BERTH_TOKEN", token);
    return env;
  }

  @Test
  void withoutATokenOrWithAWrongOneTheAnswerIs401AndTheCliExits77() throws Exception {
    CliRun none = berth(env(null), "ct", "list");
    assertEquals(77, none.code(), none.toString());
    assertTrue(none.err().contains("this API needs credentials"), none.err());
    CliRun wrong = berth(env("not-a-token"), "ct", "list");
    assertEquals(77, wrong.code(), wrong.toString());
    assertTrue(wrong.err().contains("the bearer token is not one of this cluster's"), wrong.err());

    Http1.Response raw = Http1.exchange(URI.create(server.url + "/v1/containers"), "GET", Map.of(), null, 3000, 10000,
        Credentials.trusting("test", dir.resolve("tls/ca.pem")).getSocketFactory());
    String body = raw.text();
    assertEquals(401, raw.status(), body);
    assertEquals("Bearer realm=\"berth\"", raw.headers().get("www-authenticate"));
    assertTrue(body.contains("\"type\":\"urn:berth:problem:unauthenticated\"") && body.contains("\"field\":\"Authorization\""), body);

    // The OpenAPI document is the one thing served without a token: it describes the door, it opens nothing.
    Http1.Response doc = Http1.exchange(URI.create(server.url + "/v1/openapi.json"), "GET", Map.of(), null, 3000, 10000,
        Credentials.trusting("test", dir.resolve("tls/ca.pem")).getSocketFactory());
    doc.text();
    assertEquals(200, doc.status());
  }

  @Test
  void aTokensRequestsRecordItsNameAsThePrincipalAndASpoofedPrincipalIsRefused() throws Exception {
    server.ops.reset();
    CliRun create = berth(env(TOKEN), "ct", "create", "web-1", "--template", "busybox", "--reason", "ticket 7");
    assertEquals(0, create.code(), create.toString());
    assertEquals("ci", server.ops.contexts.get(server.ops.contexts.size() - 1).principal(), "the token's name, not the OS user");
    assertEquals("ticket 7", server.ops.contexts.get(server.ops.contexts.size() - 1).reason(), "the reason stays the client's");

    Http1.Response spoof = Http1.exchange(URI.create(server.url + "/v1/containers/web-1/start"), "POST",
        Map.of("Authorization", "Bearer " + TOKEN, "X-Berth-Principal", "alice"), null, 3000, 10000,
        Credentials.trusting("test", dir.resolve("tls/ca.pem")).getSocketFactory());
    String body = spoof.text();
    assertEquals(400, spoof.status(), body);
    assertTrue(body.contains("\"field\":\"X-Berth-Principal\""), body);
  }

  @Test
  void aTokenRemovedFromTheFileIsRefusedWithinSeconds() throws Exception {
    String revocable = "revocable-token-0123456789";
    String before = Files.readString(tokens);
    Files.writeString(tokens, before + "temp " + ApiTokens.hashOf(revocable) + "\n");
    Files.setLastModifiedTime(tokens, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (berth(env(revocable), "ct", "list").code() != 0) {
      assertTrue(System.nanoTime() < deadline, "a token added to the file was not accepted within 10 s");
      Thread.sleep(200);
    }
    Files.writeString(tokens, before);
    Files.setLastModifiedTime(tokens, FileTime.fromMillis(System.currentTimeMillis() + 10_000));
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    CliRun r;
    while ((r = berth(env(revocable), "ct", "list")).code() != 77) {
      assertTrue(System.nanoTime() < deadline, "a token removed from the file was still accepted after 10 s: " + r);
      Thread.sleep(200);
    }
    assertEquals(0, berth(env(TOKEN), "ct", "list").code(), "the other tokens stay");
  }

  @Test
  void aClientThatDoesNotTrustTheCaGetsNoAnswer() throws Exception {
    Map<String, String> jdkRoots = new HashMap<>(Map.of("BERTH_API", server.url, "BERTH_TOKEN", TOKEN));
    CliRun r = berth(jdkRoots, "ct", "list");
    assertEquals(69, r.code(), r.toString());
    assertTrue(r.err().contains("TLS"), "says it is the TLS handshake: " + r.err());
    Map<String, String> otherCa = new HashMap<>(jdkRoots);
    otherCa.put("BERTH_CA", dir.resolve("other/ca.pem").toString());
    CliRun o = berth(otherCa, "ct", "list");
    assertEquals(69, o.code(), o.toString());
    // The CA's certificate, but for another address: node-1's names are node-1 and 127.0.0.1, not localhost.
    CliRun otherName = berth(Map.of("BERTH_API", server.url.replace("127.0.0.1", "localhost"), "BERTH_CA", dir.resolve("tls/ca.pem").toString(),
        "BERTH_TOKEN", TOKEN), "ct", "list");
    assertEquals(69, otherName.code(), otherName.toString());
    assertTrue(otherName.err().contains("is not for localhost"), "names the address it is not for: " + otherName.err());
    CliRun plain = berth(Map.of("BERTH_API", server.url.replace("https:", "http:"), "BERTH_TOKEN", TOKEN), "ct", "list");
    assertTrue(plain.code() != 0, "plain HTTP to the HTTPS port gets no answer: " + plain);
  }

  @Test
  void theLocalClustersFilesAreUsedForItsOwnAddressesOnly() throws Exception {
    Path local = dir.resolve("local");
    Files.createDirectories(local.resolve("run"));
    Files.writeString(local.resolve("run/apis"), server.url + " node-1\n");
    Files.writeString(local.resolve("run/admin.token"), TOKEN + "\n");
    Files.copy(dir.resolve("tls/ca.pem"), local.resolve("run/ca.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    CliRun own = berth(Map.of("BERTH_LOCAL", local.toString()), "ct", "list");
    assertEquals(0, own.code(), own.toString());
    CliRun typed = berth(Map.of("BERTH_LOCAL", local.toString(), "BERTH_CA", dir.resolve("tls/ca.pem").toString()), "--api", server.url,
        "ct", "list");
    assertEquals(77, typed.code(), "the local admin token is not sent to an address given with --api: " + typed);
  }
}
