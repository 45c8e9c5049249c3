package io.berth.node.exec;

/** The exec pool's threads and queue are all taken: the exec was refused and nothing ran. */
public final class ExecPoolFullException extends RuntimeException {
  public ExecPoolFullException(String message) {
    super(message);
  }
}
