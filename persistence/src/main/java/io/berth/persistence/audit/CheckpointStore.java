package io.berth.persistence.audit;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.berth.persistence.PekkoPersistenceConfig;
import java.nio.ByteBuffer;
import java.security.PublicKey;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;

/**
 * Signed checkpoints and the signers' public keys, in two tables of the journal's keyspace. The store needs no trust:
 * a checkpoint counts only when its signature verifies under a recorded key whose fingerprint is in the signer's
 * name; an edited or forged row is reported by verify, never believed.
 */
public final class CheckpointStore {
  static final String CHECKPOINTS = "audit_checkpoints";
  static final String SIGNERS = "audit_signers";

  /** One stored checkpoint, or why its row does not make one. */
  public record Stored(String persistenceId, long lastSeq, String signer, Optional<Checkpoint> checkpoint, String malformed) {}

  private final CassandraSession session;
  private final String keyspace;

  public CheckpointStore(CassandraSession session, String keyspace) {
    this.session = session;
    this.keyspace = keyspace;
  }

  /** The tables, for CassandraSchema (and schema.cql). */
  public static List<String> statements(String keyspace) {
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + keyspace + "." + CHECKPOINTS + " (\n"
            + "  persistence_id text,\n  last_seq bigint,\n  signer text,\n  first_seq bigint,\n  signed_at timestamp,\n"
            + "  hashes blob,\n  signature blob,\n"
            + "  PRIMARY KEY ((persistence_id), last_seq, signer))\n  WITH CLUSTERING ORDER BY (last_seq DESC, signer ASC)",
        "CREATE TABLE IF NOT EXISTS " + keyspace + "." + SIGNERS + " (\n"
            + "  signer text PRIMARY KEY,\n  public_key blob,\n  recorded_at timestamp)");
  }

  /** Records a signer's public key where verify finds it (idempotent: the name carries the key's fingerprint). */
  public CompletionStage<Done> recordSigner(String signer, PublicKey key) {
    return write(SimpleStatement.builder("INSERT INTO " + keyspace + "." + SIGNERS + " (signer, public_key, recorded_at) VALUES (?, ?, ?)")
        .addPositionalValues(signer, ByteBuffer.wrap(key.getEncoded()), Instant.now()));
  }

  public CompletionStage<Done> write(Checkpoint c) {
    return write(SimpleStatement.builder("INSERT INTO " + keyspace + "." + CHECKPOINTS
            + " (persistence_id, last_seq, signer, first_seq, signed_at, hashes, signature) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .addPositionalValues(c.persistenceId(), c.lastSeq(), c.signer(), c.firstSeq(), c.signedAt(), ByteBuffer.wrap(Checkpoint.pack(c.hashes())),
            ByteBuffer.wrap(c.signature())));
  }

  /** Every checkpoint of one log, the newest (highest last_seq) first. */
  public CompletionStage<List<Stored>> of(String persistenceId) {
    return session.selectAll(read("SELECT persistence_id, last_seq, signer, first_seq, signed_at, hashes, signature FROM " + keyspace + "."
            + CHECKPOINTS + " WHERE persistence_id = ?", persistenceId))
        .thenApply(rows -> rows.stream().map(CheckpointStore::stored).toList());
  }

  /** The {@code limit} newest checkpoints of one log (a round needs only the newest valid one). */
  public CompletionStage<List<Stored>> newest(String persistenceId, int limit) {
    return session.selectAll(read("SELECT persistence_id, last_seq, signer, first_seq, signed_at, hashes, signature FROM " + keyspace + "."
            + CHECKPOINTS + " WHERE persistence_id = ? LIMIT " + limit, persistenceId))
        .thenApply(rows -> rows.stream().map(CheckpointStore::stored).toList());
  }

  /** Every log that has a checkpoint. */
  public CompletionStage<Set<String>> persistenceIds() {
    return session.selectAll(read("SELECT DISTINCT persistence_id FROM " + keyspace + "." + CHECKPOINTS))
        .thenApply(rows -> {
          Set<String> ids = new LinkedHashSet<>();
          for (Row r : rows) ids.add(r.getString("persistence_id"));
          return ids;
        });
  }

  /** Every recorded signer's encoded public key. */
  public CompletionStage<Map<String, byte[]>> signers() {
    return session.selectAll(read("SELECT signer, public_key FROM " + keyspace + "." + SIGNERS)).thenApply(rows -> {
      Map<String, byte[]> keys = new HashMap<>();
      for (Row r : rows) keys.put(r.getString("signer"), bytes(r.getByteBuffer("public_key")));
      return keys;
    });
  }

  private static Stored stored(Row r) {
    String pid = r.getString("persistence_id");
    long last = r.getLong("last_seq");
    String signer = r.getString("signer");
    Instant at = r.getInstant("signed_at");
    if (at == null) return new Stored(pid, last, signer, Optional.empty(), "it has no signing time");
    try {
      List<String> hashes = Checkpoint.unpack(bytes(r.getByteBuffer("hashes")));
      Checkpoint c = new Checkpoint(pid, r.getLong("first_seq"), last, signer, at, hashes, bytes(r.getByteBuffer("signature")));
      return new Stored(pid, last, signer, Optional.of(c), "");
    } catch (IllegalArgumentException e) {
      return new Stored(pid, last, signer, Optional.empty(), e.getMessage());
    }
  }

  private static byte[] bytes(ByteBuffer b) {
    if (b == null) return new byte[0];
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static SimpleStatement read(String cql, Object... values) {
    return SimpleStatement.builder(cql).addPositionalValues(values).setExecutionProfileName(PekkoPersistenceConfig.READ_PROFILE).build();
  }

  private CompletionStage<Done> write(com.datastax.oss.driver.api.core.cql.SimpleStatementBuilder b) {
    return session.executeWrite(b.setExecutionProfileName(PekkoPersistenceConfig.WRITE_PROFILE).build());
  }
}
