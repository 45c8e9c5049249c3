package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.nativ.Syscalls;
import io.berth.isolation.rootfs.Rootfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Mount points found by path: through a symbolic link to the directory that holds them (a data root such as a
 * worktree's {@code .local} linked to another checkout's), as well as by their real path.
 */
class MountPointIT {
  @Test
  void aMountPointIsOneThroughASymbolicLinkToItsParentToo() throws Exception {
    HostTests.requireRootLinux();
    Path dir = Files.createTempDirectory("berth-mountpoint");
    Path real = Files.createDirectory(dir.resolve("real"));
    Path target = Files.createDirectory(real.resolve("target"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), real);
    try {
      assertFalse(Rootfs.isMountPoint(target), "not mounted yet: " + target);
      Syscalls.mount("tmpfs", target.toString(), "tmpfs", 0, "size=1m");
      assertTrue(Rootfs.isMountPoint(target), "by its real path: " + target);
      assertTrue(Rootfs.isMountPoint(link.resolve("target")), "through the link: " + link.resolve("target"));
      assertFalse(Rootfs.isMountPoint(link), "the link's own directory is no mount point");
      assertFalse(Rootfs.isMountPoint(link.resolve("missing")), "a path that does not exist");
      assertEquals(List.of(target.toRealPath().toString()), Rootfs.mountsUnder(link), "mountinfo's real path, asked through the link");
      Rootfs.unmount(link.resolve("target"));
      assertFalse(Rootfs.isMountPoint(target), "unmounted through the link");
    } finally {
      if (Rootfs.isMountPoint(target)) Syscalls.umount2(target.toString(), Syscalls.MNT_DETACH);
      Files.delete(link);
      Files.delete(target);
      Files.delete(real);
      Files.delete(dir);
    }
  }
}
