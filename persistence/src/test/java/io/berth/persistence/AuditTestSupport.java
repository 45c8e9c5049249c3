package io.berth.persistence;

import static org.junit.jupiter.api.Assertions.fail;

import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import io.berth.persistence.testing.SharedCassandra;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.HostId;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;

/** An ActorTestKit on the shared node, test host entities, and raw CQL access to their rows. */
public final class AuditTestSupport implements AutoCloseable {
  private final ActorTestKit kit;
  private final CassandraSession session;
  private final String messages;

  private AuditTestSupport(ActorTestKit kit) {
    this.kit = kit;
    this.session = CassandraSchema.session(kit.system());
    this.messages = kit.system().settings().config().getString("pekko.persistence.cassandra.journal.keyspace") + ".messages";
  }

  public static AuditTestSupport start() {
    var config = SharedCassandra.config("");
    ActorTestKit kit = ActorTestKit.create("audit-" + TestSystems.suffix(), config);
    try {
      CassandraSchema.ensure(kit.system(), PersistenceSettings.fromConfig(config)).toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      kit.shutdownTestKit();
      throw new AssertionError("the schema was not created within 60 s", e);
    }
    return new AuditTestSupport(kit);
  }

  public ActorSystem<Void> system() {
    return kit.system();
  }

  public HostId newHostId(String prefix) {
    return HostId.of(prefix + "-" + TestSystems.suffix());
  }

  public ActorRef<TestHostEntity.Command> spawn(HostId id) {
    return kit.spawn(TestHostEntity.create(id));
  }

  /** Sends the n-th command (see Hosts.nth) and waits for its acknowledgement. */
  public TestHostEntity.Done write(ActorRef<TestHostEntity.Command> host, int n, String principal, String reason, String correlation) {
    return Hosts.done(Hosts.nth(kit.system(), host, n, Hosts.ctx(principal, reason, correlation)));
  }

  public HostState liveState(ActorRef<TestHostEntity.Command> host) throws Exception {
    return AskPattern.<TestHostEntity.Command, HostState>ask(host, TestHostEntity.Get::new, TestSystems.ASK, kit.system().scheduler())
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  public void stopEntity(ActorRef<TestHostEntity.Command> host) {
    kit.stop(host, Duration.ofSeconds(10));
  }

  /** Starts the entity and waits for its recovery to fail; it must not answer a command meanwhile. */
  public Optional<Throwable> spawnExpectingRecoveryFailure(HostId id) {
    TestProbe<Throwable> failures = kit.createTestProbe();
    ActorRef<TestHostEntity.Command> host = kit.spawn(TestHostEntity.create(id, failures.ref()::tell, 0));
    try {
      Throwable t = failures.expectMessageClass(Throwable.class, Duration.ofSeconds(30));
      TestProbe<HostState> state = kit.createTestProbe();
      host.tell(new TestHostEntity.Get(state.ref()));
      state.expectNoMessage(Duration.ofSeconds(2));
      return Optional.of(t);
    } catch (AssertionError e) {
      return Optional.empty();
    } finally {
      kit.stop(host, Duration.ofSeconds(10));
    }
  }

  public long rowCount(String pid) throws Exception {
    return session.selectOne("SELECT count(*) AS n FROM " + messages + " WHERE persistence_id = ? AND partition_nr = 0", pid)
        .toCompletableFuture().get(30, TimeUnit.SECONDS).orElseThrow().getLong("n");
  }

  private Row row(String pid, long seq) throws Exception {
    return session.selectOne("SELECT timestamp, ser_manifest, event FROM " + messages + " WHERE persistence_id = ? AND partition_nr = 0 AND sequence_nr = ?", pid, seq)
        .toCompletableFuture().get(30, TimeUnit.SECONDS)
        .orElseThrow(() -> new AssertionError("no row for " + pid + " sequence number " + seq + " in " + messages));
  }

  public byte[] storedBytes(String pid, long seq) throws Exception {
    ByteBuffer b = row(pid, seq).getByteBuffer("event");
    byte[] bytes = new byte[b.remaining()];
    b.duplicate().get(bytes);
    return bytes;
  }

  public String manifest(String pid, long seq) throws Exception {
    return row(pid, seq).getString("ser_manifest");
  }

  /** Replaces the stored event bytes of one row in place, as someone with CQL access could. */
  public void overwrite(String pid, long seq, byte[] bytes) throws Exception {
    UUID timestamp = row(pid, seq).getUuid("timestamp");
    session.executeWrite("UPDATE " + messages + " SET event = ? WHERE persistence_id = ? AND partition_nr = 0 AND sequence_nr = ? AND timestamp = ?",
        ByteBuffer.wrap(bytes), pid, seq, timestamp).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** A journal row (and its all_persistence_ids entry) of a log that is not Berth's, holding bytes no serializer reads. */
  public void writeForeignRow(String pid) throws Exception {
    String keyspace = messages.substring(0, messages.indexOf('.'));
    session.executeWrite("INSERT INTO " + keyspace + ".all_persistence_ids (persistence_id) VALUES (?)", pid)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    session.executeWrite("INSERT INTO " + messages + " (persistence_id, partition_nr, sequence_nr, timestamp, ser_id, ser_manifest, event, writer_uuid)"
        + " VALUES (?, 0, 1, now(), 999, 'x', ?, 'w')", pid, ByteBuffer.wrap(new byte[] {1, 2, 3}))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /**
   * Writes one journal row as an older build of Berth would have (e.g. an event at a version no longer written), for
   * the entity to replay: the plugin's columns, the Berth serializer's id, the manifest and the bytes given.
   */
  public void insertEventRow(String pid, long seq, String manifest, byte[] bytes) throws Exception {
    session.executeWrite("INSERT INTO " + messages + " (persistence_id, partition_nr, sequence_nr, timestamp, timebucket, writer_uuid, ser_id,"
            + " ser_manifest, event_manifest, event, tags) VALUES (?, 0, ?, now(), '19700101', 'an-older-build', ?, ?, '', ?, {})",
        pid, seq, io.berth.protocol.serialization.BerthSerializer.IDENTIFIER, manifest, ByteBuffer.wrap(bytes))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** One CQL write, as anyone with write access to Cassandra could make. */
  public void execute(String cql, Object... values) throws Exception {
    session.executeWrite(cql, values).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  public String journalKeyspace() {
    return messages.substring(0, messages.indexOf('.'));
  }

  public static long uuidMillis(String offset) {
    if (offset.isEmpty()) fail("a timeline entry carries its offset");
    return Uuids.unixTimestamp(UUID.fromString(offset));
  }

  @Override
  public void close() {
    kit.shutdownTestKit();
  }
}
