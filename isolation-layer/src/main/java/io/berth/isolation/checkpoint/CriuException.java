package io.berth.isolation.checkpoint;

/** A CRIU step failed: names the step and the container and carries the tail of CRIU's log. */
public final class CriuException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String logTail;

  public CriuException(String message, String logTail) {
    super(logTail == null || logTail.isBlank() ? message : message + "\n--- criu log tail ---\n" + logTail);
    this.logTail = logTail == null ? "" : logTail;
  }

  public String logTail() {
    return logTail;
  }
}
