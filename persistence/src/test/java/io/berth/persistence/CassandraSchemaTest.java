package io.berth.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.berth.persistence.testing.SharedCassandra;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;

class CassandraSchemaTest {

  /** The documented CQL file is exactly what Berth runs for the default settings, so it cannot drift. */
  @Test
  void theDocumentedCqlFileMatchesTheStatementsBerthRuns() throws Exception {
    var config = PekkoPersistenceConfig.of(PersistenceSettings.fromConfig(ConfigFactory.load()).withContactPoints(List.of("127.0.0.1:9042")))
        .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "schema-text", config);
    try {
      String expected = SchemaCql.render(CassandraSchema.statements(system));
      String documented;
      try (InputStream in = getClass().getResourceAsStream("/io/berth/persistence/schema.cql")) {
        documented = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (Boolean.getBoolean("berth.schema.regenerate")) {
        java.nio.file.Files.writeString(java.nio.file.Path.of("src/main/resources/io/berth/persistence/schema.cql"), expected);
      }
      assertEquals(expected, documented, "schema.cql differs from the plugin's statements; regenerate with -Dberth.schema.regenerate=true");
    } finally {
      TestSystems.stop(system);
    }
  }

  @Test
  void ensureCreatesEveryTableInCassandra() throws Exception {
    ActorSystem<Void> system = TestSystems.onSharedNode();
    try {
      var session = CassandraSchema.session(system);
      var rows = session.selectAll("SELECT keyspace_name, table_name FROM system_schema.tables WHERE keyspace_name IN ('berth_journal', 'berth_snapshot')")
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      Set<String> tables = new TreeSet<>();
      rows.forEach(r -> tables.add(r.getString("keyspace_name") + "." + r.getString("table_name")));
      for (String t : List.of("berth_journal.messages", "berth_journal.tag_views", "berth_journal.tag_write_progress",
          "berth_journal.tag_scanning", "berth_journal.metadata", "berth_journal.all_persistence_ids", "berth_journal.audit_checkpoints",
          "berth_journal.audit_signers", "berth_snapshot.snapshots")) {
        assertTrue(tables.contains(t), t + " exists in Cassandra at " + SharedCassandra.node().contactPoint() + "; found " + tables);
      }
    } finally {
      TestSystems.stop(system);
    }
  }
}
