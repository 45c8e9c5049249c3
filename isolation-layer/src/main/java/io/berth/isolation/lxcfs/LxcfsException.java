package io.berth.isolation.lxcfs;

/** LXCFS could not be started, adopted or stopped: names the mount and what went wrong (with its log's tail). */
public final class LxcfsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LxcfsException(String message) {
    super(message);
  }

  public LxcfsException(String message, Throwable cause) {
    super(message, cause);
  }
}
