package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.cgroup.CgroupException;
import io.berth.isolation.cgroup.CgroupFiles;
import io.berth.isolation.cgroup.CpuList;
import io.berth.isolation.cgroup.CgroupVersion;
import io.berth.isolation.cgroup.Cgroups;
import io.berth.isolation.cgroup.DeviceRule;
import io.berth.isolation.cgroup.DeviceRules;
import io.berth.protocol.spec.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The limit logic on a tree of plain files laid out as the kernel's (a test double: the real
 * hierarchy is exercised by the host tests). Covers cgroup v2, which these hybrid hosts cannot
 * run, v1's memsw ordering, and v1's devices cgroup.
 */
class CgroupsTest {
  @TempDir
  Path root;

  private void files(Path dir, String... names) throws Exception {
    Files.createDirectories(dir);
    for (String n : names) Files.writeString(dir.resolve(n), n.equals("memory.limit_in_bytes") ? "9223372036854771712" : "0");
  }

  @Test
  void v2WritesCpuMaxMemoryMaxSwapOffAndPidsMax() throws Exception {
    files(root, "cgroup.controllers", "cgroup.subtree_control");
    files(root.resolve("berth"), "cgroup.subtree_control");
    Files.writeString(root.resolve("berth/cpuset.cpus.effective"), "0-3\n");
    files(root.resolve("berth/web-1"), "cpu.max", "cpu.weight", "memory.max", "memory.low", "memory.swap.max", "pids.max", "cgroup.procs");
    Files.writeString(root.resolve("berth/web-1/cpuset.cpus"), "");
    CgroupFiles fs = new CgroupFiles(root, CgroupVersion.detect(root));
    assertEquals(CgroupVersion.V2, fs.version());
    Cgroups cg = new Cgroups(fs, "berth");
    cg.create("web-1", false, undo -> {});
    assertEquals("+cpu +cpuset +memory +pids", Files.readString(root.resolve("berth/cgroup.subtree_control")));
    cg.apply("web-1", new Limits(1500, 64L << 20, 0, 100));
    assertEquals("150000 100000", Files.readString(root.resolve("berth/web-1/cpu.max")));
    assertEquals(Long.toString(64L << 20), Files.readString(root.resolve("berth/web-1/memory.max")));
    assertEquals("0", Files.readString(root.resolve("berth/web-1/memory.swap.max")));
    assertEquals("100", Files.readString(root.resolve("berth/web-1/pids.max")));
    assertEquals("100", Files.readString(root.resolve("berth/web-1/cpu.weight")), "the default weight");
    assertEquals(Long.toString(16L << 20), Files.readString(root.resolve("berth/web-1/memory.low")), "the default memory guarantee");
    assertEquals("0-1", Files.readString(root.resolve("berth/web-1/cpuset.cpus")), "1.5 cpus: pinned to 2 of the root's effective cpus");
    assertEquals(new Limits(1500, 64L << 20, 0, 100), cg.read("web-1"));
    assertEquals(List.of(root.resolve("berth/web-1/cgroup.procs")), cg.procsFiles("web-1", false));
    assertEquals(List.of("/berth/web-1"), cg.criuRoots("web-1", false));
    assertEquals(List.of("/berth/web-1"), cg.criuRoots("web-1", true), "v2 has one hierarchy: the device program rides on it");
  }

  @Test
  void v2FreezeWritesCgroupFreezeAndReadsFrozenFromCgroupEvents() throws Exception {
    files(root, "cgroup.controllers");
    files(root.resolve("berth/web-1"), "cgroup.freeze", "cgroup.procs");
    Files.writeString(root.resolve("berth/web-1/cgroup.events"), "populated 1\nfrozen 0\n");
    Files.writeString(root.resolve("berth/web-1/cgroup.procs"), "41\n42\n");
    Cgroups cg = new Cgroups(new CgroupFiles(root, CgroupVersion.detect(root)), "berth");
    assertEquals(List.of(41, 42), cg.freeze("web-1"));
    assertEquals("1", Files.readString(root.resolve("berth/web-1/cgroup.freeze")));
    assertFalse(cg.isFrozen("web-1"), "not until the kernel says frozen 1");
    Files.writeString(root.resolve("berth/web-1/cgroup.events"), "populated 1\nfrozen 1\n");
    assertTrue(cg.isFrozen("web-1"));
    assertEquals(List.of(41, 42), cg.fenceProcs("web-1"));
    cg.thaw("web-1");
    assertEquals("0", Files.readString(root.resolve("berth/web-1/cgroup.freeze")));
    assertTrue(cg.removeFreezer("web-1"), "v2 makes no cgroup of its own for a freeze");
    assertTrue(Files.isDirectory(root.resolve("berth/web-1")));
  }

  @Test
  void v1FreezeMakesAFrozenFreezerCgroupAndMovesTheContainersProcessesIntoIt() throws Exception {
    files(root.resolve("pids/berth/web-1"), "cgroup.procs");
    Files.writeString(root.resolve("pids/berth/web-1/cgroup.procs"), "77\n");
    // mkdir in a cgroupfs makes its files; here they are made first (create keeps an existing directory).
    files(root.resolve("freezer/berth/web-1"), "freezer.state", "cgroup.procs");
    Files.writeString(root.resolve("freezer/berth/web-1/cgroup.procs"), "");
    Cgroups cg = new Cgroups(new CgroupFiles(root, CgroupVersion.detect(root)), "berth");
    assertEquals(List.of(77), cg.freeze("web-1"));
    assertEquals("FROZEN", Files.readString(root.resolve("freezer/berth/web-1/freezer.state")));
    assertEquals("77", Files.readString(root.resolve("freezer/berth/web-1/cgroup.procs")), "moved into the frozen cgroup");
    assertTrue(cg.isFrozen("web-1"));
    assertEquals(List.of(77), cg.fenceProcs("web-1"), "seen once, in both hierarchies");
    cg.thaw("web-1");
    assertEquals("THAWED", Files.readString(root.resolve("freezer/berth/web-1/freezer.state")));
    assertFalse(cg.removeFreezer("web-1"), "a cgroup with files in it is not removed (on the kernel: one with processes)");
  }

  @Test
  void v1SetsMemswWithTheLimitAndQuotaOverA100msPeriod() throws Exception {
    files(root.resolve("cpu/berth/web-1"), "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares");
    files(root.resolve("cpuacct/berth/web-1"), "cpuacct.usage");
    files(root.resolve("memory/berth/web-1"), "memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes");
    files(root.resolve("pids/berth/web-1"), "pids.max");
    cpuset(root.resolve("cpuset/berth"), "0-1", "0");
    cpuset(root.resolve("cpuset/berth/web-1"), "0-1", "0");
    Cgroups cg = new Cgroups(new CgroupFiles(root, CgroupVersion.detect(root)), "berth");
    cg.apply("web-1", new Limits(500, 32L << 20, 0, 20, 250, 100, 8L << 20));
    assertEquals("50000", Files.readString(root.resolve("cpu/berth/web-1/cpu.cfs_quota_us")));
    assertEquals("2560", Files.readString(root.resolve("cpu/berth/web-1/cpu.shares")), "weight 250: 2.5 times the default 1024 shares");
    assertEquals(Long.toString(8L << 20), Files.readString(root.resolve("memory/berth/web-1/memory.soft_limit_in_bytes")));
    assertEquals("100000", Files.readString(root.resolve("cpu/berth/web-1/cpu.cfs_period_us")));
    assertEquals(Long.toString(32L << 20), Files.readString(root.resolve("memory/berth/web-1/memory.memsw.limit_in_bytes")));
    assertEquals("20", Files.readString(root.resolve("pids/berth/web-1/pids.max")));
    assertEquals("0", Files.readString(root.resolve("cpuset/berth/web-1/cpuset.cpus")), "0.5 cpu: one cpu");
    assertEquals(List.of("cpu:/berth/web-1", "cpuacct:/berth/web-1", "cpuset:/berth/web-1", "memory:/berth/web-1", "pids:/berth/web-1"),
        cg.criuRoots("web-1", false));
  }

  /** A booted systemd's empty cgroups (CRIU makes only those holding tasks) are listed at dump and made at restore, only inside. */
  @Test
  void aSystemdTreesEmptyCgroupsAreListedAndMadeAgainOnlyInsideTheContainers() throws Exception {
    List<io.berth.isolation.cgroup.CgroupLayout> layout = List.of(new io.berth.isolation.cgroup.CgroupLayout("systemd", "cgroup", "name=systemd"),
        new io.berth.isolation.cgroup.CgroupLayout("memory", "cgroup", "memory"));
    files(root.resolve("systemd/berth/web-1/system.slice"), "cgroup.procs");
    files(root.resolve("systemd/berth/web-1/system.slice/nginx.service"), "cgroup.procs");
    Files.writeString(root.resolve("systemd/berth/web-1/system.slice/nginx.service/cgroup.procs"), "42\n");
    files(root.resolve("systemd/berth/web-1/system.slice/system-getty.slice"), "cgroup.procs");
    Files.writeString(root.resolve("systemd/berth/web-1/system.slice/cgroup.procs"), "");
    Files.writeString(root.resolve("systemd/berth/web-1/system.slice/system-getty.slice/cgroup.procs"), "");
    Files.createDirectories(root.resolve("memory/berth/web-1"));
    Cgroups cg = new Cgroups(new CgroupFiles(root, CgroupVersion.detect(root)), "berth");
    List<String> empty = cg.emptyTree("web-1", layout);
    assertEquals(List.of("systemd system.slice", "systemd system.slice/system-getty.slice"), empty, "parents first, the ones with tasks left to CRIU");

    Files.createDirectories(root.resolve("systemd/berth/web-2"));
    cg.makeEmptyTree("web-2", empty, 100000);
    Path getty = root.resolve("systemd/berth/web-2/system.slice/system-getty.slice");
    assertTrue(Files.isDirectory(getty));
    assertEquals(100000, Files.getAttribute(getty, "unix:uid"), "the container's root's, as its systemd made it");
    assertThrows(io.berth.isolation.cgroup.CgroupException.class, () -> cg.makeEmptyTree("web-2", List.of("systemd ../../escaped"), 1));
    assertFalse(Files.exists(root.resolve("systemd/escaped")), "nothing made outside the container's cgroup");
  }

  /** A v1 host tree with the limit controllers and devices, the container's directories made as mkdir would fill them. */
  private Cgroups v1WithDevices(String devicesList) throws Exception {
    for (String c : List.of("cpu", "cpuacct", "memory", "pids")) Files.createDirectories(root.resolve(c));
    cpuset(root.resolve("cpuset"), "0-1", "0");
    cpuset(root.resolve("cpuset/berth"), "", "");
    cpuset(root.resolve("cpuset/berth/web-1"), "", "");
    files(root.resolve("devices/berth/web-1"), "devices.deny", "devices.allow", "cgroup.procs");
    Files.writeString(root.resolve("devices/berth/web-1/devices.list"), devicesList);
    return new Cgroups(new CgroupFiles(root, CgroupVersion.detect(root)), "berth");
  }

  private static String expectedList() {
    return String.join("\n", DeviceRules.DEFAULT.stream().map(DeviceRule::v1).toList()) + "\n";
  }

  @Test
  void v1ConfinedContainerGetsADevicesCgroupDenyingAllButTheListAndJoinsIt() throws Exception {
    Cgroups cg = v1WithDevices(expectedList());
    List<Runnable> undo = new ArrayList<>();
    cg.create("web-1", true, undo::add);
    assertEquals("a", Files.readString(root.resolve("devices/berth/web-1/devices.deny")), "everything denied first");
    // A plain file keeps only the last write; the kernel appends each rule (and the list read back is checked).
    assertEquals(DeviceRules.DEFAULT.get(DeviceRules.DEFAULT.size() - 1).v1(),
        Files.readString(root.resolve("devices/berth/web-1/devices.allow")));
    assertEquals(List.of("c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm"),
        cg.deviceRules("web-1"));
    assertTrue(cg.procsFiles("web-1", true).contains(root.resolve("devices/berth/web-1/cgroup.procs")));
    assertFalse(cg.procsFiles("web-1", false).contains(root.resolve("devices/berth/web-1/cgroup.procs")), "privileged: no devices cgroup");
    assertEquals(List.of("cpu:/berth/web-1", "cpuacct:/berth/web-1", "cpuset:/berth/web-1", "memory:/berth/web-1", "pids:/berth/web-1",
        "devices:/berth/web-1"), cg.criuRoots("web-1", true));
    assertEquals(4, undo.size(), "the four limit cgroups were made here; cpuset and devices existed already, so they are not undone");
  }

  @Test
  void v1DeviceRulesThatTheKernelDoesNotHoldAreAnError() throws Exception {
    Cgroups cg = v1WithDevices("a *:* rwm\n");
    CgroupException e = assertThrows(CgroupException.class, () -> cg.create("web-1", true, undo -> {}));
    assertTrue(e.getMessage().contains("a *:* rwm"), e.getMessage());
  }

  @Test
  void v1PrivilegedContainerGetsNoDevicesCgroup() throws Exception {
    for (String c : List.of("cpu", "cpuacct", "memory", "pids", "devices")) Files.createDirectories(root.resolve(c));
    cpuset(root.resolve("cpuset"), "0-1", "0");
    cpuset(root.resolve("cpuset/berth"), "", "");
    cpuset(root.resolve("cpuset/berth/web-1"), "", "");
    Cgroups cg = new Cgroups(new CgroupFiles(root, CgroupVersion.V1), "berth");
    cg.create("web-1", false, undo -> {});
    assertTrue(Files.isDirectory(root.resolve("memory/berth/web-1")));
    assertFalse(Files.exists(root.resolve("devices/berth/web-1")));
    assertEquals(List.of(), cg.deviceRules("web-1"));
  }

  private static void cpuset(Path dir, String cpus, String mems) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("cpuset.cpus"), cpus);
    Files.writeString(dir.resolve("cpuset.mems"), mems);
  }

  /**
   * What mkdir does in a v1 cpuset hierarchy: the new cgroup's cpuset.cpus and cpuset.mems are empty
   * (plain files here: the directories are made by the test, the layer only writes into them).
   */
  private void v1Tree(String... containers) throws Exception {
    cpuset(root.resolve("cpuset"), "0-3", "0");
    cpuset(root.resolve("cpuset/berth"), "", "");
    for (String c : containers) {
      for (String ctl : List.of("cpu", "cpuacct", "memory", "pids")) Files.createDirectories(root.resolve(ctl).resolve("berth").resolve(c));
      files(root.resolve("cpu/berth").resolve(c), "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares");
      files(root.resolve("memory/berth").resolve(c), "memory.limit_in_bytes", "memory.soft_limit_in_bytes");
      files(root.resolve("pids/berth").resolve(c), "pids.max");
      cpuset(root.resolve("cpuset/berth").resolve(c), "", "");
    }
  }

  @Test
  void v1CpusetsInheritMemsAndSpreadContainersOverTheLeastLoadedCpus() throws Exception {
    v1Tree("a", "b", "c");
    Cgroups cg = new Cgroups(new CgroupFiles(root, CgroupVersion.V1), "berth");
    for (String c : List.of("a", "b", "c")) cg.create(c, false, undo -> {});
    assertEquals("0-3", Files.readString(root.resolve("cpuset/berth/cpuset.cpus")), "the root gets the host's cpus");
    assertEquals("0", Files.readString(root.resolve("cpuset/berth/a/cpuset.mems")), "and its mems, which a task needs to join");

    cg.apply("a", new Limits(2000, 64L << 20, 0, 10));
    cg.apply("b", new Limits(1000, 64L << 20, 0, 10));
    cg.apply("c", new Limits(1000, 64L << 20, 0, 10));
    assertEquals(List.of(0, 1), cg.cpus("a"));
    assertEquals(List.of(2), cg.cpus("b"), "the first cpu nobody is pinned to");
    assertEquals(List.of(3), cg.cpus("c"));

    cg.apply("b", new Limits(800, 128L << 20, 0, 10));
    assertEquals(List.of(2), cg.cpus("b"), "same count: it keeps its cpu");
    cg.apply("c", new Limits(1500, 64L << 20, 0, 10));
    assertEquals(List.of(0, 3), cg.cpus("c"), "two cpus: the least loaded ones (3 and 0 tie with 1 and 2 at one container each; lowest first)");
    cg.apply("a", new Limits(64_000, 64L << 20, 0, 10));
    assertEquals(List.of(0, 1, 2, 3), cg.cpus("a"), "more cpus than the root allows: all of them");
  }

  @Test
  void cpuListsReadAndWriteTheKernelsRangeFormat() {
    assertEquals(List.of(0, 1, 2, 5, 8, 9), CpuList.parse("0-2,5,8-9\n"));
    assertEquals(List.of(), CpuList.parse(""));
    assertEquals("0-2,5,8-9", CpuList.format(List.of(9, 8, 5, 2, 1, 0)));
    assertEquals("3", CpuList.format(List.of(3)));
    assertThrows(CgroupException.class, () -> CpuList.parse("3-1"));
    assertThrows(CgroupException.class, () -> CpuList.parse("a"));
    assertEquals(1, Cgroups.cpusFor(1));
    assertEquals(1, Cgroups.cpusFor(1000));
    assertEquals(2, Cgroups.cpusFor(1001));
  }
}
