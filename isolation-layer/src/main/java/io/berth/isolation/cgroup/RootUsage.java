package io.berth.isolation.cgroup;

import java.util.Map;

/**
 * What a host's containers use, read from their cgroups: for all of them together (the root the layer creates
 * theirs under) and for each. cpu time so far, and the working set (memory in use less inactive file pages, which
 * the kernel reclaims first, so a container that once read a large file does not look full).
 *
 * @param containers each container cgroup under the root, by name (its container's id)
 */
public record RootUsage(long cpuNanos, long workingSetBytes, Map<String, Counters> containers) {
  /** One cgroup's cpu time so far and working set now. */
  public record Counters(long cpuNanos, long workingSetBytes) {}
}
