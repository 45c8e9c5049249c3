package io.berth.persistence.audit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.persistence.AuditTestSupport;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventHashes;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.DrainMode;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.serialization.BerthEventCodec;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hash chain over stored bytes and its signed checkpoints, on the shared embedded Cassandra: an upcast old event
 * continues the chain, a rewrite that recomputes every hash is caught, and bad checkpoints are named.
 */
class CheckpointTest {
  private static AuditTestSupport support;
  private static AuditService audit;
  private static CheckpointSigner signer;
  private static Checkpointer checkpointer;
  @TempDir
  static Path keys;

  @BeforeAll
  static void start() {
    support = AuditTestSupport.start();
    audit = new AuditService(support.system(), new AuditSettings(Duration.ofMinutes(1), Duration.ofMinutes(10)));
    signer = CheckpointSigner.loadOrCreate(keys.resolve("audit"), "test-node");
    checkpointer = new Checkpointer(support.system(), audit, signer, Clock.systemUTC());
  }

  @AfterAll
  static void stop() {
    if (support != null) support.close();
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** A host log of {@code n} events written by the entity (registered, then cordoned and uncordoned in turn). */
  private static String log(String prefix, int n) {
    HostId id = support.newHostId(prefix);
    var host = support.spawn(id);
    for (int i = 1; i <= n; i++) support.write(host, i, "carol", "r" + i, prefix + "-" + i);
    support.stopEntity(host);
    return AuditService.persistenceId(id);
  }

  @Test
  void aV1EventUpcastOnReadThenANewEventAfterItVerifiesIntact() throws Exception {
    // DrainRequested version 1 held only the meta (before drains had a mode): the very layout of HostCordoned:1. The
    // protocol's golden file of DrainRequested:1 proves it, and reads back as today's record with the v1 defaults.
    byte[] golden = Files.readAllBytes(Path.of("..", "protocol", "src", "test", "resources", "golden", "DrainRequested:1.bin"));
    HostEvent.DrainRequested goldenRead = (HostEvent.DrainRequested) BerthEventCodec.fromBytes("DrainRequested:1", golden);
    assertArrayEquals(golden, BerthEventCodec.toBytes(new HostEvent.HostCordoned(goldenRead.meta())), "v1 layout = version + meta");
    assertNotEquals("DrainRequested:1", BerthEventCodec.manifest(goldenRead), "version 1 is no longer written: reading it is an upcast");

    HostId id = support.newHostId("upcast");
    String pid = AuditService.persistenceId(id);
    var host = support.spawn(id);
    support.write(host, 1, "carol", "register", "u-1");
    support.stopEntity(host);
    // Sequence number 2 as an older build wrote it: DrainRequested:1, linked to row 1's stored bytes.
    EventMeta meta = new EventMeta(Instant.now(), "carol", "drain, as v1 did", "u-2", EventHashes.link(support.storedBytes(pid, 1)));
    byte[] v1 = BerthEventCodec.toBytes(new HostEvent.HostCordoned(meta));
    support.insertEventRow(pid, 2, "DrainRequested:1", v1);
    BerthEvent upcast = BerthEventCodec.fromBytes("DrainRequested:1", v1);
    assertEquals(new HostEvent.DrainRequested(meta, DrainMode.LIVE, 1), upcast);
    assertNotEquals(EventHashes.link(BerthEventCodec.toBytes(upcast)), EventHashes.link(v1), "today's bytes of the upcast event differ from the stored ones");

    // The entity replays row 2 through the upcaster, and links its next event to row 2's stored bytes.
    host = support.spawn(id);
    assertEquals(EventHashes.link(v1), support.liveState(host).lastEventHash(), "the fold's head is the stored bytes' hash");
    support.write(host, 3, "carol", "uncordon", "u-3");
    HostEvent third = (HostEvent) BerthEventCodec.fromBytes(support.manifest(pid, 3), support.storedBytes(pid, 3));
    assertEquals(EventHashes.link(v1), third.meta().prevHash());

    ChainReport.Intact intact = assertInstanceOf(ChainReport.Intact.class, await(audit.verify(pid)));
    assertEquals(3, intact.events());
    assertEquals(EventHashes.link(support.storedBytes(pid, 3)), intact.headHash());
    // Signed too: the checkpoint holds the stored bytes' hashes, upcast row included.
    assertEquals(new Checkpointer.Outcome.Signed(pid, 1, 3), await(checkpointer.checkpoint(pid)));
    assertEquals(3, assertInstanceOf(ChainReport.Intact.class, await(audit.verify(pid))).signedUpTo());
  }

  @Test
  void aRewriteThatRecomputesEveryHashIsCaughtByTheSignedCheckpoint() throws Exception {
    // Without a checkpoint, the attack works: the recomputed chain is intact.
    String unsigned = log("forge-bare", 5);
    rewriteFrom(unsigned, 3);
    assertInstanceOf(ChainReport.Intact.class, await(audit.verify(unsigned)), "a recomputed chain passes the hash links alone");

    String pid = log("forge", 5);
    assertEquals(new Checkpointer.Outcome.Signed(pid, 1, 5), await(checkpointer.checkpoint(pid)));
    assertEquals(new Checkpointer.Outcome.Unchanged(pid, 5), await(checkpointer.checkpoint(pid)), "nothing new: nothing signed");
    assertEquals(5, assertInstanceOf(ChainReport.Intact.class, await(audit.verify(pid))).signedUpTo());

    rewriteFrom(pid, 3);
    ChainReport.Broken broken = assertInstanceOf(ChainReport.Broken.class, await(audit.verify(pid)));
    assertEquals(3, broken.sequenceNr(), broken.toString());
    assertEquals(ChainCheck.CHECKPOINT_HASH, broken.check(), broken.toString());
    assertTrue(broken.problem().contains("by " + signer.name()), broken.problem());
    VerifyReport all = await(audit.verifyAll());
    assertTrue(all.broken().stream().anyMatch(b -> b.persistenceId().equals(pid) && b.sequenceNr() == 3 && b.check() == ChainCheck.CHECKPOINT_HASH),
        all.broken().toString());

    // An edit that does not recompute the links is named at the edited event itself, not at the next link.
    String edited = log("edit", 4);
    await(checkpointer.checkpoint(edited));
    byte[] original = support.storedBytes(edited, 2);
    HostEvent e = (HostEvent) BerthEventCodec.fromBytes(support.manifest(edited, 2), original);
    support.overwrite(edited, 2, BerthEventCodec.toBytes(new HostEvent.HostCordoned(withPrincipal(e.meta(), "mallory"))));
    ChainReport.Broken at2 = assertInstanceOf(ChainReport.Broken.class, await(audit.verify(edited)));
    assertEquals(2, at2.sequenceNr());
    assertEquals(ChainCheck.CHECKPOINT_HASH, at2.check());
    // The checkpointer signs only what links to its last checkpoint.
    support.overwrite(edited, 2, original);
    assertInstanceOf(ChainReport.Intact.class, await(audit.verify(edited)));
  }

  @Test
  void eventsAfterTheLastCheckpointAreSignedByTheNextOneAndOnlyIfTheyLink() throws Exception {
    HostId id = support.newHostId("grow");
    String pid = AuditService.persistenceId(id);
    var host = support.spawn(id);
    for (int i = 1; i <= 3; i++) support.write(host, i, "dave", "r" + i, "g-" + i);
    assertEquals(new Checkpointer.Outcome.Signed(pid, 1, 3), await(checkpointer.checkpoint(pid)));
    for (int i = 4; i <= 6; i++) support.write(host, i, "dave", "r" + i, "g-" + i);
    support.stopEntity(host);
    assertEquals(new Checkpointer.Outcome.Signed(pid, 4, 6), await(checkpointer.checkpoint(pid)));
    assertEquals(2, await(audit.checkpoints().of(pid)).size());
    assertEquals(6, assertInstanceOf(ChainReport.Intact.class, await(audit.verify(pid))).signedUpTo());

    // A row edited after the last checkpoint is not signed by the next round.
    support.insertEventRow(pid, 7, "HostCordoned:1", BerthEventCodec.toBytes(new HostEvent.HostCordoned(
        new EventMeta(Instant.now(), "mallory", "not linked", "g-7", EventHashes.link(new byte[] {1})))));
    Checkpointer.Outcome.Refused refused = assertInstanceOf(Checkpointer.Outcome.Refused.class, await(checkpointer.checkpoint(pid)));
    assertEquals(7, refused.why().sequenceNr());
    assertEquals(ChainCheck.HASH_LINK, refused.why().check());
  }

  @Test
  void anEventOlderThanTheBoundWithoutACheckpointIsReportedMissing() throws Exception {
    String pid = log("unsigned", 2);
    AuditService strict = new AuditService(support.system(), new AuditSettings(Duration.ofMillis(1), Duration.ofMillis(2)));
    Thread.sleep(5);
    ChainReport.Broken missing = assertInstanceOf(ChainReport.Broken.class, await(strict.verify(pid)));
    assertEquals(1, missing.sequenceNr());
    assertEquals(ChainCheck.MISSING_CHECKPOINT, missing.check(), missing.toString());
    await(checkpointer.checkpoint(pid));
    assertInstanceOf(ChainReport.Intact.class, await(strict.verify(pid)));
  }

  @Test
  void badCheckpointsAreNamedWithTheCheckTheyFail() throws Exception {
    String pid = log("badcp", 3);
    String table = support.journalKeyspace() + "." + CheckpointStore.CHECKPOINTS;
    List<String> hashes = List.of(hash(pid, 1), hash(pid, 2), hash(pid, 3));

    // A malformed signature (12 bytes).
    write(new Checkpoint(pid, 1, 3, signer.name(), Instant.now(), hashes, new byte[12]));
    expect(pid, 3, ChainCheck.SIGNATURE, "its signature is malformed (12 bytes; an Ed25519 signature has 64)");
    // A well-formed signature over other bytes: someone edited the checkpoint's hashes to the rewritten chain's.
    byte[] other = signer.sign("something else".getBytes());
    write(new Checkpoint(pid, 1, 3, signer.name(), Instant.now(), hashes, other));
    expect(pid, 3, ChainCheck.SIGNATURE, "does not verify under the signer's public key");
    // A signer nobody recorded (e.g. an attacker's own key).
    CheckpointSigner stranger = CheckpointSigner.loadOrCreate(keys.resolve("stranger"), "mallory");
    support.execute("DELETE FROM " + table + " WHERE persistence_id = ?", pid);
    Instant at = Instant.ofEpochMilli(System.currentTimeMillis());
    write(new Checkpoint(pid, 1, 3, stranger.name(), at, hashes, stranger.sign(Checkpoint.payload(pid, 1, 3, stranger.name(), at, hashes))));
    expect(pid, 3, ChainCheck.UNKNOWN_SIGNER, "no public key is recorded for signer " + stranger.name());
    // Hashes that are not whole digests.
    support.execute("DELETE FROM " + table + " WHERE persistence_id = ?", pid);
    support.execute("INSERT INTO " + table + " (persistence_id, last_seq, signer, first_seq, signed_at, hashes, signature) VALUES (?, 3, ?, 1, toTimestamp(now()), ?, ?)",
        pid, signer.name(), ByteBuffer.wrap(new byte[33]), ByteBuffer.wrap(new byte[64]));
    expect(pid, 3, ChainCheck.CHECKPOINT_FORMAT, "33 bytes, not a whole number of 32-byte SHA-256 digests");
    support.execute("DELETE FROM " + table + " WHERE persistence_id = ?", pid);
    assertInstanceOf(ChainReport.Intact.class, await(audit.verify(pid)));

    // A validly signed checkpoint of an entity the journal does not hold: verify names it, verifyAll finds it.
    String ghost = AuditService.persistenceId(support.newHostId("ghost"));
    Instant t = Instant.ofEpochMilli(System.currentTimeMillis());
    List<String> one = List.of(EventHashes.link(new byte[] {7}));
    write(new Checkpoint(ghost, 1, 1, signer.name(), t, one, signer.sign(Checkpoint.payload(ghost, 1, 1, signer.name(), t, one))));
    expect(ghost, 1, ChainCheck.CHECKPOINT_BEYOND_LOG, "the journal holds no event of " + ghost);
    VerifyReport all = await(audit.verifyAll());
    assertTrue(all.broken().stream().anyMatch(b -> b.persistenceId().equals(ghost) && b.check() == ChainCheck.CHECKPOINT_BEYOND_LOG), all.broken().toString());
  }

  private static void write(Checkpoint c) throws Exception {
    await(audit.checkpoints().recordSigner(signer.name(), signer.publicKey()));
    await(audit.checkpoints().write(c));
  }

  private static void expect(String pid, long seq, ChainCheck check, String text) throws Exception {
    ChainReport.Broken b = assertInstanceOf(ChainReport.Broken.class, await(audit.verify(pid)));
    assertEquals(seq, b.sequenceNr(), b.toString());
    assertEquals(check, b.check(), b.toString());
    assertTrue(b.problem().contains(text), b.problem());
  }

  private static String hash(String pid, long seq) throws Exception {
    return EventHashes.link(support.storedBytes(pid, seq));
  }

  /**
   * What someone with write access to Cassandra can do: change event {@code from} (another principal) and recompute
   * the prevHash of every later event, so every link holds again.
   */
  private static void rewriteFrom(String pid, long from) throws Exception {
    long n = support.rowCount(pid);
    String prev = hash(pid, from - 1);
    for (long seq = from; seq <= n; seq++) {
      HostEvent e = (HostEvent) BerthEventCodec.fromBytes(support.manifest(pid, seq), support.storedBytes(pid, seq));
      EventMeta m = e.meta();
      EventMeta forged = new EventMeta(m.at(), seq == from ? "mallory" : m.principal(), m.reason(), m.correlationId(), prev);
      HostEvent rewritten = seq % 2 == 0 ? new HostEvent.HostCordoned(forged) : new HostEvent.HostUncordoned(forged);
      byte[] bytes = BerthEventCodec.toBytes(rewritten);
      support.overwrite(pid, seq, bytes);
      prev = EventHashes.link(bytes);
    }
  }

  private static EventMeta withPrincipal(EventMeta m, String principal) {
    return new EventMeta(m.at(), principal, m.reason(), m.correlationId(), m.prevHash());
  }
}
