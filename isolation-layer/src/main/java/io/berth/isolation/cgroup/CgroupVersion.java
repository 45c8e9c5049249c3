package io.berth.isolation.cgroup;

import java.nio.file.Files;
import java.nio.file.Path;

/** Which cgroup interface this host offers Berth's limits through. */
public enum CgroupVersion {
  /** One hierarchy per controller under /sys/fs/cgroup/CONTROLLER (also what hybrid hosts offer). */
  V1,
  /** The unified hierarchy mounted at /sys/fs/cgroup itself. */
  V2;

  /**
   * Pure v2 when /sys/fs/cgroup itself is the unified hierarchy (it has cgroup.controllers);
   * otherwise v1, which covers hybrid hosts: their v2 at /sys/fs/cgroup/unified holds no
   * controllers, so limits can only be set through v1 there.
   */
  public static CgroupVersion detect(Path root) {
    return Files.exists(root.resolve("cgroup.controllers")) ? V2 : V1;
  }
}
