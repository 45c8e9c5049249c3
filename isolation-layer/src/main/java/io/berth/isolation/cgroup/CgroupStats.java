package io.berth.isolation.cgroup;

/**
 * A container's counters as its cgroup reports them.
 *
 * @param cpuNanos    cpu time used by all its tasks since the cgroup was made
 * @param memoryBytes memory charged to it now
 * @param pids        tasks (processes and threads) in it now
 * @param oomKills    processes the OOM killer killed in it
 */
public record CgroupStats(long cpuNanos, long memoryBytes, long pids, long oomKills) {}
