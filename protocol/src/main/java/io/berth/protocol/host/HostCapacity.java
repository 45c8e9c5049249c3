package io.berth.protocol.host;

import io.berth.protocol.InvalidFieldException;

/** What a host offers to containers: cpu in millicores, memory in bytes, processes. */
public record HostCapacity(long cpuMillis, long memoryBytes, long pids) {
  public HostCapacity {
    if (cpuMillis < 1) throw new InvalidFieldException("capacity.cpu", "must be at least 1 millicore", cpuMillis);
    if (memoryBytes < 1) throw new InvalidFieldException("capacity.memory", "must be at least 1 byte", memoryBytes);
    if (pids < 1) throw new InvalidFieldException("capacity.pids", "must be at least 1", pids);
  }
}
