package io.berth.persistence.audit;

/** The result of verifying one entity's hash chain. */
public sealed interface ChainReport {
  String persistenceId();

  /**
   * Every link holds.
   *
   * @param events   how many events were checked
   * @param headHash the hash of the last event's stored bytes: keep it elsewhere to detect an edit of the last event,
   *                 which no later link covers
   */
  record Intact(String persistenceId, long events, String headHash) implements ChainReport {}

  /**
   * The first broken link.
   *
   * @param sequenceNr the event whose link fails: its {@code prevHash} does not match the previous row, or it is
   *                   missing, duplicated or does not deserialize
   * @param problem    what is wrong, naming the rows involved
   */
  record Broken(String persistenceId, long sequenceNr, String problem) implements ChainReport {
    @Override
    public String toString() {
      return persistenceId + " sequence number " + sequenceNr + ": " + problem;
    }
  }
}
