package io.berth.node.placement;

import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.spec.ByteSizes;
import io.berth.protocol.spec.CpuAmounts;
import io.berth.protocol.spec.Limits;
import java.util.ArrayList;
import java.util.List;

/**
 * Resource fit of one container's limits on one host: cpu, memory and pids, with no overcommit.
 * Disk is not placed: hosts register no disk capacity, and the writable layer's size is enforced by
 * the isolation layer on the host that runs it.
 */
final class Fit {
  private Fit() {}

  /** Whether {@code limits} fit in what {@code capacity} leaves after {@code allocated}. */
  static boolean fits(HostCapacity capacity, HostAllocation allocated, Limits limits) {
    return limits.cpuMillis() <= capacity.cpuMillis() - allocated.cpuMillis()
        && limits.memoryBytes() <= capacity.memoryBytes() - allocated.memoryBytes()
        && limits.pids() <= capacity.pids() - allocated.pids();
  }

  /**
   * What is missing, as a phrase: {@code needs 0.5 more cpu and 512M more memory}; a limit over the
   * host's whole capacity says so, since no amount of freeing would help there.
   */
  static String shortfall(HostCapacity capacity, HostAllocation allocated, Limits limits) {
    List<String> parts = new ArrayList<>(3);
    long cpu = limits.cpuMillis() - (capacity.cpuMillis() - allocated.cpuMillis());
    if (cpu > 0) {
      parts.add(CpuAmounts.format(cpu) + " more cpu" + (limits.cpuMillis() > capacity.cpuMillis()
          ? " (asks " + CpuAmounts.format(limits.cpuMillis()) + ", has " + CpuAmounts.format(capacity.cpuMillis()) + " in all)" : ""));
    }
    long memory = limits.memoryBytes() - (capacity.memoryBytes() - allocated.memoryBytes());
    if (memory > 0) {
      parts.add(ByteSizes.format(memory) + " more memory" + (limits.memoryBytes() > capacity.memoryBytes()
          ? " (asks " + ByteSizes.format(limits.memoryBytes()) + ", has " + ByteSizes.format(capacity.memoryBytes()) + " in all)" : ""));
    }
    long pids = limits.pids() - (capacity.pids() - allocated.pids());
    if (pids > 0) {
      parts.add(pids + " more pids" + (limits.pids() > capacity.pids()
          ? " (asks " + limits.pids() + ", has " + capacity.pids() + " in all)" : ""));
    }
    if (parts.isEmpty()) return "";
    return "needs " + Text.andList(parts);
  }

  /** The fuller of cpu and memory as a fraction of capacity, once {@code limits} are added. */
  static double scoreAfter(HostCapacity capacity, HostAllocation allocated, Limits limits) {
    return Math.max(cpuAfter(capacity, allocated, limits), memoryAfter(capacity, allocated, limits));
  }

  static double cpuAfter(HostCapacity capacity, HostAllocation allocated, Limits limits) {
    return (double) (allocated.cpuMillis() + limits.cpuMillis()) / capacity.cpuMillis();
  }

  static double memoryAfter(HostCapacity capacity, HostAllocation allocated, Limits limits) {
    return (double) (allocated.memoryBytes() + limits.memoryBytes()) / capacity.memoryBytes();
  }
}
