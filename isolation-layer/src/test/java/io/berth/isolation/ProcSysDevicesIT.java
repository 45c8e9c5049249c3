package io.berth.isolation;

import static io.berth.isolation.Escapes.DEVICE_LIST;
import static io.berth.isolation.Escapes.nsLink;
import static io.berth.isolation.Escapes.ok;
import static io.berth.isolation.Escapes.read;
import static io.berth.isolation.Escapes.refused;
import static io.berth.isolation.Escapes.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.isolation.process.Commands;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Masked and read-only /proc and /sys, the devices cgroup and the cgroup namespace, each tried as
 * root from inside a running container: first in a privileged one, where the action must succeed
 * (so the test can fail), then in a confined one, where the kernel must refuse it.
 *
 * <p>What each layer stops here it would stop alone, even for a root holding every capability over
 * the host's user namespace: the mounts refuse writes and hide files, the devices cgroup refuses
 * nodes. Undoing the mounts themselves (umount, a fresh proc or sysfs) is stopped by the user
 * namespace: {@link MountEscapeIT}, {@link CgroupEscapeIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProcSysDevicesIT {
  private TestHost host;
  private IsolationLayer layer;
  private ContainerId confined;
  private ContainerId privileged;

  @BeforeAll
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("a");
    confined = host.newId("confined");
    privileged = host.newId("privileged");
    layer.prepare(TestHost.spec(confined, Limits.DEFAULT, "/bin/sleep", "100000"), null);
    layer.prepare(TestHost.privilegedSpec(privileged, Limits.DEFAULT, "/bin/sleep", "100000"), null);
    layer.start(confined);
    layer.start(privileged);
  }

  @AfterAll
  void tearDown() {
    if (host != null) host.close();
  }

  @Test
  void hostSysctlsAreWritableOnlyFromAPrivilegedContainer() {
    Path swappiness = Path.of("/proc/sys/vm/swappiness");
    String before = read(swappiness);
    String other = before.equals("0") ? "1" : Integer.toString(Integer.parseInt(before) - 1);
    try {
      ok(layer, privileged, "echo " + other + " > /proc/sys/vm/swappiness");
      assertEquals(other, read(swappiness), "a privileged container changes the host's vm.swappiness");
    } finally {
      writeHost(swappiness, before);
    }
    refused(layer, confined, "echo " + other + " > /proc/sys/vm/swappiness", "Read-only file system");
    assertEquals(before, read(swappiness));

    // core_pattern is written back unchanged: the write being allowed is the escape (a '|' pattern runs as host root).
    Path corePattern = Path.of("/proc/sys/kernel/core_pattern");
    String pattern = read(corePattern);
    String writeBack = "cat /proc/sys/kernel/core_pattern > /tmp/cp && cat /tmp/cp > /proc/sys/kernel/core_pattern";
    ok(layer, privileged, writeBack);
    refused(layer, confined, writeBack, "Read-only file system");
    assertEquals(pattern, read(corePattern));
  }

  @Test
  void theContainersOwnNetSysctlsStayWritable() {
    String hostForward = read(Path.of("/proc/sys/net/ipv4/ip_forward"));
    String flipped = hostForward.equals("1") ? "0" : "1";
    assertEquals(flipped, ok(layer, confined, "echo " + flipped + " > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward"));
    assertEquals(hostForward, read(Path.of("/proc/sys/net/ipv4/ip_forward")), "the host's ip_forward is another namespace's");
    ok(layer, confined, "echo 0 > /proc/sys/net/ipv4/ip_forward");
    // The kernel's view of the mounts: /proc/sys read-only, /proc/sys/net read-write on top of it.
    List<String> mounts = ok(layer, confined, "cat /proc/self/mountinfo").lines().toList();
    assertTrue(mountOptions(mounts, "/proc/sys").startsWith("ro,"), "/proc/sys: " + mounts);
    assertTrue(mountOptions(mounts, "/proc/sys/net").startsWith("rw,"), "/proc/sys/net: " + mounts);
    assertTrue(mountOptions(mounts, "/sys").startsWith("ro,"), "/sys: " + mounts);
    for (String p : List.of("/proc/bus", "/proc/fs", "/proc/irq")) {
      String opts = mountOptions(mounts, p);
      assertTrue(opts.startsWith("ro,") && opts.contains("nosuid") && opts.contains("nodev") && opts.contains("noexec"), p + ": " + opts);
    }
  }

  @Test
  void maskedFilesReadAsEmptyAndMaskedDirectoriesAreEmpty() {
    for (String file : List.of("/proc/timer_list", "/proc/keys")) {
      assertNotEquals("0", ok(layer, privileged, "wc -c < " + file), "a privileged container reads " + file);
      assertEquals("0", ok(layer, confined, "wc -c < " + file), file + " is masked");
    }
    assertFalse(ok(layer, privileged, "ls /sys/firmware").isEmpty(), "a privileged container lists /sys/firmware");
    assertEquals("", ok(layer, confined, "ls -A /sys/firmware"), "/sys/firmware is masked by an empty tmpfs");
    refused(layer, confined, "touch /sys/firmware/x", "Read-only file system");
    // What this kernel lacks is skipped, not made: no mask without the file.
    for (String p : List.of("/proc/timer_stats", "/proc/sched_debug", "/sys/devices/virtual/powercap")) {
      if (!Files.exists(Path.of(p))) assertNotEquals(0, sh(layer, confined, "test -e " + p).exitCode(), p);
    }
  }

  @Test
  void kcoreIsMasked() {
    if (!Files.exists(Path.of("/proc/kcore"))) {
      // This kernel has no /proc/kcore (CONFIG_PROC_KCORE unset): the attack surface is absent, in both containers too.
      absentInBoth("/proc/kcore");
      return;
    }
    assertEquals("16", ok(layer, privileged, "head -c 16 /proc/kcore | wc -c"), "a privileged container reads the host's memory image");
    assertEquals("0", ok(layer, confined, "head -c 16 /proc/kcore | wc -c"));
  }

  @Test
  void sysrqTriggerCannotBeOpenedForWriting() {
    if (!Files.exists(Path.of("/proc/sysrq-trigger"))) {
      absentInBoth("/proc/sysrq-trigger"); // CONFIG_MAGIC_SYSRQ unset: nothing to write to
      return;
    }
    // Opened for writing, nothing written: the open being allowed is the escape.
    ok(layer, privileged, "exec 3> /proc/sysrq-trigger");
    refused(layer, confined, "exec 3> /proc/sysrq-trigger", "Read-only file system");
  }

  @Test
  void sysIsReadOnlyAndShowsTheContainersOwnNetDevices() {
    String writeBack = "cat /sys/kernel/mm/ksm/run > /tmp/ksm && cat /tmp/ksm > /sys/kernel/mm/ksm/run";
    ok(layer, privileged, writeBack);
    refused(layer, confined, writeBack, "Read-only file system");
    refused(layer, confined, "cat /sys/class/net/lo/mtu > /tmp/mtu && cat /tmp/mtu > /sys/class/net/lo/mtu", "Read-only file system");
    assertEquals("lo", ok(layer, confined, "ls /sys/class/net"), "sysfs shows the container's own net namespace");
  }

  @Test
  void aBlockDeviceCanBeNeitherMadeNorOpened() throws IOException {
    String[] disk = hostBlockDevice();
    String open = "dd if=/tmp/disk of=/dev/null bs=512 count=1";
    ok(layer, privileged, "mknod /tmp/disk b " + disk[1] + " " + disk[2] + " && " + open);
    // Refused twice over: mknod needs CAP_MKNOD over the host's user namespace, and the devices cgroup denies "m".
    refused(layer, confined, "mknod /tmp/disk b " + disk[1] + " " + disk[2], "Operation not permitted");

    // A node that is there already (made by the host in the writable layer, mode 0666, so no file
    // permission stands in the way): only the devices cgroup refuses opening it.
    for (ContainerId id : List.of(privileged, confined)) {
      Path node = layer.upperDir(id).resolve("tmp/hostdisk");
      Files.createDirectories(node.getParent());
      Commands.Result r = Commands.run(List.of("mknod", "-m", "666", node.toString(), "b", disk[1], disk[2]), null, Duration.ofSeconds(10));
      assertTrue(r.ok(), r.describe());
    }
    ok(layer, privileged, "dd if=/tmp/hostdisk of=/dev/null bs=512 count=1");
    refused(layer, confined, "dd if=/tmp/hostdisk of=/dev/null bs=512 count=1", "Operation not permitted");
    refused(layer, confined, "echo x > /tmp/hostdisk", "Operation not permitted");
    refused(layer, confined, "mknod /tmp/mem c 1 1", "Operation not permitted");
  }

  /** A template's /dev/console (debootstrap makes one) is the host's console, c 5:1: the devices cgroup refuses it. */
  @Test
  void theHostsConsoleCannotBeOpened() throws IOException {
    for (ContainerId id : List.of(privileged, confined)) {
      Path node = layer.upperDir(id).resolve("tmp/console");
      Files.createDirectories(node.getParent());
      Commands.Result r = Commands.run(List.of("mknod", "-m", "666", node.toString(), "c", "5", "1"), null, Duration.ofSeconds(10));
      assertTrue(r.ok(), r.describe());
    }
    // Opened for reading, nothing read: the open is what is allowed or refused (the privileged baseline shows it can be).
    ok(layer, privileged, "dd if=/tmp/console of=/dev/null count=0");
    refused(layer, confined, "dd if=/tmp/console of=/dev/null count=0", "Operation not permitted");
    refused(layer, confined, "echo x > /tmp/console", "Operation not permitted");
  }

  @Test
  void theUsualNodesWork() {
    assertEquals("x", ok(layer, confined, "echo x > /dev/null && echo x"));
    assertEquals("4\n4\n4", ok(layer, confined, "head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c; head -c 4 /dev/random | wc -c"));
    refused(layer, confined, "echo x > /dev/full", "No space left on device");
    // No controlling terminal: the tty driver answers, not the devices cgroup.
    ExecResult tty = sh(layer, confined, "echo x > /dev/tty");
    assertFalse(tty.stderr().contains("Operation not permitted"), tty.stderr());
  }

  @Test
  void theDevicesCgroupHoldsTheInitAndExecdProcesses() {
    int pid = layer.inspect(confined).initPid();
    Path devices = Escapes.devicesCgroup(layer, confined);
    assertTrue(read(devices.resolve("cgroup.procs")).lines().toList().contains(Integer.toString(pid)), devices + " holds the init");
    assertEquals(DEVICE_LIST, read(devices.resolve("devices.list")).lines().toList());
    assertEquals("a *:* rwm", read(Path.of("/sys/fs/cgroup/devices/devices.list")), "the host's own rules are untouched");
    // An exec'd process is in the same devices cgroup: relative to the namespace's root it is at "/".
    assertTrue(ok(layer, confined, "cat /proc/self/cgroup").lines().anyMatch(l -> l.matches("\\d+:devices:/")));
    assertFalse(Files.exists(Escapes.devicesCgroup(layer, privileged)), "a privileged container has no devices cgroup");
  }

  @Test
  void theContainerSeesItsOwnCgroupsAsTheRoot() {
    int pid = layer.inspect(confined).initPid();
    int ppid = layer.inspect(privileged).initPid();
    assertNotEquals(nsLink("self", "cgroup"), nsLink(Integer.toString(pid), "cgroup"), "the init's cgroup namespace is its own");
    assertEquals(nsLink("self", "cgroup"), nsLink(Integer.toString(ppid), "cgroup"), "a privileged init is in the host's");
    for (String line : ok(layer, confined, "cat /proc/self/cgroup").lines().toList()) assertTrue(line.endsWith(":/"), line);
    String memory = layer.config().cgroupRoot() + "/" + privileged.value();
    assertTrue(ok(layer, privileged, "cat /proc/self/cgroup").lines().anyMatch(l -> l.endsWith(":memory:/" + memory)),
        "a privileged container sees the host's tree");
    // exec joins the init's cgroup namespace.
    assertEquals(nsLink(Integer.toString(pid), "cgroup"), ok(layer, confined, "readlink /proc/self/ns/cgroup"));
    // Its own cgroup as a cgroupfs root: the host's tree above it is not there.
    String listing = ok(layer, confined, "mkdir -p /tmp/cg && mount -t cgroup -o memory cgroup /tmp/cg && ls /tmp/cg; umount /tmp/cg");
    assertFalse(listing.contains(layer.config().cgroupRoot()), "no host cgroup in the container's memory hierarchy: " + listing);
    assertTrue(listing.contains("memory.limit_in_bytes"), listing);
    // A new hierarchy (with its own root and release_agent) cannot be made from inside it.
    refused(layer, confined, "mkdir -p /tmp/nh && mount -t cgroup -o none,name=berth-escape cgroup /tmp/nh", "permission denied");
  }

  @Test
  void aDevNullThatIsALinkToAHostFileIsNotBoundOverTheMasks() throws IOException {
    // The writable layer is the container's: between two starts its root may put a link at /dev/null.
    // Followed before pivot_root, "../" climbs out of the rootfs into the host's tree; after it, the same
    // link names a decoy inside, so the init would still find a /dev/null to open.
    Path secret = host.runDir().resolve("host-secret");
    Files.writeString(secret, "host only\n");
    ContainerId id = host.newId("badnull");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    Path decoy = layer.upperDir(id).resolve(secret.toString().substring(1));
    Files.createDirectories(decoy.getParent());
    Files.writeString(decoy, "");
    Path nul = layer.upperDir(id).resolve("dev/null");
    Files.delete(nul);
    Files.createSymbolicLink(nul, Path.of("../".repeat(32) + secret.toString().substring(1)));
    IsolationException e = org.junit.jupiter.api.Assertions.assertThrows(IsolationException.class, () -> layer.start(id),
        () -> "started: /proc/timer_list inside reads " + sh(layer, id, "cat /proc/timer_list").stdout());
    assertTrue(e.getMessage().contains("null-not-a-null-device"), e.getMessage());
    assertEquals(ContainerStatus.STOPPED, layer.inspect(id).status());
    layer.destroy(id);
  }

  @Test
  void destroyLeavesNoDevicesCgroup() {
    for (boolean priv : new boolean[] {false, true}) {
      ContainerId id = host.newId(priv ? "gone-priv" : "gone");
      layer.prepare(priv ? TestHost.privilegedSpec(id, Limits.DEFAULT, "/bin/sleep", "1000") : TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), null);
      int pid = layer.start(id);
      assertEquals(!priv, Files.isDirectory(Escapes.devicesCgroup(layer, id)), "devices cgroup made for a confined container only");
      layer.destroy(id);
      HostTests.assertNothingLeft(layer, layer.config().dataRoot().resolve("containers").resolve(id.value()), id, TestHost.vethOf(layer, id), pid);
    }
  }

  /** The options (the 6th field) of the mountinfo line whose mount point is {@code point}, the last one mounted there. */
  private static String mountOptions(List<String> mountinfo, String point) {
    String found = null;
    for (String line : mountinfo) {
      String[] f = line.split(" ");
      if (f[4].equals(point)) found = f[5];
    }
    assertTrue(found != null, "no mount at " + point + ": " + mountinfo);
    return found;
  }

  /**
   * A block device of the host that the host's root can open (name, major, minor): a disk if one
   * can be, else zram or loop. (On these VMs even the host's root is refused /dev/vda by the
   * hypervisor's sandbox, so the baseline can only be shown on a device it allows.)
   */
  private static String[] hostBlockDevice() throws IOException {
    List<Path> devices;
    try (var s = Files.list(Path.of("/sys/block"))) {
      devices = s.sorted(java.util.Comparator.comparing((Path b) -> b.getFileName().toString().startsWith("loop"))
          .thenComparing(b -> !Files.exists(b.resolve("device"))).thenComparing(Path::toString)).toList();
    }
    for (Path b : devices) {
      String name = b.getFileName().toString();
      try (var c = java.nio.channels.FileChannel.open(Path.of("/dev", name))) {
        String[] dev = read(b.resolve("dev")).split(":");
        return new String[] {name, dev[0], dev[1]};
      } catch (IOException e) {
        // refused to the host's root too: not a baseline
      }
    }
    HostTests.failOrSkip("this host has no block device its root can open (the baseline of the mknod test)");
    return null;
  }

  /** Where the host has no such file, no container shows one (a test that runs, not one that skips). */
  private void absentInBoth(String path) {
    assertNotEquals(0, sh(layer, privileged, "test -e " + path).exitCode(), path + " absent in a privileged container");
    assertNotEquals(0, sh(layer, confined, "test -e " + path).exitCode(), path + " absent in a confined container");
  }

  private static void writeHost(Path p, String value) {
    try {
      Files.writeString(p, value);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("restore " + p + " to " + value, e);
    }
  }
}
