package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.isolation.cgroup.CgroupException;
import io.berth.isolation.cgroup.CgroupFiles;
import io.berth.isolation.cgroup.CgroupVersion;
import io.berth.isolation.cgroup.DeviceFilter;
import io.berth.isolation.cgroup.DeviceRules;
import io.berth.isolation.process.Commands;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cgroup v2 device program (what a pure v2 host uses instead of the devices controller) on the
 * real kernel. These hosts are hybrid, but their v2 hierarchy (/sys/fs/cgroup/unified) takes
 * device programs like any v2 cgroup, and the kernel asks both the program and the v1 controller:
 * a shell that moves itself into a cgroup there must be refused the host's block device, and keep
 * the usual nodes; in a sibling cgroup without the program the same shell is not refused.
 */
class DeviceProgramIT {
  private static final Path UNIFIED = Path.of("/sys/fs/cgroup/unified");
  private TestHost host;
  private String root;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    assumeTrue(Files.exists(UNIFIED.resolve("cgroup.procs")), "no cgroup v2 hierarchy at " + UNIFIED + " to attach a device program to");
    host = new TestHost();
    root = host.layer("a").config().cgroupRoot(); // TestHost removes it (in every hierarchy) after the run
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  /** Runs {@code script} in a shell that first moves itself into {@code cgroup} of the v2 hierarchy. */
  private static Commands.Result inCgroup(CgroupFiles fs, String cgroup, String script) {
    String procs = fs.dir("", cgroup).resolve("cgroup.procs").toString();
    return Commands.run(List.of("/bin/sh", "-c", "echo $$ > " + procs + " && " + script), null, Duration.ofSeconds(20));
  }

  @Test
  void theProgramRefusesEveryDeviceButTheList() throws Exception {
    CgroupFiles fs = new CgroupFiles(UNIFIED, CgroupVersion.V2);
    fs.create("", root);
    fs.create("", root + "/open");
    fs.create("", root + "/confined");
    fs.attachDeviceProgram(root + "/confined", DeviceFilter.compile(DeviceRules.DEFAULT));
    fs.attachDeviceProgram(root + "/confined", DeviceFilter.compile(DeviceRules.DEFAULT)); // again (revive): replaced, not refused
    Path scratch = host.runDir().resolve("nodes");
    Files.createDirectories(scratch);

    String loop = "dd if=/dev/loop0 of=/dev/null bs=512 count=1";
    Commands.Result open = inCgroup(fs, root + "/open", loop + " && mknod " + scratch + "/b0 b 7 0 && exec 3< /dev/kmsg");
    assertTrue(open.ok(), "without the program the host's root opens and makes loop0 and opens kmsg: " + open.describe());

    Commands.Result disk = inCgroup(fs, root + "/confined", loop);
    assertEquals(1, disk.exitCode(), disk.describe());
    assertTrue(disk.stderr().contains("Operation not permitted"), disk.stderr());
    Commands.Result mknod = inCgroup(fs, root + "/confined", "mknod " + scratch + "/b1 b 7 0");
    assertTrue(!mknod.ok() && mknod.stderr().contains("Operation not permitted"), mknod.describe());
    Commands.Result mem = inCgroup(fs, root + "/confined", "exec 3< /dev/kmsg"); // c 1:11: null's major, another minor
    assertTrue(!mem.ok() && mem.stderr().contains("Operation not permitted"), mem.describe());

    Commands.Result usual = inCgroup(fs, root + "/confined",
        "echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && mknod " + scratch + "/null c 1 3 && echo y > " + scratch + "/null");
    assertTrue(usual.ok(), "the usual nodes work under the program: " + usual.describe());
    assertEquals("4\n4", usual.stdout().strip());

    // No flags at attach: a cgroup below cannot attach a program of its own (nor widen this one).
    fs.create("", root + "/confined/child");
    try {
      assertThrows(CgroupException.class, () -> fs.attachDeviceProgram(root + "/confined/child", DeviceFilter.compile(List.of())));
    } finally {
      fs.remove("", root + "/confined/child"); // TestHost's sweep removes two levels only
    }
  }
}
