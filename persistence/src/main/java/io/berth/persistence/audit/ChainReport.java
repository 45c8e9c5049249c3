package io.berth.persistence.audit;

/** The result of verifying one entity's hash chain. */
public sealed interface ChainReport {
  String persistenceId();

  /**
   * Every link holds.
   *
   * @param events   how many events were checked
   * @param headHash the hash of the last event's stored bytes: keep it elsewhere to detect an edit of the last event,
   *                 which no later link covers (the signed checkpoints do)
   * @param signedUpTo the highest sequence number a valid signed checkpoint covers (0: none)
   */
  record Intact(String persistenceId, long events, String headHash, long signedUpTo) implements ChainReport {
    public Intact(String persistenceId, long events, String headHash) {
      this(persistenceId, events, headHash, 0);
    }
  }

  /**
   * The first broken link.
   *
   * @param sequenceNr the event whose link fails: its {@code prevHash} does not match the previous row, or it is
   *                   missing, duplicated or does not deserialize
   * @param check      which check failed
   * @param problem    what is wrong, naming the rows involved
   */
  record Broken(String persistenceId, long sequenceNr, ChainCheck check, String problem) implements ChainReport {
    @Override
    public String toString() {
      return persistenceId + " sequence number " + sequenceNr + " [" + check.label() + "]: " + problem;
    }
  }
}
