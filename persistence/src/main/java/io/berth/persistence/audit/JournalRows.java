package io.berth.persistence.audit;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.berth.persistence.PekkoPersistenceConfig;
import java.nio.ByteBuffer;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.javadsl.Source;
import scala.util.Try;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;

/**
 * The journal's rows as Cassandra holds them, read through CQL without the plugin's decoding: the stored bytes are
 * what the hash chain covers, and a row that does not decode must still be named by its sequence number.
 */
final class JournalRows {
  /** One row of {@code messages}. */
  record Raw(String persistenceId, long sequenceNr, UUID writeTime, String writerUuid, int serializerId, String manifest, byte[] bytes) {}

  private final CassandraSession session;
  private final Serialization serialization;
  private final String table;
  private final long partitionSize;

  JournalRows(ActorSystem<?> system, CassandraSession session) {
    this.session = session;
    this.serialization = SerializationExtension.get(system.classicSystem());
    var plugin = system.settings().config().getConfig(PekkoPersistenceConfig.PLUGIN + ".journal");
    this.table = plugin.getString("keyspace") + "." + plugin.getString("table");
    this.partitionSize = plugin.getLong("target-partition-size");
  }

  /**
   * Every row of one entity in sequence order, partition after partition. The plugin may leave a partition empty
   * when an atomic write did not fit the previous one, so the scan stops only after two empty partitions in a row.
   */
  Source<Raw, NotUsed> rows(String persistenceId) {
    return rows(persistenceId, 1);
  }

  /**
   * The rows from sequence number {@code from} on. The plugin puts sequence number n in partition (n - 1) / size or,
   * when an atomic write did not fit, a later one, never an earlier one: the scan starts at that partition.
   */
  Source<Raw, NotUsed> rows(String persistenceId, long from) {
    long first = (Math.max(1, from) - 1) / partitionSize;
    return Source.unfoldAsync(new long[] {first, 0}, state -> {
      long partition = state[0];
      long emptyInARow = state[1];
      if (emptyInARow >= 2) return java.util.concurrent.CompletableFuture.completedFuture(java.util.Optional.empty());
      return partition(persistenceId, partition).thenApply(rows -> java.util.Optional.of(
          org.apache.pekko.japi.Pair.create(new long[] {partition + 1, rows.isEmpty() ? emptyInARow + 1 : 0}, rows)));
    }).mapConcat(rows -> rows).filter(r -> r.sequenceNr() >= from);
  }

  private CompletionStage<java.util.List<Raw>> partition(String persistenceId, long partition) {
    SimpleStatement select = SimpleStatement.builder(
            "SELECT sequence_nr, timestamp, writer_uuid, ser_id, ser_manifest, event FROM " + table
                + " WHERE persistence_id = ? AND partition_nr = ?")
        .addPositionalValues(persistenceId, partition)
        .setExecutionProfileName(PekkoPersistenceConfig.READ_PROFILE)
        .setPageSize(5000)
        .build();
    return session.selectAll(select).thenApply(rows -> rows.stream().map(r -> raw(persistenceId, r)).toList());
  }

  private static Raw raw(String persistenceId, Row r) {
    ByteBuffer buffer = r.getByteBuffer("event");
    byte[] bytes = new byte[buffer == null ? 0 : buffer.remaining()];
    if (buffer != null) buffer.duplicate().get(bytes);
    return new Raw(persistenceId, r.getLong("sequence_nr"), r.getUuid("timestamp"), r.getString("writer_uuid"),
        r.getInt("ser_id"), r.getString("ser_manifest"), bytes);
  }

  /** Decodes a row with the serializer it names, as the journal would on replay. */
  Try<Object> decode(Raw row) {
    return serialization.deserialize(row.bytes(), row.serializerId(), row.manifest());
  }

  long partitionSize() {
    return partitionSize;
  }

  String table() {
    return table;
  }
}
