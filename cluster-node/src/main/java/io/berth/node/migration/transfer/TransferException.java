package io.berth.node.migration.transfer;

/**
 * A round failed: names the peer, the round, and the file and offset it was at, with the cause (a broken or
 * idle connection, the receiver's refusal in its own words, a digest mismatch with both values).
 */
public final class TransferException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TransferException(String message) {
    super(message);
  }

  public TransferException(String message, Throwable cause) {
    super(message, cause);
  }
}
