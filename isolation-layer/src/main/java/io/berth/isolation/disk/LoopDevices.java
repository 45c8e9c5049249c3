package io.berth.isolation.disk;

import io.berth.isolation.nativ.SyscallException;
import io.berth.isolation.nativ.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The loop driver (loop(4)), through its ioctls rather than losetup(8): a tool run costs a few ms each
 * time, the ioctls well under one. A device is set up with {@code LO_FLAGS_AUTOCLEAR}, so the kernel
 * detaches it when its last user goes: after the filesystem on it is unmounted, or, when a mount fails or
 * this process dies between the attach and the mount, when the descriptor {@link #attach} returned is
 * closed. No loop device outlives what uses it, whatever step fails.
 */
public final class LoopDevices {
  private static final long LOOP_CLR_FD = 0x4C01;
  private static final long LOOP_SET_CAPACITY = 0x4C07;
  private static final long LOOP_CONFIGURE = 0x4C0A;
  private static final long LOOP_CTL_GET_FREE = 0x4C82;
  private static final int LO_FLAGS_AUTOCLEAR = 4;
  /** The driver reads and writes the image with O_DIRECT: no second copy in the host's page cache. */
  private static final int LO_FLAGS_DIRECT_IO = 16;
  /** struct loop_config: fd, block_size, struct loop_info64 (232 bytes), 8 reserved u64s. */
  private static final int LOOP_CONFIG_SIZE = 304;
  private static final int LO_FLAGS_OFFSET = 8 + 52;
  private static final int LO_FILE_NAME_OFFSET = 8 + 56;
  private static final int LO_NAME_SIZE = 64;
  /** LOOP_CTL_GET_FREE then LOOP_CONFIGURE races with any other process attaching: the loser retries. */
  private static final int ATTEMPTS = 32;
  private static final Path SYS_BLOCK = Path.of("/sys/block");

  private LoopDevices() {}

  /** An attached loop device and the descriptor that holds it; closing it lets AUTOCLEAR detach it if unused. */
  public record Attached(String device, int fd) implements AutoCloseable {
    @Override
    public void close() {
      Syscalls.close(fd);
    }
  }

  /** Attaches {@code image} (read-write, direct I/O, autoclear) to a free loop device. */
  public static Attached attach(Path image) {
    int file = Syscalls.open(image.toString(), Syscalls.O_RDWR);
    try {
      int control = Syscalls.open("/dev/loop-control", Syscalls.O_RDWR);
      try {
        SyscallException last = null;
        for (int i = 0; i < ATTEMPTS; i++) {
          int n = Syscalls.ioctl(control, LOOP_CTL_GET_FREE, null, "/dev/loop-control");
          String device = "/dev/loop" + n;
          int fd = Syscalls.open(device, Syscalls.O_RDWR);
          try {
            Syscalls.ioctl(fd, LOOP_CONFIGURE, config(file, image, LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO), device + " <- " + image);
            return new Attached(device, fd);
          } catch (SyscallException e) {
            Syscalls.close(fd);
            if (e.errno() != Syscalls.EBUSY) throw e; // another process took it first
            last = e;
          }
        }
        throw last;
      } finally {
        Syscalls.close(control);
      }
    } finally {
      Syscalls.close(file); // the driver holds its own reference to the file
    }
  }

  /** The loop devices whose backing file is {@code image} (also once it was deleted), as the kernel lists them. */
  public static List<String> referencing(Path image) {
    String path = image.toAbsolutePath().normalize().toString();
    String real = realPath(image).orElse(path);
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(SYS_BLOCK)) {
      for (Path dev : s.filter(p -> p.getFileName().toString().startsWith("loop")).sorted().toList()) {
        String backing;
        try {
          backing = Files.readString(dev.resolve("loop/backing_file")).strip();
        } catch (IOException e) {
          continue; // not attached (the file exists only while it is), or detached meanwhile
        }
        if (backing.endsWith(" (deleted)")) backing = backing.substring(0, backing.length() - " (deleted)".length());
        if (backing.equals(path) || backing.equals(real)) out.add("/dev/" + dev.getFileName());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("list " + SYS_BLOCK, e);
    }
    return out;
  }

  /** The loop device already attached to {@code image}, if one is. */
  public static Optional<String> find(Path image) {
    return referencing(image).stream().findFirst();
  }

  /** Detaches {@code device}; one still in use is marked autoclear by the kernel and goes when its last user does. */
  public static void detach(String device) {
    int fd;
    try {
      fd = Syscalls.open(device, Syscalls.O_RDWR);
    } catch (SyscallException e) {
      if (e.errno() == Syscalls.ENOENT) return;
      throw e;
    }
    try {
      Syscalls.ioctl(fd, LOOP_CLR_FD, null, device);
    } catch (SyscallException e) {
      if (e.errno() != 6 /* ENXIO: not attached */) throw e;
    } finally {
      Syscalls.close(fd);
    }
  }

  /** Makes {@code device} take its backing file's new size (after the file grew). */
  public static void refreshCapacity(String device) {
    int fd = Syscalls.open(device, Syscalls.O_RDWR);
    try {
      Syscalls.ioctl(fd, LOOP_SET_CAPACITY, null, device);
    } finally {
      Syscalls.close(fd);
    }
  }

  private static byte[] config(int file, Path image, int flags) {
    ByteBuffer b = ByteBuffer.allocate(LOOP_CONFIG_SIZE).order(ByteOrder.nativeOrder());
    b.putInt(0, file);
    b.putInt(4, 0); // block_size 0: the driver picks the backing device's logical block size
    b.putInt(LO_FLAGS_OFFSET, flags);
    // lo_file_name is only what LOOP_GET_STATUS shows; sysfs backing_file is the kernel's own path.
    byte[] name = image.toString().getBytes(StandardCharsets.UTF_8);
    b.put(LO_FILE_NAME_OFFSET, name, Math.max(0, name.length - (LO_NAME_SIZE - 1)), Math.min(name.length, LO_NAME_SIZE - 1));
    return b.array();
  }

  /** The path the kernel shows: the directory's real path (the file itself may be deleted already). */
  private static Optional<String> realPath(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    try {
      return Optional.of(abs.getParent().toRealPath().resolve(abs.getFileName()).toString());
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
