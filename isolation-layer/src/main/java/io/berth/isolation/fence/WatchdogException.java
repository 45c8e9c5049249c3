package io.berth.isolation.fence;

/** The watchdog could not be started, reached or told something: names the data root and what went wrong. */
public final class WatchdogException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public WatchdogException(String message) {
    super(message);
  }

  public WatchdogException(String message, Throwable cause) {
    super(message, cause);
  }
}
