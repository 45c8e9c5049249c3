package io.berth.isolation.config;

import io.berth.isolation.HostResources;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.spec.ByteSizes;
import io.berth.protocol.spec.CpuAmounts;
import io.berth.protocol.spec.Limits;

/**
 * The host-dependent limit rules, run before any syscall (the host-independent ones, such as
 * memory at least 4M, hold already because {@link Limits} checks them when it is made).
 */
public final class LimitRules {
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
  }
}
