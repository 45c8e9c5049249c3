package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a confined container's processes must show in {@code /proc/PID/status}, written down here
 * apart from the helper (src/main/c/confine.c), so the tests compare the kernel's view with the
 * chosen set rather than with the code that applies it. Why each capability is kept or dropped:
 * isolation-layer/SECURITY-capabilities.md.
 */
final class Confinement {
  private Confinement() {}

  /** Capability names by number, as linux/capability.h numbers them (CapabilitiesTest checks). */
  static final List<String> NAMES = List.of(
      "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
      "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
      "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
      "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
      "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
      "checkpoint_restore");

  /** The capabilities a confined container's root keeps. */
  static final Set<String> KEPT = Set.of(
      "chown", "dac_override", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap", "net_bind_service",
      "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_chroot", "sys_ptrace", "sys_admin",
      "sys_boot", "mknod", "lease", "audit_write", "setfcap", "checkpoint_restore");

  static long mask(Set<String> names) {
    long m = 0;
    for (String n : names) {
      int bit = NAMES.indexOf(n);
      if (bit < 0) throw new IllegalArgumentException("no capability " + n);
      m |= 1L << bit;
    }
    return m;
  }

  static Set<String> names(long mask) {
    Set<String> out = new TreeSet<>();
    for (int bit = 0; bit < 64; bit++) {
      if ((mask & (1L << bit)) != 0) out.add(bit < NAMES.size() ? NAMES.get(bit) : "cap" + bit);
    }
    return out;
  }

  /** {@code field} ("CapBnd", "Seccomp", ...) of a {@code /proc/PID/status} text. */
  static String field(String status, String field) {
    return status.lines().filter(l -> l.startsWith(field + ":")).map(l -> l.substring(field.length() + 1).strip())
        .findFirst().orElseThrow(() -> new AssertionError("no " + field + " in:\n" + status));
  }

  static long capField(String status, String field) {
    return Long.parseUnsignedLong(field(status, field), 16);
  }

  static String status(int pid) {
    try {
      return Files.readString(Path.of("/proc", Integer.toString(pid), "status"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The bounding set of this (host root) JVM: what a privileged container keeps. */
  static long hostBounding() {
    return capField(status((int) ProcessHandle.current().pid()), "CapBnd");
  }

  /** The chosen set, less what this host's root does not have either (here: sys_resource). */
  static long confinedBounding() {
    return mask(KEPT) & hostBounding();
  }

  /**
   * Asserts a confined process: bounding, permitted and effective sets are the chosen set,
   * inheritable and ambient empty, one seccomp filter, and no no_new_privs (setuid programs work).
   */
  static void assertConfined(String status, String who) {
    List<String> wrong = new ArrayList<>();
    long want = confinedBounding();
    for (String f : List.of("CapBnd", "CapPrm", "CapEff")) {
      long got = capField(status, f);
      if (got != want) wrong.add(f + " has " + names(got & ~want) + " too many, " + names(want & ~got) + " missing");
    }
    for (String f : List.of("CapInh", "CapAmb")) if (capField(status, f) != 0) wrong.add(f + " " + names(capField(status, f)));
    assertEquals(List.of(), wrong, who + ": capability sets");
    assertEquals("2", field(status, "Seccomp"), who + ": seccomp mode (2 = filter)");
    assertEquals("1", field(status, "Seccomp_filters"), who + ": seccomp filters");
    assertEquals("0", field(status, "NoNewPrivs"), who + ": no_new_privs must stay off");
  }

  /** Asserts a privileged container's process: the host's full set, no filter. */
  static void assertUnconfined(String status, String who) {
    long host = hostBounding();
    assertEquals(names(host), names(capField(status, "CapBnd")), who + ": bounding set");
    assertEquals(names(host), names(capField(status, "CapEff")), who + ": effective set");
    assertEquals("0", field(status, "Seccomp"), who + ": seccomp mode");
  }
}
