package io.berth.isolation.disk;

import io.berth.isolation.nativ.Syscalls;
import io.berth.isolation.process.Commands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The ext4 filesystem inside a container's disk image: made with mke2fs, checked with e2fsck, resized
 * with resize2fs (unmounted) or the kernel's online resize (mounted), and its use read with statvfs.
 */
public final class Ext4 {
  /** Block size of the images Berth makes; an adopted image may have another (read from the mount). */
  public static final int BLOCK_SIZE = 4096;
  /** _IOW('f', 16, __u64): grow a mounted ext4 to the given number of blocks. */
  private static final long EXT4_IOC_RESIZE_FS = 0x40086610L;
  private static final int CAP_SYS_RESOURCE = 24;
  private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(10);

  private Ext4() {}

  /**
   * Makes the filesystem on a new sparse {@code image} (measured in the module README):
   * <ul>
   *   <li>{@code -T default}: 4 KiB blocks and one inode per 16 KiB at every size (mke2fs would pick
   *       1 KiB blocks under 512 MiB, a poor start for an image that may grow);
   *   <li>{@code -m 0}: no blocks reserved for uid 0, so the whole limit is the container's (its root is
   *       not the host's uid 0, and this host has no CAP_SYS_RESOURCE to use a reserve anyway);
   *   <li>{@code -O ^resize_inode}: no GDT blocks reserved for growth (4.2 of 4.3 MiB written on a 10 GiB
   *       image); an unmounted resize2fs moves blocks as it needs, and the kernel's online resize turns
   *       to meta_bg when it runs out of descriptor room;
   *   <li>{@code lazy_itable_init=1,lazy_journal_init=1}: inode tables and journal are not written.
   *       Safe here because the file is new and sparse: its holes read as zeros, which is what zeroing
   *       would have written. mke2fs's default discard (a hole punch of the whole file) tells it the
   *       device reads zeros, so it flags every group's inode table as zeroed and the kernel's lazyinit
   *       thread never writes them either: the image stays thin.
   * </ul>
   * The journal stays: after a host crash the container's files come back consistent without a fsck.
   */
  public static void format(Path image) {
    startFormat(image).await();
  }

  /** {@link #format}, started: prepare goes on with its other steps while mke2fs runs (it is most of a disk's cost). */
  public static Formatting startFormat(Path image) {
    return new Formatting(image, Commands.start(List.of(tool("mkfs.ext4"), "-q", "-F", "-T", "default", "-m", "0", "-O", "^resize_inode",
        "-E", "lazy_itable_init=1,lazy_journal_init=1,root_owner=0:0", image.toString()), null, TOOL_TIMEOUT));
  }

  /** A running mke2fs; {@link #await} throws when it failed, and may be called again (an undo waits for it too). */
  public record Formatting(Path image, Commands.Running mkfs) {
    public void await() {
      Commands.Result r = mkfs.await();
      if (!r.ok()) throw new DiskException("make ext4 on " + image + ": " + r.describe());
    }
  }

  /** A forced e2fsck in preen mode; resize2fs refuses an unmounted filesystem not checked since its last mount. */
  public static void check(Path image) {
    Commands.Result r = Commands.run(List.of(tool("e2fsck"), "-f", "-p", image.toString()), null, TOOL_TIMEOUT);
    // e2fsck(8): 0 clean, 1 errors corrected; anything else means it is not fit to resize or mount.
    if (r.timedOut() || (r.exitCode() != 0 && r.exitCode() != 1)) throw new DiskException("check ext4 in " + image + ": " + r.describe());
  }

  /** resize2fs of an unmounted, checked image to {@code bytes} (grow after the file grew, shrink before it shrinks). */
  public static void resizeUnmounted(Path image, long bytes) {
    run(List.of(tool("resize2fs"), image.toString(), (bytes / 1024) + "K"), "resize ext4 in " + image + " to " + bytes + " bytes");
  }

  /** Grows the ext4 mounted at {@code mountPoint} to {@code bytes} (its device must have the room already). */
  public static void growMounted(Path mountPoint, long bytes) {
    long blocks = bytes / blockSize(mountPoint);
    byte[] arg = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(0, blocks).array();
    int fd = Syscalls.open(mountPoint.toString(), Syscalls.O_RDONLY);
    try {
      Syscalls.ioctl(fd, EXT4_IOC_RESIZE_FS, arg, "EXT4_IOC_RESIZE_FS " + mountPoint + " to " + blocks + " blocks");
    } finally {
      Syscalls.close(fd);
    }
  }

  /**
   * Whether this process may grow a mounted ext4: the kernel asks for CAP_SYS_RESOURCE (ext4_ioctl), which
   * some hosts' root lacks (this project's VMs do, see the design brief).
   */
  public static boolean canGrowMounted() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << CAP_SYS_RESOURCE)) != 0;
      }
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException("read /proc/self/status", e);
    }
  }

  /**
   * What the filesystem mounted at {@code mountPoint} holds, in bytes of its image: everything not free
   * (files, directories, and the filesystem's own journal and tables), so a new size below it can never fit.
   */
  public static long bytesInUse(Path mountPoint, long imageBytes) {
    try {
      return Math.max(0, imageBytes - store(mountPoint).getUnallocatedSpace());
    } catch (IOException e) {
      throw new UncheckedIOException("statvfs " + mountPoint, e);
    }
  }

  private static long blockSize(Path mountPoint) {
    try {
      return store(mountPoint).getBlockSize();
    } catch (IOException e) {
      throw new UncheckedIOException("statvfs " + mountPoint, e);
    }
  }

  private static FileStore store(Path mountPoint) {
    try {
      return Files.getFileStore(mountPoint);
    } catch (IOException e) {
      throw new UncheckedIOException("statvfs " + mountPoint, e);
    }
  }

  private static void run(List<String> argv, String what) {
    Commands.Result r = Commands.run(argv, null, TOOL_TIMEOUT);
    if (!r.ok()) throw new DiskException(what + ": " + r.describe());
  }

  /** e2fsprogs live in /sbin and /usr/sbin, which a service's PATH may lack. */
  static String tool(String name) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) return Path.of(dir, name).toString();
    }
    return name;
  }
}
