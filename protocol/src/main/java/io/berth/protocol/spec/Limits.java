package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;

/**
 * A container's resources, as hosting sells them (Virtuozzo's cpulimit, cpuunits and memguarantee; a
 * Proxmox or Incus container's cores shared by weight): caps the kernel enforces, a weight that shares
 * contended cpu, and guarantees that placement reserves. The bounds here hold on any host; what depends
 * on the host (a cap over its cores, the sum of guarantees over its capacity) is checked where the host
 * is known (placement, isolation layer). See cluster-node/PLACEMENT.md.
 *
 * @param cpuMillis            cpu cap in millicores (1000 = one core), a CFS quota over a 100 ms period
 * @param memoryBytes          hard memory limit in bytes
 * @param diskBytes            size of the writable layer (the container's disk image) in bytes; 0 names
 *                             none: the host's default size (the isolation layer's, 10G unless configured)
 * @param pids                 the most processes and threads the container may have
 * @param cpuWeight            its share of contended cpu, 1 to 10000 (100 is everyone's default; 200
 *                             gets twice the cpu of a 100 when both want more than there is)
 * @param cpuGuaranteeMillis   cpu placement reserves for it, at most the cap: the sum of a host's
 *                             guarantees never exceeds its cores, so the weights can always honour them
 * @param memoryGuaranteeBytes memory placement reserves for it, at most the limit; the kernel reclaims
 *                             from containers above their guarantee first
 */
public record Limits(long cpuMillis, long memoryBytes, long diskBytes, long pids, int cpuWeight, long cpuGuaranteeMillis,
    long memoryGuaranteeBytes) {
  public static final long MIN_MEMORY = 4L << 20;
  public static final long MAX_MEMORY = 1L << 50;
  public static final long MAX_CPU_MILLIS = 1_024_000;
  public static final long MAX_PIDS = 4_194_304; // the kernel's PID_MAX_LIMIT on 64-bit
  public static final long MAX_DISK = 1L << 50;
  public static final int DEFAULT_CPU_WEIGHT = 100;
  public static final int MAX_CPU_WEIGHT = 10_000; // cgroup v2's cpu.weight range
  /** What a create without {@code --memory-guarantee} reserves: enough for an idle service, so hundreds fit. */
  public static final long DEFAULT_MEMORY_GUARANTEE = 16L << 20;

  /**
   * What {@code berth ct create} gives when no limit is named: one core and 256M as caps, the default
   * weight, no cpu reserved and 16M of memory reserved, so a 2-core 24G host carries hundreds of idle ones.
   */
  public static final Limits DEFAULT = new Limits(1000, 256L << 20, 0, 512, DEFAULT_CPU_WEIGHT, 0, DEFAULT_MEMORY_GUARANTEE);

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
    if (cpuWeight < 1 || cpuWeight > MAX_CPU_WEIGHT) {
      throw new InvalidFieldException("limits.cpuWeight", "must be between 1 and " + MAX_CPU_WEIGHT + " (100 is the default share)", cpuWeight);
    }
    if (cpuGuaranteeMillis < 0 || cpuGuaranteeMillis > cpuMillis) {
      throw new InvalidFieldException("limits.cpuGuarantee", "must be between 0 and the cpu cap (" + CpuAmounts.format(cpuMillis) + ")",
          CpuAmounts.format(cpuGuaranteeMillis));
    }
    if (memoryGuaranteeBytes < 0 || memoryGuaranteeBytes > memoryBytes) {
      throw new InvalidFieldException("limits.memoryGuarantee", "must be between 0 and the memory limit (" + ByteSizes.format(memoryBytes) + ")",
          ByteSizes.format(memoryGuaranteeBytes));
    }
  }

  /** Caps only: the default weight, no cpu guaranteed, and the default memory guarantee (or the whole limit when smaller). */
  public Limits(long cpuMillis, long memoryBytes, long diskBytes, long pids) {
    this(cpuMillis, memoryBytes, diskBytes, pids, DEFAULT_CPU_WEIGHT, 0, Math.min(DEFAULT_MEMORY_GUARANTEE, memoryBytes));
  }

  /**
   * Limits as written before guarantees existed (limits layout 1): everything capped was also reserved, so
   * a container placed then keeps what placement gave it.
   */
  public static Limits reservingCaps(long cpuMillis, long memoryBytes, long diskBytes, long pids) {
    return new Limits(cpuMillis, memoryBytes, diskBytes, pids, DEFAULT_CPU_WEIGHT, cpuMillis, memoryBytes);
  }

  /** A new cpu cap; a guarantee above it comes down to it. */
  public Limits withCpuMillis(long v) {
    return new Limits(v, memoryBytes, diskBytes, pids, cpuWeight, Math.min(cpuGuaranteeMillis, v), memoryGuaranteeBytes);
  }

  /** A new memory limit; a guarantee above it comes down to it. */
  public Limits withMemoryBytes(long v) {
    return new Limits(cpuMillis, v, diskBytes, pids, cpuWeight, cpuGuaranteeMillis, Math.min(memoryGuaranteeBytes, v));
  }

  public Limits withDiskBytes(long v) {
    return new Limits(cpuMillis, memoryBytes, v, pids, cpuWeight, cpuGuaranteeMillis, memoryGuaranteeBytes);
  }

  public Limits withPids(long v) {
    return new Limits(cpuMillis, memoryBytes, diskBytes, v, cpuWeight, cpuGuaranteeMillis, memoryGuaranteeBytes);
  }

  public Limits withCpuWeight(int v) {
    return new Limits(cpuMillis, memoryBytes, diskBytes, pids, v, cpuGuaranteeMillis, memoryGuaranteeBytes);
  }

  public Limits withCpuGuaranteeMillis(long v) {
    return new Limits(cpuMillis, memoryBytes, diskBytes, pids, cpuWeight, v, memoryGuaranteeBytes);
  }

  public Limits withMemoryGuaranteeBytes(long v) {
    return new Limits(cpuMillis, memoryBytes, diskBytes, pids, cpuWeight, cpuGuaranteeMillis, v);
  }

  @Override
  public String toString() {
    return "cpu=" + CpuAmounts.format(cpuMillis) + " memory=" + ByteSizes.format(memoryBytes)
        + (diskBytes == 0 ? "" : " disk=" + ByteSizes.format(diskBytes)) + " pids=" + pids
        + (cpuWeight == DEFAULT_CPU_WEIGHT ? "" : " cpu-weight=" + cpuWeight)
        + (cpuGuaranteeMillis == 0 ? "" : " cpu-guarantee=" + CpuAmounts.format(cpuGuaranteeMillis))
        + (memoryGuaranteeBytes == 0 ? "" : " memory-guarantee=" + ByteSizes.format(memoryGuaranteeBytes));
  }
}
