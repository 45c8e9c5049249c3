package io.berth.isolation;

import static io.berth.isolation.Escapes.read;
import static io.berth.isolation.Escapes.refused;
import static io.berth.isolation.Escapes.refusedWithAny;
import static io.berth.isolation.Escapes.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.process.Commands;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hardening suite's escapes, run from a booted Debian 12 (systemd as its init, its cgroup tree mounted inside
 * with its own subtree delegated to its root, Debian's own mount, awk and dd) instead of busybox: each must be
 * refused as it is in {@link MountEscapeIT}, {@link CgroupEscapeIT} and {@link ProcSysDevicesIT}, whose privileged
 * baselines show the same scripts succeed when nothing confines them. What the host holds is read from the host.
 * A fresh container per test: the attacks change the mounts they find.
 */
class SystemdEscapeIT {
  private static final long LIMIT = 256L << 20;
  private TestHost host;
  private IsolationLayer layer;
  private ContainerId debian;

  @BeforeEach
  void setUp() throws Exception {
    HostTests.requireRootLinux();
    SetupTemplates.requireDebian12();
    host = new TestHost();
    layer = host.layer("a");
    debian = host.newId("sd-escape");
    layer.prepare(new ContainerSpec(debian, TemplateRef.of("debian-12"), null, List.of(), Limits.DEFAULT.withMemoryBytes(LIMIT), null, null, null), null);
    layer.start(debian);
    SystemdBootIT.awaitRunning(layer, debian);
    Escapes.assertOwnUserNamespace(layer, debian);
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  @Test
  void hostSysctlsCannotBeWrittenThroughAnyMount() {
    String swappiness = read(Path.of("/proc/sys/vm/swappiness"));
    for (String attack : List.of(MountEscapeIT.UNMOUNT_PROC_SYS, MountEscapeIT.REMOUNT_PROC_SYS, MountEscapeIT.FRESH_PROC_OVER_PROC_SYS,
        MountEscapeIT.FRESH_PROC)) {
      refusedWithAny(layer, debian, attack, MountEscapeIT.REFUSALS);
      assertEquals(swappiness, read(Path.of("/proc/sys/vm/swappiness")), "the host's swappiness after: " + attack);
    }
  }

  @Test
  void hostSysfsCannotBeWrittenThroughAFreshOrRemountedSysfs() {
    String ksm = read(Path.of("/sys/kernel/mm/ksm/run"));
    refusedWithAny(layer, debian, MountEscapeIT.FRESH_SYSFS, MountEscapeIT.REFUSALS);
    refusedWithAny(layer, debian, MountEscapeIT.REMOUNT_SYS, MountEscapeIT.REFUSALS);
    assertEquals(ksm, read(Path.of("/sys/kernel/mm/ksm/run")));
  }

  /** Its delegated tree is its own, but not the limits on it, not a release_agent, and no new hierarchy. */
  @Test
  void itsDelegatedCgroupsGiveNoWayToItsLimitsOrARelease_agent() {
    Path limit = Path.of("/sys/fs/cgroup/memory", layer.config().cgroupRoot(), debian.value(), "memory.limit_in_bytes");
    assertEquals(Long.toString(LIMIT), read(limit));
    refusedWithAny(layer, debian, "echo " + CgroupEscapeIT.RAISED + " > /sys/fs/cgroup/memory/memory.limit_in_bytes", CgroupEscapeIT.REFUSALS);
    refusedWithAny(layer, debian, CgroupEscapeIT.raise("."), CgroupEscapeIT.REFUSALS);
    assertEquals(Long.toString(LIMIT), read(limit), "the container's memory limit, read on the host");
    ExecResult r = sh(layer, debian, CgroupEscapeIT.RELEASE_AGENT);
    assertEquals(1, r.exitCode(), "no hierarchy's release_agent may be written from a booted Debian: " + r.stdout() + r.stderr());
    refusedWithAny(layer, debian, CgroupEscapeIT.NEW_HIERARCHY, "permission denied", "Permission denied");
    // What it may do with its tree, it can: systemd made its slices there, owned by the container's root.
    assertTrue(Files.isDirectory(Path.of("/sys/fs/cgroup/memory", layer.config().cgroupRoot(), debian.value(), "system.slice")),
        "systemd made system.slice in the container's memory cgroup");
  }

  @Test
  void devicesAndProcAreConfinedAndTheHostsConsoleIsRefused() throws Exception {
    Escapes.assertProcSysDevicesConfined(layer, debian);
    Path node = layer.upperDir(debian).resolve("tmp/console");
    Files.createDirectories(node.getParent());
    Commands.Result made = Commands.run(List.of("mknod", "-m", "666", node.toString(), "c", "5", "1"), null, Duration.ofSeconds(10));
    assertTrue(made.ok(), made.describe());
    refused(layer, debian, "dd if=/tmp/console of=/dev/null count=0", "Operation not permitted");
    refused(layer, debian, "mknod /tmp/mem c 1 1", "Operation not permitted");
  }
}
