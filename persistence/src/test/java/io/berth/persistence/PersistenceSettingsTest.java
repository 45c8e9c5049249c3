package io.berth.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class PersistenceSettingsTest {

  private static PersistenceSettings with(String hocon) {
    return PersistenceSettings.fromConfig(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()));
  }

  /** Refused when the node starts (the files are read then), not when the configuration is parsed. */
  private static void rejectedAtStart(String hocon, String key, String rule) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PekkoPersistenceConfig.of(with(hocon)));
    assertTrue(e.getMessage().contains("berth.persistence." + key), "names the key: " + e.getMessage());
    assertTrue(e.getMessage().contains(rule), "states the rule: " + e.getMessage());
  }

  private static void rejected(String hocon, String key, String rule) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> with(hocon));
    assertTrue(e.getMessage().contains("berth.persistence." + key), "names the key: " + e.getMessage());
    assertTrue(e.getMessage().contains(rule), "states the rule: " + e.getMessage());
  }

  @Test
  void defaultsAreTheEmbeddedSingleNode() {
    PersistenceSettings s = with("");
    assertTrue(s.embeddedMode());
    assertEquals("SimpleStrategy", s.replicationStrategy());
    assertEquals(1, s.replicationFactor());
    assertEquals("berth_journal", s.journalKeyspace());
    assertTrue(s.createSchemaAtStart());
  }

  @Test
  void badValuesNameTheKeyAndTheRule() {
    rejected("berth.persistence.contact-points = [\"cass1\"]", "contact-points", "host:port");
    rejected("berth.persistence.keyspaces.journal = \"1bad\"", "keyspaces.journal", "start with a letter");
    rejected("berth.persistence.keyspaces.snapshot = berth_journal", "keyspaces.snapshot", "must differ");
    rejected("berth.persistence.replication.strategy = Everywhere", "replication.strategy", "SimpleStrategy or NetworkTopologyStrategy");
    rejected("berth.persistence.replication.strategy = NetworkTopologyStrategy", "replication.datacenters", "at least one");
    rejected("berth.persistence { replication.strategy = NetworkTopologyStrategy, replication.datacenters = [\"dc1\"] }", "replication.datacenters", "dc:replicas");
    rejected("berth.persistence.consistency.write = MOST", "consistency.write", "one of");
    rejected("berth.persistence.circuit-breaker.max-failures = 0", "circuit-breaker.max-failures", "at least 1");
    rejected("berth.persistence.timeline.first-time-bucket = yesterday", "timeline.first-time-bucket", "20250101T00:00");
    rejected("berth.persistence.circuit-breaker.call-timeout = lots", "circuit-breaker.call-timeout", "");
  }

  @Test
  void productionReplicationGoesIntoThePluginConfig() {
    PersistenceSettings s = with("""
        berth.persistence {
          contact-points = ["10.1.0.1:9042", "10.1.0.2:9042"]
          local-datacenter = dc1
          replication { strategy = NetworkTopologyStrategy, datacenters = ["dc1:3"] }
          consistency { write = LOCAL_QUORUM, read = LOCAL_QUORUM }
        }""");
    assertFalse(s.embeddedMode());
    Config pekko = PekkoPersistenceConfig.of(s);
    assertEquals("NetworkTopologyStrategy", pekko.getString("pekko.persistence.cassandra.journal.replication-strategy"));
    assertEquals(List.of("dc1:3"), pekko.getStringList("pekko.persistence.cassandra.journal.data-center-replication-factors"));
    assertEquals(List.of("10.1.0.1:9042", "10.1.0.2:9042"), pekko.getStringList("datastax-java-driver.basic.contact-points"));
    assertEquals("dc1", pekko.getString("datastax-java-driver.basic.load-balancing-policy.local-datacenter"));
    assertEquals("LOCAL_QUORUM", pekko.getString("datastax-java-driver.profiles.berth-write.basic.request.consistency"));
    assertEquals("pekko.persistence.cassandra.journal", pekko.getString("pekko.persistence.journal.plugin"));
    assertEquals(5, pekko.getInt("pekko.persistence.cassandra.journal.circuit-breaker.max-failures"));
    assertFalse(pekko.getBoolean("pekko.persistence.cassandra.journal.tables-autocreate"));
  }

  @Test
  void thePluginConfigNeedsContactPoints() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PekkoPersistenceConfig.of(with("")));
    assertTrue(e.getMessage().contains("contact-points"), e.getMessage());
  }

  @Test
  void aLoginGoesIntoTheDriverConfigAndBadOnesNameTheKeyAndTheRule() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("cql-login");
    try {
      java.nio.file.Path file = dir.resolve("berth.password");
      java.nio.file.Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
          java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      java.nio.file.Files.writeString(file, "s3cret-pw\n");
      String login = "berth.persistence { contact-points = [\"10.1.0.1:9042\"], authentication { username = berth, password-file = \"" + file + "\" } }";
      PersistenceSettings s = with(login);
      assertEquals("berth", s.login().orElseThrow().username());
      Config pekko = PekkoPersistenceConfig.of(s);
      assertEquals("PlainTextAuthProvider", pekko.getString("datastax-java-driver.advanced.auth-provider.class"));
      assertEquals("berth", pekko.getString("datastax-java-driver.advanced.auth-provider.username"));
      assertEquals("s3cret-pw", pekko.getString("datastax-java-driver.advanced.auth-provider.password"));
      assertFalse(PekkoPersistenceConfig.of(with("berth.persistence.contact-points = [\"10.1.0.1:9042\"]"))
          .hasPath("datastax-java-driver.advanced.auth-provider.class"), "no login, no auth provider");

      rejected("berth.persistence.authentication.username = berth", "authentication.password-file", "must be given with username");
      rejected("berth.persistence.authentication.password-file = \"" + file + "\"", "authentication.username", "must be given with password-file");
      rejected("berth.persistence.authentication { username = berth, password-file = relative.pw }", "authentication.password-file", "absolute path");
      rejectedAtStart("berth.persistence { contact-points = [\"10.1.0.1:9042\"], authentication { username = berth, password-file = \"" + dir.resolve("none") + "\" } }",
          "authentication.password-file", "readable file");
      java.nio.file.Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      rejectedAtStart(login, "authentication.password-file", "owner only (mode 0600)");
      java.nio.file.Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      java.nio.file.Files.writeString(file, "\n");
      rejectedAtStart(login, "authentication.password-file", "one line");

      rejected("berth.persistence.tls.ca-file = ca.pem", "tls.ca-file", "absolute path");
      rejectedAtStart("berth.persistence { contact-points = [\"10.1.0.1:9042\"], tls.ca-file = \"" + dir.resolve("none.pem") + "\" }", "tls.ca-file", "readable PEM file");
      rejectedAtStart("berth.persistence { contact-points = [\"10.1.0.1:9042\"], tls.ca-file = \"" + file + "\" }", "tls.ca-file", "PEM certificate");
    } finally {
      try (var files = java.nio.file.Files.list(dir)) {
        for (java.nio.file.Path f : files.toList()) java.nio.file.Files.delete(f);
      }
      java.nio.file.Files.delete(dir);
    }
  }
}
