package io.berth.isolation.disk;

/** A disk image step failed (make, check, resize, attach): names the step and the image, with the tool's words. */
public final class DiskException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DiskException(String message) {
    super(message);
  }
}
