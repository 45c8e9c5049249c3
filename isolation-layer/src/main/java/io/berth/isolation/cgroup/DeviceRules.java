package io.berth.isolation.cgroup;

import java.util.List;

/**
 * The devices a confined container may make and open; everything else is refused by the kernel
 * (EPERM on mknod and on open), whatever the node's owner and mode, so a block device node a
 * container makes or finds cannot reach the host's disks.
 *
 * <p>The list is the nodes a server's userspace expects: the OCI runtime-spec's default devices and
 * the pty slaves, each with read, write and mknod (LXC's default configuration allows the same and
 * more: mknod of any node, fuse, tun). The init makes
 * null, zero, full, random, urandom and tty itself with mknod, and a later devpts
 * ({@code newinstance}) gives ptmx and the pts slaves. FUSE ({@code c 10:229}) is left out on
 * purpose: no {@code /dev/fuse} is made, and CRIU cannot checkpoint a FUSE mount, so a container
 * that used one could no longer be migrated live; it also adds a kernel interface driven by a server
 * the container controls. tun, kvm, loop and the rest are host devices and stay out.
 *
 * <p>Not {@code c 5:1} either: that node is the host's own console (a template's /dev/console made by debootstrap
 * names it), and a container that could open it would write to the host's console and read what an operator types
 * there. runc and LXC allow it only because they bind a pty of the container's own over /dev/console; Berth gives a
 * container no console yet, so it has no rule.
 */
public final class DeviceRules {
  private DeviceRules() {}

  public static final List<DeviceRule> DEFAULT = List.of(
      new DeviceRule('c', 1, 3, "rwm", "null"),
      new DeviceRule('c', 1, 5, "rwm", "zero"),
      new DeviceRule('c', 1, 7, "rwm", "full"),
      new DeviceRule('c', 1, 8, "rwm", "random"),
      new DeviceRule('c', 1, 9, "rwm", "urandom"),
      new DeviceRule('c', 5, 0, "rwm", "tty"),
      new DeviceRule('c', 5, 2, "rwm", "ptmx"),
      new DeviceRule('c', 136, DeviceRule.ANY, "rwm", "pts/*"));
}
