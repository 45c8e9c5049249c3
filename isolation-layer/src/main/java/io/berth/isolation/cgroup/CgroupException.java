package io.berth.isolation.cgroup;

/** A cgroup file or directory could not be read, written, made or removed: names the step and the path. */
public final class CgroupException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CgroupException(String message, Throwable cause) {
    super(message, cause);
  }

  public CgroupException(String message) {
    super(message);
  }
}
