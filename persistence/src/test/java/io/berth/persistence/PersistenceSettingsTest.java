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
}
