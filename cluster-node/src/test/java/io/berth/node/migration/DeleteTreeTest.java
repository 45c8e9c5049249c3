package io.berth.node.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.process.Commands;
import io.berth.isolation.rootfs.Rootfs;
import io.berth.node.HostRequirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A migration directory that a killed CRIU restore left with its cgroup yard mounted inside (a tmpfs holding a mount
 * of a cgroup hierarchy, as CRIU makes it) is removed whole, and the host's hierarchy is untouched: the walk never
 * enters a mount. Seen in CI: the directory stayed, and the next move with the same id was refused.
 */
class DeleteTreeTest {
  @Test
  void aLeftoverCgroupYardIsDetachedAndTheHostsHierarchyIsLeftAlone() throws Exception {
    HostRequirements.requireRootLinux();
    Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "berth-delete-tree-");
    Path yard = dir.resolve("images/.criu.cgyard.test");
    Path hostGroup = Path.of("/sys/fs/cgroup/pids", "berth-delete-tree-" + dir.getFileName().toString().substring("berth-delete-tree-".length()));
    try {
      Files.createDirectories(yard);
      Files.createDirectories(hostGroup);
      must(List.of("mount", "-t", "tmpfs", "none", yard.toString()));
      Files.createDirectories(yard.resolve("pids"));
      must(List.of("mount", "-t", "cgroup", "-o", "pids", "none", yard.resolve("pids").toString()));
      assertTrue(Files.isDirectory(yard.resolve("pids").resolve(hostGroup.getFileName())), "the yard shows the host's pids hierarchy");

      IsolationSource.deleteTree(dir);

      assertFalse(Files.exists(dir), "the directory is gone");
      assertEquals(List.of(), Rootfs.mountsUnder(dir), "no mount is left below it");
      assertTrue(Files.isDirectory(hostGroup), "the host's cgroup " + hostGroup + " is untouched");
      assertTrue(Files.exists(Path.of("/sys/fs/cgroup/pids/cgroup.procs")));
    } finally {
      for (String m : Rootfs.mountsUnder(dir).stream().sorted((a, b) -> b.length() - a.length()).toList()) {
        Commands.run(List.of("umount", "-l", m), null, Duration.ofSeconds(10));
      }
      Commands.run(List.of("rm", "-rf", "--one-file-system", dir.toString()), null, Duration.ofSeconds(10));
      Files.deleteIfExists(hostGroup);
    }
  }

  private static void must(List<String> argv) {
    Commands.Result r = Commands.run(argv, null, Duration.ofSeconds(10));
    if (!r.ok()) throw new AssertionError(r.describe());
  }
}
