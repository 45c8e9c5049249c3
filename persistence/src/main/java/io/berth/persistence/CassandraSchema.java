package io.berth.persistence;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.cassandra.KeyspaceAndTableStatements;
import org.apache.pekko.persistence.cassandra.PluginSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * The keyspaces and tables of the journal and the snapshot store. The statements are the plugin's own
 * ({@link KeyspaceAndTableStatements}) for the configured keyspaces and replication, so what Berth creates is exactly
 * what the plugin reads and writes; {@code io/berth/persistence/schema.cql} holds them for the default settings,
 * for operators who create the schema by hand ({@code create-schema-at-start = off}).
 *
 * <p>Run {@link #ensure} from one process before the entities start: concurrent CREATE TABLE from several
 * coordinators can leave Cassandra with two table ids for one table.
 */
public final class CassandraSchema {
  private CassandraSchema() {}

  /** Every statement, in order: journal keyspace and tables (with Berth's audit checkpoints), snapshot keyspace and tables. */
  public static List<String> statements(ClassicActorSystemProvider system) {
    KeyspaceAndTableStatements s = new KeyspaceAndTableStatements(
        system, PekkoPersistenceConfig.PLUGIN, PluginSettings.apply(system.classicSystem()));
    List<String> all = new ArrayList<>();
    all.add(s.createJournalKeyspaceStatement());
    all.addAll(s.getCreateJournalTablesStatements());
    // Berth's own: the signed checkpoints of the logs and their signers' public keys (audit.CheckpointStore).
    all.addAll(io.berth.persistence.audit.CheckpointStore.statements(
        system.classicSystem().settings().config().getString(PekkoPersistenceConfig.PLUGIN + ".journal.keyspace")));
    all.add(s.createSnapshotKeyspaceStatement());
    all.addAll(s.getCreateSnapshotTablesStatements());
    return all;
  }

  /** Creates what is missing (IF NOT EXISTS) when {@code create-schema-at-start} is on; checks the tables otherwise. */
  public static CompletionStage<Done> ensure(ActorSystem<?> system, PersistenceSettings settings) {
    CassandraSession session = session(system);
    if (!settings.createSchemaAtStart()) return checkExists(session, settings);
    CompletionStage<Done> chain = CompletableFuture.completedFuture(Done.getInstance());
    for (String statement : statements(system)) {
      chain = chain.thenCompose(done -> ddl(session, statement, 1));
    }
    return chain;
  }

  /** How often a schema statement that timed out is sent again: IF NOT EXISTS makes it safe. */
  private static final int DDL_ATTEMPTS = 5;

  /**
   * One schema statement. A CREATE TABLE on a busy node can outlast the request timeout (seen: 2.4 s on a loaded
   * 2-core machine) while the node still applies it; the statement is idempotent, so a timeout is asked again.
   */
  private static CompletionStage<Done> ddl(CassandraSession session, String statement, int attempt) {
    return session.executeDDL(statement).handle((done, e) -> {
      if (e == null) return CompletableFuture.completedFuture(done);
      Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof com.datastax.oss.driver.api.core.DriverTimeoutException && attempt < DDL_ATTEMPTS) {
        return ddl(session, statement, attempt + 1);
      }
      CompletableFuture<Done> failed = new CompletableFuture<>();
      failed.completeExceptionally(new PersistenceUnavailableException("create schema: " + firstLine(statement) + " failed"
          + (attempt > 1 ? " after " + attempt + " attempts" : "") + ": " + cause.getMessage(), cause));
      return failed;
    }).thenCompose(java.util.function.Function.identity());
  }

  static CassandraSession session(ActorSystem<?> system) {
    return CassandraSessionRegistry.get(system).sessionFor(PekkoPersistenceConfig.PLUGIN);
  }

  private static CompletionStage<Done> checkExists(CassandraSession session, PersistenceSettings s) {
    String cql = "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?";
    return session.selectOne(cql, s.journalKeyspace(), "messages")
        .thenCombine(session.selectOne(cql, s.snapshotKeyspace(), "snapshots"), (journal, snapshot) -> {
          if (journal.isEmpty() || snapshot.isEmpty()) {
            throw new PersistenceUnavailableException("check schema: " + PersistenceSettings.PATH
                + ".create-schema-at-start is off but " + (journal.isEmpty() ? s.journalKeyspace() + ".messages" : s.snapshotKeyspace() + ".snapshots")
                + " does not exist; create the schema from io/berth/persistence/schema.cql first");
          }
          return Done.getInstance();
        });
  }

  private static String firstLine(String statement) {
    String trimmed = statement.strip();
    int nl = trimmed.indexOf('\n');
    return nl < 0 ? trimmed : trimmed.substring(0, nl);
  }
}
