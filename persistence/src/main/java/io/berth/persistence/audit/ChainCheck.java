package io.berth.persistence.audit;

/** Which check of {@code audit verify} an entity's log failed: named in the report, the CLI and the API. */
public enum ChainCheck {
  /** Sequence numbers run 1, 2, 3... with one row each: a row is missing or two rows hold one number. */
  SEQUENCE("sequence"),
  /** The row does not decode to a Berth event. */
  DECODE("decode"),
  /** The event's {@code prevHash} is not the link hash of the previous row's stored bytes. */
  HASH_LINK("hash-link"),
  /**
   * A signed checkpoint holds another hash for this event than its stored bytes have now: the log was rewritten (its
   * hashes recomputed) after it was checkpointed.
   */
  CHECKPOINT_HASH("checkpoint-hash"),
  /** A checkpoint's signature is malformed or does not verify under its signer's public key. */
  SIGNATURE("signature"),
  /** A checkpoint names a signer whose public key is not recorded (or not trusted). */
  UNKNOWN_SIGNER("unknown-signer"),
  /** A checkpoint itself is malformed (its hashes do not cover the range it claims). */
  CHECKPOINT_FORMAT("checkpoint-format"),
  /** A checkpoint covers events the log no longer holds: the log was cut short, or the entity's rows deleted. */
  CHECKPOINT_BEYOND_LOG("checkpoint-beyond-log"),
  /** An event older than the unsigned-age bound that no valid checkpoint covers. */
  MISSING_CHECKPOINT("missing-checkpoint");

  private final String label;

  ChainCheck(String label) {
    this.label = label;
  }

  /** The name in reports: {@code hash-link}, {@code signature}... */
  public String label() {
    return label;
  }
}
