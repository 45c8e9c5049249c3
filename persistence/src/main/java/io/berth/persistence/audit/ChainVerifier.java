package io.berth.persistence.audit;

import com.datastax.oss.driver.api.core.uuid.Uuids;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventHashes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import scala.util.Try;

/**
 * Walks one entity's rows in sequence order and stops at the first bad one. Row n is good when the sequence numbers
 * run 1, 2, 3... with one row each, its stored bytes hash ({@link EventHashes#link}, the function the entities' folds
 * use) to what every valid signed checkpoint covering n says, it decodes to a Berth event, and its {@code prevHash}
 * is row n-1's link hash (empty for row 1). After the last row: no valid checkpoint may cover more than the log
 * holds, and no event older than the unsigned-age bound may be left without one.
 *
 * <p>Mutable; one instance per entity and per run. The checkpointer starts one after its last checkpoint
 * ({@link #from}) and keeps the hashes it sees to sign them.
 */
final class ChainVerifier {
  private final String persistenceId;
  private final JournalRows rows;
  private final List<Checkpoint> checkpoints;
  private final long signedUpTo;
  /** Rows written before this instant must be covered by a checkpoint; null: not checked. */
  private final Instant unsignedBefore;
  private final List<String> seen;
  private long lastSequenceNr;
  private String lastHash;
  private long firstUnsigned;
  private ChainReport.Broken broken;

  private ChainVerifier(String persistenceId, JournalRows rows, long startSeq, String startHash, List<Checkpoint> checkpoints,
      Instant unsignedBefore, boolean keepHashes) {
    this.persistenceId = persistenceId;
    this.rows = rows;
    this.lastSequenceNr = startSeq;
    this.lastHash = startHash;
    this.checkpoints = List.copyOf(checkpoints);
    this.signedUpTo = checkpoints.stream().mapToLong(Checkpoint::lastSeq).max().orElse(0);
    this.unsignedBefore = unsignedBefore;
    this.seen = keepHashes ? new ArrayList<>() : null;
  }

  /** A whole log, against its valid checkpoints; {@code unsignedBefore} null when missing checkpoints are not checked. */
  static ChainVerifier whole(String persistenceId, JournalRows rows, List<Checkpoint> valid, Instant unsignedBefore) {
    return new ChainVerifier(persistenceId, rows, 0, "", valid, unsignedBefore, false);
  }

  /** The rows after {@code startSeq}, whose link hash was {@code startHash}; keeps the hashes it sees. */
  static ChainVerifier from(String persistenceId, JournalRows rows, long startSeq, String startHash) {
    return new ChainVerifier(persistenceId, rows, startSeq, startHash, List.of(), null, true);
  }

  ChainVerifier accept(JournalRows.Raw row) {
    if (broken != null) return this;
    long seq = row.sequenceNr();
    if (seq == lastSequenceNr) {
      return fail(seq, ChainCheck.SEQUENCE, "two rows hold sequence number " + seq + " (a second writer wrote this entity)");
    }
    if (seq != lastSequenceNr + 1) {
      return fail(lastSequenceNr + 1, ChainCheck.SEQUENCE, "missing: the log jumps from sequence number " + lastSequenceNr + " to " + seq);
    }
    String hash = EventHashes.link(row.bytes());
    for (Checkpoint c : checkpoints) {
      if (c.covers(seq) && !c.hashAt(seq).equals(hash)) {
        return fail(seq, ChainCheck.CHECKPOINT_HASH, "its stored bytes hash to " + hash + " but the " + c + " signed " + c.hashAt(seq)
            + ": the event was changed after it was signed (the links after it may have been recomputed)");
      }
    }
    Try<Object> decoded = rows.decode(row);
    if (decoded.isFailure()) {
      return fail(seq, ChainCheck.DECODE, "does not deserialize (serializer " + row.serializerId() + ", manifest '" + row.manifest() + "'): "
          + decoded.failed().get().getMessage());
    }
    if (!(decoded.get() instanceof BerthEvent event)) {
      return fail(seq, ChainCheck.DECODE, "holds a " + decoded.get().getClass().getName() + ", not a Berth event");
    }
    String stored = event.meta().prevHash();
    if (!stored.equals(lastHash)) {
      String expected = lastHash.isEmpty() ? "empty (first event)" : lastHash;
      String previous = lastSequenceNr == 0 ? "" : "; the stored bytes of sequence number " + lastSequenceNr + " were changed, or this row was";
      return fail(seq, ChainCheck.HASH_LINK, "prevHash " + (stored.isEmpty() ? "empty" : stored) + " does not match " + expected + previous);
    }
    if (firstUnsigned == 0 && unsignedBefore != null && seq > signedUpTo && row.writeTime() != null
        && Uuids.unixTimestamp(row.writeTime()) < unsignedBefore.toEpochMilli()) {
      firstUnsigned = seq;
    }
    lastSequenceNr = seq;
    lastHash = hash;
    if (seen != null) seen.add(hash);
    return this;
  }

  ChainReport result() {
    if (broken != null) return broken;
    for (Checkpoint c : checkpoints) {
      if (c.lastSeq() > lastSequenceNr) {
        String holds = lastSequenceNr == 0 ? "the journal holds no event of " + persistenceId + " (its rows were deleted, or the checkpoint names an entity that never was)"
            : "the log ends at sequence number " + lastSequenceNr + " (events after it were deleted)";
        return new ChainReport.Broken(persistenceId, lastSequenceNr + 1, ChainCheck.CHECKPOINT_BEYOND_LOG, "the " + c + " covers up to "
            + c.lastSeq() + " but " + holds);
      }
    }
    if (firstUnsigned > 0) {
      return new ChainReport.Broken(persistenceId, firstUnsigned, ChainCheck.MISSING_CHECKPOINT, "written before " + unsignedBefore
          + " and no valid signed checkpoint covers it (they cover up to " + signedUpTo + "): its checkpoints were deleted, or none was taken");
    }
    return new ChainReport.Intact(persistenceId, lastSequenceNr, lastHash, signedUpTo);
  }

  /** The link hashes of the rows accepted, in order (only for {@link #from}). */
  List<String> hashes() {
    return List.copyOf(seen);
  }

  long lastSequenceNr() {
    return lastSequenceNr;
  }

  private ChainVerifier fail(long seq, ChainCheck check, String problem) {
    broken = new ChainReport.Broken(persistenceId, seq, check, problem);
    return this;
  }
}
