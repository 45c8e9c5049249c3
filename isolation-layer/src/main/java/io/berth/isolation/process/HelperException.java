package io.berth.isolation.process;

/**
 * The berth-nsexec helper failed at a named step, e.g. {@code pivot_root ENOENT /data/.../rootfs}
 * or {@code exec ENOENT /bin/nope}.
 */
public final class HelperException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String step;
  private final String errno;
  private final String argument;

  public HelperException(String step, String errno, String argument, String context) {
    super(context + ": " + step + " " + errno + " " + argument);
    this.step = step;
    this.errno = errno;
    this.argument = argument;
  }

  public String step() {
    return step;
  }

  public String errno() {
    return errno;
  }

  public String argument() {
    return argument;
  }
}
