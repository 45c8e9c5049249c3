package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.isolation.cgroup.CgroupFiles;
import io.berth.isolation.cgroup.CgroupVersion;
import io.berth.isolation.cgroup.Cgroups;
import io.berth.protocol.spec.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The limit logic on a tree of plain files laid out as the kernel's (a test double: the real
 * hierarchy is exercised by the host tests). Covers cgroup v2, which these hybrid hosts cannot
 * run, and v1's memsw ordering.
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
    files(root.resolve("berth/web-1"), "cpu.max", "memory.max", "memory.swap.max", "pids.max", "cgroup.procs");
    CgroupFiles fs = new CgroupFiles(root, CgroupVersion.detect(root));
    assertEquals(CgroupVersion.V2, fs.version());
    Cgroups cg = new Cgroups(fs, "berth");
    cg.create("web-1", undo -> {});
    assertEquals("+cpu +memory +pids", Files.readString(root.resolve("berth/cgroup.subtree_control")));
    cg.apply("web-1", new Limits(1500, 64L << 20, 0, 100));
    assertEquals("150000 100000", Files.readString(root.resolve("berth/web-1/cpu.max")));
    assertEquals(Long.toString(64L << 20), Files.readString(root.resolve("berth/web-1/memory.max")));
    assertEquals("0", Files.readString(root.resolve("berth/web-1/memory.swap.max")));
    assertEquals("100", Files.readString(root.resolve("berth/web-1/pids.max")));
    assertEquals(new Limits(1500, 64L << 20, 0, 100), cg.read("web-1"));
    assertEquals(List.of(root.resolve("berth/web-1/cgroup.procs")), cg.procsFiles("web-1"));
    assertEquals(List.of("/berth/web-1"), cg.criuRoots("web-1"));
  }

  @Test
  void v1SetsMemswWithTheLimitAndQuotaOverA100msPeriod() throws Exception {
    files(root.resolve("cpu/berth/web-1"), "cpu.cfs_quota_us", "cpu.cfs_period_us");
    files(root.resolve("cpuacct/berth/web-1"), "cpuacct.usage");
    files(root.resolve("memory/berth/web-1"), "memory.limit_in_bytes", "memory.memsw.limit_in_bytes");
    files(root.resolve("pids/berth/web-1"), "pids.max");
    Cgroups cg = new Cgroups(new CgroupFiles(root, CgroupVersion.detect(root)), "berth");
    cg.apply("web-1", new Limits(500, 32L << 20, 0, 20));
    assertEquals("50000", Files.readString(root.resolve("cpu/berth/web-1/cpu.cfs_quota_us")));
    assertEquals("100000", Files.readString(root.resolve("cpu/berth/web-1/cpu.cfs_period_us")));
    assertEquals(Long.toString(32L << 20), Files.readString(root.resolve("memory/berth/web-1/memory.memsw.limit_in_bytes")));
    assertEquals("20", Files.readString(root.resolve("pids/berth/web-1/pids.max")));
    assertEquals(List.of("cpu:/berth/web-1", "cpuacct:/berth/web-1", "memory:/berth/web-1", "pids:/berth/web-1"), cg.criuRoots("web-1"));
  }
}
