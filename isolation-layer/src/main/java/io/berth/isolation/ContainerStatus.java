package io.berth.isolation;

/** A container's state as the kernel shows it. */
public enum ContainerStatus {
  /** Nothing of it on this host. */
  ABSENT,
  /** Rootfs, cgroup and network are set up; no init runs (never started, stopped, or checkpointed). */
  STOPPED,
  /** Its init runs (the recorded pid is alive with the recorded start time). */
  RUNNING
}
