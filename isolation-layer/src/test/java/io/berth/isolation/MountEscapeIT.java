package io.berth.isolation;

import static io.berth.isolation.Escapes.ok;
import static io.berth.isolation.Escapes.read;
import static io.berth.isolation.Escapes.refusedWithAny;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Undoing the read-only /proc/sys and /sys from inside: unmount or remount them, mount over
 * /proc/sys, mount a fresh proc or sysfs. Each first succeeds, as far as the host-wide write it
 * leads to, in a privileged container; in a confined one that write must be refused. Every write
 * puts back the value it read, so the host is unchanged either way.
 *
 * <p>The mounts alone cannot stop this: the container's root can undo what its own init mounted (in
 * a mount namespace its user namespace owns, nothing the init mounts is locked). What refuses the
 * write then is the user namespace: sysctl and sysfs files belong to the host's root, which is not
 * mapped in it, and a fresh sysfs is refused outright. Without a user namespace all five succeed.
 */
class MountEscapeIT {
  private static final String SWAPPINESS_BACK = "cat /proc/sys/vm/swappiness > /tmp/v && cat /tmp/v > /proc/sys/vm/swappiness";
  static final String[] REFUSALS = {"Permission denied", "permission denied", "Operation not permitted", "Read-only file system", "Invalid argument"};
  // The attacks, each aimed at a host-wide write that puts back what it read (SystemdEscapeIT runs them in a booted Debian too).
  static final String UNMOUNT_PROC_SYS = "umount /proc/sys/net 2>/dev/null; umount /proc/sys 2>/dev/null; " + SWAPPINESS_BACK;
  static final String REMOUNT_PROC_SYS = "mount -o remount,rw,bind /proc/sys 2>/dev/null; " + SWAPPINESS_BACK;
  static final String FRESH_PROC_OVER_PROC_SYS = "mkdir -p /tmp/p && mount -t proc proc /tmp/p && mount --bind /tmp/p/sys /proc/sys && " + SWAPPINESS_BACK;
  static final String FRESH_PROC = "mkdir -p /tmp/p2 && mount -t proc proc /tmp/p2 && cat /tmp/p2/sys/vm/swappiness > /tmp/v && cat /tmp/v > /tmp/p2/sys/vm/swappiness";
  static final String FRESH_SYSFS = "mkdir -p /tmp/s && mount -t sysfs sysfs /tmp/s && cat /tmp/s/kernel/mm/ksm/run > /tmp/k && cat /tmp/k > /tmp/s/kernel/mm/ksm/run";
  static final String REMOUNT_SYS = "mount -o remount,rw /sys 2>/dev/null; cat /sys/kernel/mm/ksm/run > /tmp/k && cat /tmp/k > /sys/kernel/mm/ksm/run";
  private TestHost host;
  private IsolationLayer layer;
  private ContainerId confined;
  private ContainerId privileged;

  /** A fresh pair per test: each attack changes the mounts it finds. */
  @BeforeEach
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

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  private void tryBoth(String attack) {
    String swappiness = read(Path.of("/proc/sys/vm/swappiness"));
    ok(layer, privileged, attack);
    Escapes.assertOwnUserNamespace(layer, confined);
    refusedWithAny(layer, confined, attack, REFUSALS);
    assertEquals(swappiness, read(Path.of("/proc/sys/vm/swappiness")));
  }

  @Test
  void unmountingTheReadOnlyProcSysDoesNotMakeItWritable() {
    tryBoth(UNMOUNT_PROC_SYS);
  }

  @Test
  void remountingProcSysReadWriteDoesNotMakeItWritable() {
    tryBoth(REMOUNT_PROC_SYS);
  }

  @Test
  void aFreshProcMountedOverProcSysIsNotWritable() {
    tryBoth(FRESH_PROC_OVER_PROC_SYS);
  }

  @Test
  void aFreshProcIsNotWritable() {
    tryBoth(FRESH_PROC);
  }

  @Test
  void aFreshSysfsIsNotWritable() {
    String ksm = read(Path.of("/sys/kernel/mm/ksm/run"));
    ok(layer, privileged, FRESH_SYSFS);
    Escapes.assertOwnUserNamespace(layer, confined);
    refusedWithAny(layer, confined, FRESH_SYSFS, REFUSALS);
    refusedWithAny(layer, confined, REMOUNT_SYS, REFUSALS);
    assertEquals(ksm, read(Path.of("/sys/kernel/mm/ksm/run")));
  }
}
