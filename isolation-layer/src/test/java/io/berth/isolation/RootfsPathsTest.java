package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.rootfs.RootfsPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Paths resolve as inside the container: absolute links restart at its root, never the host's. */
class RootfsPathsTest {
  @TempDir
  Path root;

  @Test
  void absoluteLinksStayInsideTheRoot() throws Exception {
    Files.createDirectories(root.resolve("bin"));
    Path busybox = root.resolve("bin/busybox");
    Files.writeString(busybox, "#!");
    Files.setPosixFilePermissions(busybox, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(root.resolve("bin/sh"), Path.of("/bin/busybox"));
    Files.createSymbolicLink(root.resolve("bin/passwd"), Path.of("/etc/passwd")); // exists on the host, not here
    Files.createSymbolicLink(root.resolve("bin/up"), Path.of("../../../../etc/passwd"));

    assertEquals(Optional.of(busybox), RootfsPaths.findProgram(root, "/bin/sh", List.of()));
    assertEquals(Optional.of(busybox), RootfsPaths.findProgram(root, "sh", List.of("/usr/bin", "/bin")));
    assertTrue(RootfsPaths.resolve(root, "/bin/passwd").isEmpty(), "a link to a host file finds nothing");
    assertTrue(RootfsPaths.resolve(root, "/bin/up").isEmpty(), "'..' stops at the container's root");
    assertTrue(RootfsPaths.findProgram(root, "nope", List.of("/bin")).isEmpty());
  }
}
