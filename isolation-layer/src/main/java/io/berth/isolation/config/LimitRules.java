package io.berth.isolation.config;

import io.berth.isolation.HostResources;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.spec.ByteSizes;
import io.berth.protocol.spec.CpuAmounts;
import io.berth.protocol.spec.Limits;

/**
 * The host-dependent limit rules, run before any syscall (the host-independent ones, such as
 * memory at least 4M, hold already because {@link Limits} checks them when it is made).
 *
 * <p>Disk images are thin, as Virtuozzo's ploop images are: an image allocates only what its container
 * writes, so the limits of a host's containers may add up to more than its disk (overcommit). What is
 * refused is one limit the images root could not hold even now: more than its free space (plus what the
 * container's image holds already, when it grows).
 */
public final class LimitRules {
  /** The least disk image: a 4 MiB journal and the tables of an ext4 leave little room below it. */
  public static final long MIN_DISK = 16L << 20;

  private LimitRules() {}

  public static void check(Limits limits, HostResources host) {
    InvalidFieldException.required("limits", limits);
    if (limits.memoryBytes() > host.memoryBytes()) {
      throw new InvalidFieldException("limits.memory", "must be at most the host's RAM (" + ByteSizes.format(host.memoryBytes()) + ")",
          ByteSizes.format(limits.memoryBytes()));
    }
    if (limits.cpuMillis() > host.cpuMillis()) {
      throw new InvalidFieldException("limits.cpu", "must be at most the host's cores (" + CpuAmounts.format(host.cpuMillis()) + ")",
          CpuAmounts.format(limits.cpuMillis()));
    }
    if (limits.diskBytes() != 0 && limits.diskBytes() < MIN_DISK) {
      throw new InvalidFieldException("limits.disk", "must be 0 (the host's default size) or at least 16M", ByteSizes.format(limits.diskBytes()));
    }
  }

  /**
   * A disk image of {@code imageBytes} (what {@code limits.disk} asks for, or the default size for 0) must fit
   * in the images root's {@code freeBytes} plus the {@code heldBytes} its image holds already (0 for a new one).
   */
  public static void checkDiskRoom(long diskLimit, long imageBytes, long heldBytes, long freeBytes, String imagesRoot) {
    if (imageBytes > freeBytes + heldBytes) {
      String asked = diskLimit == 0 ? "0 (the default size " + ByteSizes.format(imageBytes) + ")" : ByteSizes.format(diskLimit);
      throw new InvalidFieldException("limits.disk", "must be at most the free space of the images root " + imagesRoot + " ("
          + ByteSizes.format(((freeBytes + heldBytes) >> 20) << 20) + ")", asked);
    }
  }

  /** A smaller disk must still hold what the container's filesystem holds now. */
  public static void checkDiskShrink(long diskLimit, long imageBytes, long inUseBytes) {
    if (imageBytes < inUseBytes) {
      throw new InvalidFieldException("limits.disk", "must be at least the space in use, " + approx(inUseBytes),
          diskLimit == 0 ? "0 (the default size " + ByteSizes.format(imageBytes) + ")" : ByteSizes.format(diskLimit));
    }
  }

  /** Whole MiB, rounded up, so a byte count reads like a limit one could type. */
  private static String approx(long bytes) {
    long mib = (bytes + (1L << 20) - 1) >> 20;
    return ByteSizes.format(mib << 20);
  }
}
