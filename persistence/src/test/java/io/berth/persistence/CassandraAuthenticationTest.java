package io.berth.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.auth.AuthenticationException;
import com.datastax.oss.driver.api.core.servererrors.UnauthorizedException;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.berth.persistence.embedded.EmbeddedCassandra;
import io.berth.persistence.embedded.EmbeddedCassandraRoles;
import io.berth.persistence.embedded.EmbeddedCassandraSettings;
import io.berth.persistence.embedded.NativeTls;
import io.berth.persistence.testing.SharedCassandra;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.Test;

/**
 * The embedded node with Cassandra's password authentication and TLS on its CQL port, as {@code bin/berth up} runs
 * it: plain TCP and a client trusting another CA get no session; CQL without credentials, with the default
 * superuser's or with a wrong password is refused; Berth's role logs in, creates its
 * schema through the journal plugin and writes, but cannot make roles; setting up again changes nothing, also after a
 * restart. Runs on a node of its own (the shared one has no authentication).
 */
class CassandraAuthenticationTest {

  @Test
  void onlyBerthsRoleLogsInAndItCannotMakeRoles() throws Exception {
    Path base = SharedCassandra.scratch("auth-node");
    Path roles = base.resolve("roles");
    Path tls = base.resolve("tls");
    ca("init", tls.toString(), "authtest");
    ca("service", tls.toString(), "cassandra", "127.0.0.1");
    ca("init", base.resolve("other-ca").toString(), "authtest");
    EmbeddedCassandraSettings settings = new EmbeddedCassandraSettings(base.resolve("cassandra"), "127.0.0.1", 0, 0, "512m",
        new EmbeddedCassandraSettings.Owner.ParentPipe(), Duration.ofSeconds(120)).withPasswordAuthentication()
        .withNativeTls(new NativeTls(tls.resolve("cassandra.pem"), tls.resolve("cassandra.key"), tls.resolve("ca.pem")));
    SSLContext trusted = PemTrust.trusting(tls.resolve("ca.pem"), "test");
    EmbeddedCassandra node = EmbeddedCassandra.start(settings);
    boolean passed = false;
    try {
      assertTrue(Files.readString(settings.dataRoot().resolve("conf/cassandra.yaml")).contains("authenticator: PasswordAuthenticator"));
      CqlLogin berth = EmbeddedCassandraRoles.ensure(node, roles, Duration.ofSeconds(60));
      String password = berth.password();
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(roles)));
      for (String f : List.of("berth.password", "admin.password")) {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(roles.resolve(f))), f);
      }

      assertRefused(builder(node, trusted), "no credentials");
      assertRefused(builder(node, trusted).withAuthCredentials("cassandra", "cassandra"), "Cassandra's default superuser");
      assertRefused(builder(node, trusted).withAuthCredentials("berth", password + "x"), "a wrong password");
      // Without TLS the node does not speak; with another CA's trust the driver does not believe it.
      assertNoConnection(builder(node, null).withAuthCredentials("berth", password), "plain TCP");
      assertNoConnection(builder(node, PemTrust.trusting(base.resolve("other-ca/ca.pem"), "test")).withAuthCredentials("berth", password),
          "another CA");

      try (CqlSession s = builder(node, trusted).withAuthCredentials("berth", password).build()) {
        UnauthorizedException e = assertThrows(UnauthorizedException.class,
            () -> s.execute("CREATE ROLE intruder WITH LOGIN = true AND PASSWORD = 'x'"));
        assertTrue(e.getMessage().contains("does not have sufficient privileges"), e.getMessage());
      }

      // The node's own path: the journal plugin's session logs in with berth.persistence.authentication.
      Config base0 = ConfigFactory.parseString("berth.persistence { authentication { username = berth, password-file = \""
          + berth.passwordFile() + "\" }, tls.ca-file = \"" + tls.resolve("ca.pem") + "\" }").withFallback(ConfigFactory.load());
      PersistenceSettings ps = PersistenceSettings.fromConfig(base0).withContactPoints(List.of(node.contactPoint()));
      ActorTestKit kit = ActorTestKit.create("auth", PekkoPersistenceConfig.of(ps).withFallback(base0));
      try {
        CassandraSchema.ensure(kit.system(), ps).toCompletableFuture().get(60, TimeUnit.SECONDS);
      } finally {
        kit.shutdownTestKit();
      }
      try (CqlSession s = builder(node, trusted).withAuthCredentials("berth", password).build()) {
        assertTrue(s.execute("SELECT * FROM " + ps.journalKeyspace() + ".messages LIMIT 1").getColumnDefinitions().contains("persistence_id"),
            "berth created the journal's tables");
      }

      // Again, and after a restart: the same role, the same password.
      assertEquals(password, EmbeddedCassandraRoles.ensure(node, roles, Duration.ofSeconds(60)).password());
      node.close();
      node = EmbeddedCassandra.start(settings);
      assertEquals(password, EmbeddedCassandraRoles.ensure(node, roles, Duration.ofSeconds(60)).password());
      assertRefused(builder(node, trusted), "no credentials, after a restart");
      passed = true;
    } finally {
      node.close();
      if (passed) SharedCassandra.deleteTree(base);
    }
  }

  private static CqlSessionBuilder builder(EmbeddedCassandra node, SSLContext tls) {
    CqlSessionBuilder b = CqlSession.builder().addContactPoint(new InetSocketAddress(node.address(), node.nativePort()))
        .withLocalDatacenter("datacenter1");
    return tls == null ? b : b.withSslEngineFactory(new CaFileSslEngineFactory(tls));
  }

  private static void assertNoConnection(CqlSessionBuilder b, String how) {
    AllNodesFailedException e = assertThrows(AllNodesFailedException.class, () -> b.build().close(), how + " must not connect");
    assertFalse(e.getAllErrors().values().stream().flatMap(List::stream).anyMatch(t -> t instanceof AuthenticationException),
        how + ": refused before any login: " + e.getMessage());
  }

  /** bin/berth-cluster-ca, as bin/berth up runs it. */
  private static void ca(String... args) throws Exception {
    List<String> argv = new java.util.ArrayList<>(List.of("../bin/berth-cluster-ca"));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "berth-cluster-ca " + String.join(" ", args) + ": " + out);
  }

  private static void assertRefused(CqlSessionBuilder b, String who) {
    AllNodesFailedException e = assertThrows(AllNodesFailedException.class, () -> b.build().close(), who + " must not log in");
    assertTrue(e.getAllErrors().values().stream().flatMap(List::stream).anyMatch(t -> t instanceof AuthenticationException),
        who + ": refused by authentication, not for another reason: " + e.getMessage());
  }
}
