package io.berth.isolation;

import io.berth.isolation.cgroup.CgroupLayout;
import io.berth.isolation.process.Helper;
import io.berth.protocol.ids.ContainerId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A container whose init is systemd, booted as systemd's container interface asks (systemd.io/CONTAINER_INTERFACE):
 * {@code container=berth} and {@code container_uuid} in its environment, a notify socket whose READY=1 reports
 * the start, /run and /run/lock on tmpfs, the host's cgroup layout mounted inside its cgroup namespace with its own
 * cgroups delegated to its root, and the host-only mount units masked (berth-nsexec's systemd.c does the mounts).
 * Halted from outside by SIGRTMIN+3, its "halt" request (systemd(1), "Signals").
 */
final class SystemdInit {
  /** SIGRTMIN+3 as systemd counts it: glibc's SIGRTMIN is 34 (it keeps the kernel's first two for itself). */
  static final int HALT = 37;
  /**
   * How long a start waits for READY=1. Measured here: 0.18-0.22 s from exec (design.md); a loaded host or a
   * guest with slow units takes longer, and past this bound the boot counts as failed (the init is killed).
   */
  static final Duration READY_BOUND = Duration.ofSeconds(30);
  /** The abstract socket's name, in the container's own network namespace (so one name serves every container). */
  static final String NOTIFY_NAME = "berth/notify";

  private SystemdInit() {}

  /** True when {@code program}, resolved inside the root filesystem, is systemd itself (/sbin/init links to it). */
  static boolean isSystemd(Optional<Path> program) {
    return program.map(p -> p.getFileName().toString().equals("systemd")).orElse(false);
  }

  /** True when the running init is systemd, read from the kernel (its executable), not from the guest's files. */
  static boolean runsSystemd(int initPid) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", Integer.toString(initPid), "exe")).getFileName().toString().equals("systemd");
    } catch (IOException | UnsupportedOperationException e) {
      return false; // gone, or not ours to read: treated as any other init
    }
  }

  /** Stable for the container (its machine id, made from it by systemd, survives restarts and moves). */
  static UUID uuid(ContainerId id) {
    return UUID.nameUUIDFromBytes(("berth-container/" + id.value()).getBytes(StandardCharsets.UTF_8));
  }

  /** The start's records beyond any container's: what systemd.c mounts, and the notify socket. */
  static void records(Helper.Records rec, ContainerId id, List<CgroupLayout> layout) {
    rec.put("systemd", "1").put("notify", NOTIFY_NAME).put("notify-timeout-ms", Long.toString(READY_BOUND.toMillis()));
    for (CgroupLayout l : layout) rec.put("cgroupfs", l.record());
    rec.put("env", "container=berth");
    rec.put("env", "container_uuid=" + uuid(id));
    rec.put("env", "NOTIFY_SOCKET=@" + NOTIFY_NAME);
    // No getty on /dev/console: Berth gives the container no console of its own yet (the host's is refused by the
    // devices cgroup), and systemd's getty generator would start console-getty in every container, a getty that
    // fails and is restarted for ever, and whose half-started process a checkpoint catches waiting on the tty.
    rec.put("env", "SYSTEMD_GETTY_AUTO=0");
  }
}
