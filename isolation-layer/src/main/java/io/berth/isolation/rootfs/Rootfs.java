package io.berth.isolation.rootfs;

import io.berth.isolation.nativ.SyscallException;
import io.berth.isolation.nativ.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A container's root filesystem: an overlay of the read-only template (lower) and the container's
 * own writable layer (upper), mounted in the host's mount namespace so CRIU can be pointed at it
 * with {@code --root} and the node can copy the upper layer when the container moves.
 */
public final class Rootfs {
  private Rootfs() {}

  /**
   * Every container's overlay: one st_dev and a unique st_ino for every file, as the kernel's own inotify reports them
   * (overlayfs.rst, "Inode properties"). Its layers lie on different filesystems (the template on the host's, the
   * writable layer on the container's disk image), and without xino a file's stat names its layer's device. CRIU
   * finds an inotify watch's path by that pair (an overlay gives no file handle it can open), so without it a
   * booted systemd, which watches /etc/localtime, cannot be checkpointed ("fsnotify: Can't dump that handle").
   */
  public static final String XINO = "xino=on";

  /** mount -t overlay; the paths must not hold ',' or ':' (overlayfs option syntax), checked in config. */
  public static void mountOverlay(Path lower, Path upper, Path work, Path target) {
    String data = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + "," + XINO;
    Syscalls.mount("overlay", target.toString(), "overlay", 0, data);
  }

  /** Unmounts; a mount still busy after a normal attempt is detached lazily (MNT_DETACH). */
  public static void unmount(Path target) {
    try {
      Syscalls.umount2(target.toString(), 0);
    } catch (SyscallException e) {
      if (e.errnoName().equals("EINVAL") && !isMountPoint(target)) return; // not mounted: nothing to do
      if (e.errnoName().equals("ENOENT")) return;
      if (!e.errnoName().equals("EBUSY")) throw e;
      Syscalls.umount2(target.toString(), Syscalls.MNT_DETACH);
    }
  }

  /**
   * True when {@code path} is a mount point in this (the host's) mount namespace. Asked of the kernel by path, so a
   * data root reached through a symbolic link answers as its real path would (mountinfo lists real paths only).
   */
  public static boolean isMountPoint(Path path) {
    String p = path.toAbsolutePath().normalize().toString();
    java.util.Optional<Boolean> root = Syscalls.isMountRoot(p);
    if (root.isPresent()) return root.get();
    String real = realPath(path);
    for (String m : mountPoints()) if (m.equals(real)) return true;
    return false;
  }

  /** The path with every symbolic link of its existing part resolved, as mountinfo names mount points. */
  private static String realPath(Path path) {
    Path p = path.toAbsolutePath().normalize();
    Path existing = p;
    while (existing != null && !Files.exists(existing)) existing = existing.getParent();
    if (existing == null) return p.toString();
    try {
      return existing.toRealPath().resolve(existing.relativize(p)).toString();
    } catch (IOException e) {
      return p.toString();
    }
  }

  /** The mount points of this process's mount namespace whose path starts with {@code prefix}. */
  public static List<String> mountsUnder(Path prefix) {
    String p = realPath(prefix);
    List<String> out = new ArrayList<>();
    for (String m : mountPoints()) if (m.equals(p) || m.startsWith(p + "/")) out.add(m);
    return out;
  }

  /** Field 5 of /proc/self/mountinfo, with its octal escapes (\040 for a space) decoded. */
  public static List<String> mountPoints() {
    List<String> lines;
    try {
      lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
    } catch (IOException e) {
      throw new UncheckedIOException("read /proc/self/mountinfo", e);
    }
    List<String> points = new ArrayList<>(lines.size());
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f.length > 4) points.add(unescape(f[4]));
    }
    return points;
  }

  private static String unescape(String s) {
    if (s.indexOf('\\') < 0) return s;
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
