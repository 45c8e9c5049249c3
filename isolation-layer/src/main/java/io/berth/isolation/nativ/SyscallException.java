package io.berth.isolation.nativ;

/**
 * A system call failed: names the call, the errno (by its C name, e.g. {@code EBUSY}) and the
 * argument it was about, e.g. {@code umount2(/data/containers/web-1/rootfs): EBUSY}.
 */
public final class SyscallException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String call;
  private final int errno;
  private final String errnoName;
  private final String argument;

  public SyscallException(String call, int errno, String errnoName, String argument) {
    super(call + "(" + argument + "): " + errnoName);
    this.call = call;
    this.errno = errno;
    this.errnoName = errnoName;
    this.argument = argument;
  }

  public String call() {
    return call;
  }

  public int errno() {
    return errno;
  }

  /** The C name, e.g. {@code ENOENT}. */
  public String errnoName() {
    return errnoName;
  }

  public String argument() {
    return argument;
  }
}
