package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;

/**
 * A container's resource limits. The bounds here hold on any host; what depends on the host (memory
 * over its RAM, cpu over its cores) is checked where the host is known (placement, isolation layer).
 *
 * @param cpuMillis   cpu in millicores (1000 = one core), enforced as a CFS quota over a 100 ms period
 * @param memoryBytes hard memory limit in bytes
 * @param diskBytes   size of the writable layer (the container's disk image) in bytes; 0 names none: the
 *                    host's default size (the isolation layer's, 10G unless configured)
 * @param pids        the most processes and threads the container may have
 */
public record Limits(long cpuMillis, long memoryBytes, long diskBytes, long pids) {
  public static final long MIN_MEMORY = 4L << 20;
  public static final long MAX_MEMORY = 1L << 50;
  public static final long MAX_CPU_MILLIS = 1_024_000;
  public static final long MAX_PIDS = 4_194_304; // the kernel's PID_MAX_LIMIT on 64-bit
  public static final long MAX_DISK = 1L << 50;

  /** What {@code berth ct create} gives when no limit is named. */
  public static final Limits DEFAULT = new Limits(1000, 256L << 20, 0, 512);

  public Limits {
    if (cpuMillis < 1 || cpuMillis > MAX_CPU_MILLIS) {
      throw new InvalidFieldException("limits.cpu", "must be between 1 millicore and " + CpuAmounts.format(MAX_CPU_MILLIS) + " cores", cpuMillis + "m");
    }
    if (memoryBytes < MIN_MEMORY || memoryBytes > MAX_MEMORY) {
      throw new InvalidFieldException("limits.memory", "must be between 4M and 1024T", ByteSizes.format(memoryBytes));
    }
    if (diskBytes < 0 || diskBytes > MAX_DISK) {
      throw new InvalidFieldException("limits.disk", "must be 0 (not limited) or at most 1024T", diskBytes);
    }
    if (pids < 1 || pids > MAX_PIDS) {
      throw new InvalidFieldException("limits.pids", "must be between 1 and " + MAX_PIDS, pids);
    }
  }

  public Limits withCpuMillis(long v) {
    return new Limits(v, memoryBytes, diskBytes, pids);
  }

  public Limits withMemoryBytes(long v) {
    return new Limits(cpuMillis, v, diskBytes, pids);
  }

  public Limits withDiskBytes(long v) {
    return new Limits(cpuMillis, memoryBytes, v, pids);
  }

  public Limits withPids(long v) {
    return new Limits(cpuMillis, memoryBytes, diskBytes, v);
  }

  @Override
  public String toString() {
    return "cpu=" + CpuAmounts.format(cpuMillis) + " memory=" + ByteSizes.format(memoryBytes)
        + (diskBytes == 0 ? "" : " disk=" + ByteSizes.format(diskBytes)) + " pids=" + pids;
  }
}
