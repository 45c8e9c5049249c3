package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.cgroup.DeviceRule;
import io.berth.isolation.cgroup.DeviceRules;
import io.berth.protocol.ids.ContainerId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Shell runs inside a container, and the kernel's view of a confined container's /proc, /sys, devices and cgroups. */
final class Escapes {
  private Escapes() {}

  static final List<String> DEVICE_LIST = DeviceRules.DEFAULT.stream().map(DeviceRule::v1).toList();

  /** {@code sh -c script} inside the container, as its root, through exec. */
  static ExecResult sh(IsolationLayer layer, ContainerId id, String script) {
    return layer.exec(id, List.of("/bin/sh", "-c", script), Duration.ofSeconds(20));
  }

  /** The script must succeed; returns its stdout, stripped. */
  static String ok(IsolationLayer layer, ContainerId id, String script) {
    ExecResult r = sh(layer, id, script);
    assertEquals(0, r.exitCode(), "in " + id + ": `" + script + "` must succeed: " + r.stdout() + r.stderr());
    return r.stdout().strip();
  }

  /** The script must fail, with the kernel's refusal {@code refusal} (strerror text) in its stderr. */
  static void refused(IsolationLayer layer, ContainerId id, String script, String refusal) {
    ExecResult r = sh(layer, id, script);
    assertNotEquals(0, r.exitCode(), "in " + id + ": `" + script + "` must fail: " + r.stdout() + r.stderr());
    assertTrue(r.stderr().contains(refusal), "in " + id + ": `" + script + "` must be refused with \"" + refusal + "\": " + r.stderr());
  }

  /** The script must fail, with one of the kernel's refusals in its stderr (which one depends on the layer that stops it). */
  static void refusedWithAny(IsolationLayer layer, ContainerId id, String script, String... refusals) {
    ExecResult r = sh(layer, id, script);
    assertNotEquals(0, r.exitCode(), "in " + id + ": `" + script + "` must fail: " + r.stdout() + r.stderr());
    assertTrue(java.util.Arrays.stream(refusals).anyMatch(r.stderr()::contains),
        "in " + id + ": `" + script + "` must be refused with one of " + java.util.Arrays.toString(refusals) + ": " + r.stderr());
  }

  /**
   * The container's init has a user namespace of its own. Without one its root holds every
   * capability over the host's user namespace and can unmount, remount and mount what it likes (all
   * of MountEscapeIT's and CgroupEscapeIT's attacks then succeed): what stops them is that namespace.
   */
  static void assertOwnUserNamespace(IsolationLayer layer, ContainerId id) {
    String pid = Integer.toString(layer.inspect(id).initPid());
    assertNotEquals(nsLink("self", "user"), nsLink(pid, "user"), "the confined container has a user namespace of its own");
  }

  /** The file in reads of what it gives (not Files.readString: a numeric sysctl read past offset 0 gives nothing). */
  static String read(Path p) {
    try (var in = Files.newInputStream(p)) {
      return new String(in.readNBytes(1 << 20), java.nio.charset.StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String nsLink(String pid, String ns) {
    try {
      return Files.readSymbolicLink(Path.of("/proc", pid, "ns", ns)).toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The v1 devices cgroup of the container, as the host sees it. */
  static Path devicesCgroup(IsolationLayer layer, ContainerId id) {
    return Path.of("/sys/fs/cgroup/devices", layer.config().cgroupRoot(), id.value());
  }

  /**
   * The layers this module adds, seen from the kernel: sysctls outside net read-only, a masked file
   * empty, /sys read-only, the devices cgroup holding the init with exactly the list, the cgroup
   * namespace its own with the container's cgroups as its root. Used after start and after restore.
   */
  static void assertProcSysDevicesConfined(IsolationLayer layer, ContainerId id) {
    int pid = layer.inspect(id).initPid();
    refused(layer, id, "echo 10 > /proc/sys/vm/swappiness", "Read-only file system");
    assertEquals("0", ok(layer, id, "wc -c < /proc/timer_list"), "/proc/timer_list is masked");
    refused(layer, id, "echo 1 > /sys/kernel/mm/ksm/run", "Read-only file system");
    ok(layer, id, "echo 0 > /proc/sys/net/ipv4/ip_forward");
    refused(layer, id, "mknod /tmp/blk-probe b 7 0", "Operation not permitted");
    assertEquals("x", ok(layer, id, "echo x > /dev/null && echo x"));
    Path devices = devicesCgroup(layer, id);
    // The init is in the container's devices cgroup, or below it where its systemd put itself (init.scope): a child
    // in the devices hierarchy holds at most what its parent allows.
    String initDevices = read(Path.of("/proc", Integer.toString(pid), "cgroup")).lines().filter(l -> l.contains(":devices:")).findFirst()
        .map(l -> l.substring(l.indexOf(":devices:") + ":devices:".length())).orElse("");
    Path own = Path.of("/sys/fs/cgroup/devices" + initDevices);
    assertTrue(own.startsWith(devices), "the init " + pid + " is in the devices cgroup " + devices + " or below it: " + initDevices);
    assertTrue(read(own.resolve("cgroup.procs")).lines().toList().contains(Integer.toString(pid)), "the devices cgroup " + own + " holds the init " + pid);
    assertEquals(DEVICE_LIST, read(devices.resolve("devices.list")).lines().toList(), "the device rules of " + devices);
    assertTrue(DEVICE_LIST.containsAll(read(own.resolve("devices.list")).lines().toList()), "the init's device rules are the container's or fewer");
    assertNotEquals(nsLink("self", "cgroup"), nsLink(Integer.toString(pid), "cgroup"), "the init's cgroup namespace is its own");
    for (String line : ok(layer, id, "cat /proc/self/cgroup").lines().toList()) {
      assertTrue(line.endsWith(":/"), "inside, every cgroup is the namespace's root: " + line);
    }
  }
}
