package io.berth.isolation;

/**
 * An operation on the kernel failed: names the step and the container, e.g.
 * {@code mount overlay for container web-1: EBUSY}; the cause carries the detail (syscall, ip
 * output, CRIU log tail).
 */
public class IsolationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String step;
  private final String container;

  public IsolationException(String step, String container, Throwable cause) {
    super(step + " for container " + container + ": " + cause.getMessage(), cause);
    this.step = step;
    this.container = container;
  }

  public IsolationException(String step, String container, String detail) {
    super(step + " for container " + container + ": " + detail);
    this.step = step;
    this.container = container;
  }

  public String step() {
    return step;
  }

  public String container() {
    return container;
  }
}
