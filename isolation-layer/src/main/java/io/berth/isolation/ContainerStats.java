package io.berth.isolation;

import io.berth.protocol.ids.ContainerId;

/** A container's counters, read from its cgroup when asked. */
public record ContainerStats(ContainerId id, long cpuNanos, long memoryBytes, long pids, long oomKills) {}
