package io.berth.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.node.api.ApiTestServer;
import io.berth.node.api.ApiTokens;
import io.berth.node.api.PemIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
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
 * Client certificates on the API, over real HTTPS on 127.0.0.1 with certificates from {@code bin/berth-cluster-ca},
 * driven by the CLI: a certificate registered under a name authenticates as it, with its role; one the CA signed but
 * nobody registered is refused naming its fingerprint, one of another CA naming the rule; registering a CA's
 * certificate or another CA's is refused naming the field; a revoked name's certificate is refused at once.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApiClientCertificateTest {
  static Path dir;
  static ApiTestServer server;
  static final String ADMIN = "cert-test-admin-token-1a2b3c4d5e6f";

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("api-client-certs");
    TestFiles.clusterCa("init", dir.resolve("tls").toString(), "certtest");
    TestFiles.clusterCa("issue", dir.resolve("tls").toString(), "node-1", "127.0.0.1");
    for (String who : List.of("alice", "mallory", "trudy")) TestFiles.clusterCa("client", dir.resolve("tls").toString(), who);
    TestFiles.clusterCa("init", dir.resolve("other").toString(), "certtest");
    TestFiles.clusterCa("client", dir.resolve("other").toString(), "eve");
    Path tokens = TestFiles.tokensFile(dir.resolve("api-tokens"), "root " + ApiTokens.hashOf(ADMIN) + "\n");
    server = new ApiTestServer(Optional.of(new PemIdentity(tls("node-1.pem"), tls("node-1.key"), Optional.of(tls("ca.pem")), "berth.api.tls")),
        Optional.of(ApiTokens.load(tokens)));
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

  private static Path tls(String file) {
    return dir.resolve("tls").resolve(file);
  }

  static CliRun berth(Map<String, String> extra, String... args) {
    Map<String, String> env = new HashMap<>(Map.of("BERTH_API", server.url, "BERTH_CA", tls("ca.pem").toString()));
    env.putAll(extra);
    return CliRun.of(env, args);
  }

  static CliRun admin(String... args) {
    return berth(Map.of("BERTH_TOKEN", ADMIN), args);
  }

  static CliRun as(Path cert, Path key, String... args) {
    List<String> all = new ArrayList<>(List.of("--cert", cert.toString(), "--key", key.toString()));
    all.addAll(List.of(args));
    return berth(Map.of(), all.toArray(String[]::new));
  }

  @Test
  void aRegisteredCertificateAuthenticatesAsItsNameWithItsRoleUntilItIsRevoked() {
    CliRun register = admin("token", "create", "--name", "alice", "--role", "operator", "--certificate", tls("alice.pem").toString());
    assertEquals(0, register.code(), register.toString());
    assertTrue(register.out().contains("certificate alice (operator") && register.out().contains("SHA-256 "), register.out());

    CliRun create = as(tls("alice.pem"), tls("alice.key"), "ct", "create", "web-1", "--template", "busybox", "--reason", "ticket 9");
    assertEquals(0, create.code(), create.toString());
    assertEquals("alice", server.ops.contexts.get(server.ops.contexts.size() - 1).principal(), "the certificate's registered name");
    CliRun cordon = as(tls("alice.pem"), tls("alice.key"), "host", "cordon", "host-1");
    assertEquals(77, cordon.code(), cordon.toString());
    assertTrue(cordon.err().contains("certificate alice has the role operator"), cordon.err());

    CliRun list = admin("token", "list");
    assertTrue(list.out().lines().anyMatch(l -> l.startsWith("alice") && l.contains("certificate")), list.out());

    assertEquals(0, admin("token", "revoke", "alice").code());
    CliRun revoked = as(tls("alice.pem"), tls("alice.key"), "ct", "list");
    assertEquals(77, revoked.code(), revoked.toString());
    assertTrue(revoked.err().contains("is not registered"), revoked.err());
  }

  @Test
  void aCertificateNobodyRegisteredOrOfAnotherCaIsRefusedSayingWhy() {
    // trudy's is registered by no test (each node holds what it read of the access log for a second).
    CliRun trudy = as(tls("trudy.pem"), tls("trudy.key"), "ct", "list");
    assertEquals(77, trudy.code(), trudy.toString());
    assertTrue(trudy.err().contains("CN=trudy") && trudy.err().contains("SHA-256") && trudy.err().contains("is not registered"), trudy.err());

    Path other = dir.resolve("other");
    CliRun eve = as(other.resolve("eve.pem"), other.resolve("eve.key"), "ct", "list");
    assertEquals(77, eve.code(), "a certificate of another CA: " + eve);
    assertTrue(eve.err().contains("must be signed by this cluster's client CA") && eve.err().contains("CN=eve"), eve.err());

    CliRun mismatched = as(tls("trudy.pem"), tls("mallory.key"), "ct", "list");
    assertEquals(2, mismatched.code(), "a key that is not the certificate's: " + mismatched);
    assertTrue(mismatched.err().contains("--key") && mismatched.err().contains("must be the key of the certificate"), mismatched.err());
  }

  @Test
  void onlyAClientCertificateOfTheClusterCaIsRegisteredAndNothingElseChanges() {
    CliRun otherCa = admin("token", "create", "--name", "eve", "--role", "admin", "--certificate", dir.resolve("other/eve.pem").toString());
    assertEquals(2, otherCa.code(), otherCa.toString());
    assertTrue(otherCa.err().contains("certificate") && otherCa.err().contains("signed by this cluster's client CA"), otherCa.err());
    CliRun caItself = admin("token", "create", "--name", "ca", "--role", "admin", "--certificate", tls("ca.pem").toString());
    assertEquals(2, caItself.code(), caItself.toString());
    assertTrue(caItself.err().contains("not a CA's"), caItself.err());
    CliRun host = admin("token", "create", "--name", "host", "--role", "admin", "--certificate", tls("node-1.key").toString());
    assertEquals(2, host.code(), "a key is not a certificate: " + host);
    assertTrue(server.ops.access.get().tokens().isEmpty(), "nothing registered: " + server.ops.access.get());

    assertEquals(0, admin("token", "create", "--name", "mallory", "--role", "viewer", "--certificate", tls("mallory.pem").toString()).code());
    CliRun twice = admin("token", "create", "--name", "mallory-2", "--role", "admin", "--certificate", tls("mallory.pem").toString());
    assertEquals(4, twice.code(), "one certificate, one name: " + twice);
    CliRun tokenAndCert = berth(Map.of("BERTH_TOKEN", ADMIN), "--cert", tls("mallory.pem").toString(), "--key", tls("mallory.key").toString(),
        "--token", dir.resolve("api-tokens").toString(), "ct", "list");
    assertEquals(2, tokenAndCert.code(), "one identity at a time: " + tokenAndCert);
    CliRun viewer = as(tls("mallory.pem"), tls("mallory.key"), "ct", "list");
    assertEquals(0, viewer.code(), viewer.toString());
  }
}
