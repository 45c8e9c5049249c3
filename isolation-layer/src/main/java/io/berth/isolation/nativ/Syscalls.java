package io.berth.isolation.nativ;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The JVM's own system calls: loaded once, failing fast when a symbol is missing; each wrapper
 * reads errno on the calling thread right after the call and throws {@link SyscallException}, so
 * no -1 ever leaks past this class.
 */
public final class Syscalls {
  public static final long MS_RDONLY = 1;
  public static final long MS_BIND = 4096;
  public static final int MNT_DETACH = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EINVAL = 22;
  public static final int ENOENT = 2;

  private static final short POLLIN = 0x001;

  private static final LibC LIBC = LibraryLoader.create(LibC.class).failImmediately().load("c");
  private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

  private Syscalls() {}

  public static void mount(String source, String target, String fstype, long flags, String data) {
    if (LIBC.mount(source, target, fstype, flags, data) != 0) throw error("mount", fstype + " on " + target);
  }

  public static void umount2(String target, int flags) {
    if (LIBC.umount2(target, flags) != 0) throw error("umount2", target);
  }

  /** kill(2); returns false when the process is gone (ESRCH), throws on any other error. */
  public static boolean kill(int pid, int signal) {
    if (LIBC.kill(pid, signal) == 0) return true;
    int errno = RUNTIME.getLastError();
    if (errno == ESRCH) return false;
    throw exception("kill", errno, pid + ", " + signal);
  }

  /** A pidfd for the process, or -1 when it is gone (ESRCH). The caller closes it. */
  public static int pidfdOpen(int pid) {
    int fd = LIBC.pidfd_open(pid, 0);
    if (fd >= 0) return fd;
    int errno = RUNTIME.getLastError();
    if (errno == ESRCH) return -1;
    throw exception("pidfd_open", errno, String.valueOf(pid));
  }

  /** Signals through a pidfd, immune to pid reuse; false when the process has already exited. */
  public static boolean pidfdSendSignal(int pidfd, int signal, String what) {
    if (LIBC.pidfd_send_signal(pidfd, signal, null, 0) == 0) return true;
    int errno = RUNTIME.getLastError();
    if (errno == ESRCH) return false;
    throw exception("pidfd_send_signal", errno, what + ", " + signal);
  }

  /**
   * Waits up to {@code timeoutMillis} for a pidfd to become readable, which pidfd_open(2) says
   * happens when the process exits. True when it has exited.
   */
  public static boolean pollExited(int pidfd, int timeoutMillis) {
    Pointer fds = Memory.allocateDirect(RUNTIME, 8);
    fds.putInt(0, pidfd);
    fds.putShort(4, POLLIN);
    fds.putShort(6, (short) 0);
    int n = LIBC.poll(fds, 1, timeoutMillis);
    if (n < 0) {
      int errno = RUNTIME.getLastError();
      if (errno == EINTR) return false;
      throw exception("poll", errno, "pidfd " + pidfd);
    }
    return n > 0;
  }

  public static void close(int fd) {
    if (LIBC.close(fd) != 0) throw error("close", String.valueOf(fd));
  }

  public static boolean isRoot() {
    return LIBC.geteuid() == 0;
  }

  private static SyscallException error(String call, String argument) {
    return exception(call, RUNTIME.getLastError(), argument);
  }

  private static SyscallException exception(String call, int errno, String argument) {
    String name = LIBC.strerrorname_np(errno);
    return new SyscallException(call, errno, name == null ? "errno " + errno : name, argument);
  }
}
