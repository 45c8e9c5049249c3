package io.berth.isolation.rootfs;

import io.berth.isolation.nativ.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Namespaces kept alive by a bind mount of their nsfs file on a plain file (as ip-netns(8) does), so they
 * outlive the processes in them: a container's net and user namespaces between prepare and start, and
 * after a restore made them anew.
 */
public final class NsFiles {
  private NsFiles() {}

  /** Binds namespace {@code kind} ({@code net}, {@code user}) of process {@code pid} on {@code file}, made here. */
  public static void bind(int pid, String kind, Path file) throws IOException {
    Files.createFile(file);
    Syscalls.mount("/proc/" + pid + "/ns/" + kind, file.toString(), null, Syscalls.MS_BIND, null);
  }

  /** Unmounts and removes {@code file} (the namespace ends with its last process). Idempotent. */
  public static void unbind(Path file) {
    if (Rootfs.isMountPoint(file)) Syscalls.umount2(file.toString(), Syscalls.MNT_DETACH);
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      throw new UncheckedIOException("remove " + file, e);
    }
  }
}
