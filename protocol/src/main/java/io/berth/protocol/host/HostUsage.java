package io.berth.protocol.host;

import java.time.Instant;
import java.util.Map;

/**
 * What a host's containers use now, as its node measured from their cgroup counters: cpu in millicores (averaged
 * over the last sample period) and memory in bytes (the working set: usage less inactive file pages, which the
 * kernel reclaims first), for all of them together (their parent cgroup) and for each. Not recorded: it changes
 * every few seconds and is a hint for placement's score and the operator's view.
 *
 * @param containers each container's use, by id (those measured twice so far)
 * @param at         when it was measured; {@link Instant#EPOCH} in {@link #UNKNOWN}
 */
public record HostUsage(long cpuMillis, long memoryBytes, Map<String, ContainerUsage> containers, Instant at) {
  /** Not measured (yet): the node has not reported, or the host entity just started. */
  public static final HostUsage UNKNOWN = new HostUsage(0, 0, Map.of(), Instant.EPOCH);

  /** One container's use: cpu in millicores over the last period, memory's working set in bytes. */
  public record ContainerUsage(long cpuMillis, long memoryBytes) {}

  public HostUsage {
    if (cpuMillis < 0) throw new IllegalArgumentException("usage.cpuMillis must be at least 0: " + cpuMillis);
    if (memoryBytes < 0) throw new IllegalArgumentException("usage.memoryBytes must be at least 0: " + memoryBytes);
    containers = Map.copyOf(containers);
    java.util.Objects.requireNonNull(at, "at");
  }

  public boolean known() {
    return !at.equals(Instant.EPOCH);
  }
}
