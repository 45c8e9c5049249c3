package io.berth.persistence.audit;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventHashes;
import scala.util.Try;

/**
 * Walks one entity's rows in sequence order and stops at the first broken link. Row n is linked when it decodes to a
 * Berth event whose {@code prevHash} is the SHA-256 of row n-1's stored bytes (empty for row 1) and the sequence
 * numbers run 1, 2, 3... with one row each. Mutable; one instance per entity and per run.
 */
final class ChainVerifier {
  private final String persistenceId;
  private final JournalRows rows;
  private long lastSequenceNr;
  private String lastHash = "";
  private ChainReport.Broken broken;

  ChainVerifier(String persistenceId, JournalRows rows) {
    this.persistenceId = persistenceId;
    this.rows = rows;
  }

  ChainVerifier accept(JournalRows.Raw row) {
    if (broken != null) return this;
    long seq = row.sequenceNr();
    if (seq == lastSequenceNr) {
      return fail(seq, "two rows hold sequence number " + seq + " (a second writer wrote this entity)");
    }
    if (seq != lastSequenceNr + 1) {
      return fail(lastSequenceNr + 1, "missing: the log jumps from sequence number " + lastSequenceNr + " to " + seq);
    }
    Try<Object> decoded = rows.decode(row);
    if (decoded.isFailure()) {
      return fail(seq, "does not deserialize (serializer " + row.serializerId() + ", manifest '" + row.manifest() + "'): "
          + decoded.failed().get().getMessage());
    }
    if (!(decoded.get() instanceof BerthEvent event)) {
      return fail(seq, "holds a " + decoded.get().getClass().getName() + ", not a Berth event");
    }
    String stored = event.meta().prevHash();
    if (!stored.equals(lastHash)) {
      String expected = lastHash.isEmpty() ? "empty (first event)" : lastHash;
      String previous = lastSequenceNr == 0 ? "" : "; the stored bytes of sequence number " + lastSequenceNr + " were changed, or this row was";
      return fail(seq, "prevHash " + (stored.isEmpty() ? "empty" : stored) + " does not match " + expected + previous);
    }
    lastSequenceNr = seq;
    lastHash = EventHashes.sha256Hex(row.bytes());
    return this;
  }

  ChainReport result() {
    if (broken != null) return broken;
    return new ChainReport.Intact(persistenceId, lastSequenceNr, lastHash);
  }

  private ChainVerifier fail(long seq, String problem) {
    broken = new ChainReport.Broken(persistenceId, seq, problem);
    return this;
  }
}
