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
  public static final int EBUSY = 16;
  public static final int O_RDONLY = 0;
  public static final int O_RDWR = 2;
  public static final int O_CLOEXEC = 0x80000;

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

  private static final int AT_FDCWD = -100;
  private static final int AT_NO_AUTOMOUNT = 0x800;
  private static final long STATX_ATTR_MOUNT_ROOT = 0x2000;
  private static final int ENOTDIR = 20;

  /**
   * Whether {@code path} (symbolic links followed, as umount2 follows them) is the root of a mount, from statx's
   * STATX_ATTR_MOUNT_ROOT (Linux 5.8): one system call, where reading mountinfo costs a line per mount on the host
   * (thousands with many containers). False for a path that does not exist; empty when the kernel or filesystem
   * does not report the attribute.
   */
  public static java.util.Optional<Boolean> isMountRoot(String path) {
    byte[] buf = new byte[256];
    if (LIBC.statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, 0, buf) != 0) {
      int errno = RUNTIME.getLastError();
      if (errno == ENOENT || errno == ENOTDIR) return java.util.Optional.of(false);
      throw exception("statx", errno, path);
    }
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.nativeOrder());
    long attributes = b.getLong(8);
    long supported = b.getLong(56);
    if ((supported & STATX_ATTR_MOUNT_ROOT) == 0) return java.util.Optional.empty();
    return java.util.Optional.of((attributes & STATX_ATTR_MOUNT_ROOT) != 0);
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
    // The buffer is freed when its Pointer is collected, and nothing reads fds after the call: without this fence
    // the JIT may let it go while poll still waits on it (seen: EFAULT after a GC on a busy node).
    java.lang.ref.Reference.reachabilityFence(fds);
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

  // ---- epoll(7) and eventfd(2): one thread waits on many descriptors ---------------------------------

  public static final int EPOLLIN = 0x001;
  private static final int EPOLL_CTL_ADD = 1;
  private static final int EPOLL_CTL_DEL = 2;
  private static final int EPOLL_CLOEXEC = O_CLOEXEC;
  private static final int EFD_CLOEXEC = O_CLOEXEC;
  private static final int EFD_NONBLOCK = 04000;
  private static final int EAGAIN = 11;
  /**
   * {@code struct epoll_event} is {@code __attribute__((packed))} on x86-64 only (sys/epoll.h, EPOLL_PACKED): 12
   * bytes, the 64-bit data at offset 4 there; 16 bytes with the data at offset 8 elsewhere (aarch64).
   */
  private static final boolean EPOLL_PACKED = switch (System.getProperty("os.arch")) {
    case "amd64", "x86_64" -> true;
    default -> false;
  };
  private static final int EPOLL_EVENT_SIZE = EPOLL_PACKED ? 12 : 16;
  private static final int EPOLL_DATA_OFFSET = EPOLL_PACKED ? 4 : 8;

  /** A new epoll instance (close-on-exec). The caller closes it. */
  public static int epollCreate() {
    int fd = LIBC.epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) throw error("epoll_create1", "EPOLL_CLOEXEC");
    return fd;
  }

  /** Adds {@code fd} to {@code epfd} for {@code events}; {@code epoll_wait} reports it with {@code data}. */
  public static void epollAdd(int epfd, int fd, int events, long data, String what) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(EPOLL_EVENT_SIZE).order(java.nio.ByteOrder.nativeOrder());
    b.putInt(0, events).putLong(EPOLL_DATA_OFFSET, data);
    if (LIBC.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, b.array()) != 0) throw error("epoll_ctl(EPOLL_CTL_ADD)", what + ", fd " + fd);
  }

  /** Removes {@code fd} from {@code epfd} (before it is closed; the kernel would also drop it at its last close). */
  public static void epollDelete(int epfd, int fd, String what) {
    // Since Linux 2.6.9 the event argument of EPOLL_CTL_DEL may be NULL; a buffer costs nothing and suits older ones.
    if (LIBC.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, new byte[EPOLL_EVENT_SIZE]) != 0) throw error("epoll_ctl(EPOLL_CTL_DEL)", what + ", fd " + fd);
  }

  /** The native array epoll_wait(2) fills: allocated once by the waiting thread and reused for every wait. */
  public static final class EpollEvents {
    private final Pointer buf;
    private final int capacity;

    public EpollEvents(int capacity) {
      this.capacity = capacity;
      this.buf = Memory.allocateDirect(RUNTIME, capacity * EPOLL_EVENT_SIZE, true);
    }

    /** The data given at {@link #epollAdd} of the {@code i}-th event of the last wait. */
    public long data(int i) {
      return buf.getLong((long) i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET);
    }

    /** The ready events (EPOLLIN, EPOLLHUP, EPOLLERR bits) of the {@code i}-th event of the last wait. */
    public int events(int i) {
      return buf.getInt((long) i * EPOLL_EVENT_SIZE);
    }
  }

  /**
   * Waits up to {@code timeoutMillis} (-1: without bound) for events on {@code epfd}; returns how many were put in
   * {@code into} (0 on timeout, and when a signal interrupted the wait: EINTR).
   */
  public static int epollWait(int epfd, EpollEvents into, int timeoutMillis) {
    int n = LIBC.epoll_wait(epfd, into.buf, into.capacity, timeoutMillis);
    // The kernel writes into the buffer while the call waits, reached only through its address: keep the Pointer
    // (and so the memory, freed when it is collected) alive until the call returned (the EFAULT of pollExited).
    java.lang.ref.Reference.reachabilityFence(into);
    if (n >= 0) return n;
    int errno = RUNTIME.getLastError();
    if (errno == EINTR) return 0;
    throw exception("epoll_wait", errno, "epoll fd " + epfd);
  }

  /** A non-blocking, close-on-exec eventfd(2) with count 0: a way to wake a thread waiting in epoll_wait. */
  public static int eventfd() {
    int fd = LIBC.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw error("eventfd", "EFD_CLOEXEC|EFD_NONBLOCK");
    return fd;
  }

  /** Adds 1 to an eventfd's count: it becomes readable. */
  public static void eventfdSignal(int fd) {
    byte[] one = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.nativeOrder()).putLong(0, 1).array();
    // EAGAIN only when the count would overflow (2^64 - 2): it is readable already, which is all a signal means.
    if (LIBC.write(fd, one, 8) != 8 && RUNTIME.getLastError() != EAGAIN) throw error("write", "eventfd " + fd);
  }

  /** Resets a non-blocking eventfd's count to 0 (it is no longer readable); nothing when it was 0 already. */
  public static void eventfdDrain(int fd) {
    if (LIBC.read(fd, new byte[8], 8) != 8 && RUNTIME.getLastError() != EAGAIN) throw error("read", "eventfd " + fd);
  }

  private static final int O_DIRECTORY = 0200000;
  // bpf(2) (linux/bpf.h): commands, the cgroup device program type and attach type.
  private static final int BPF_PROG_LOAD = 5;
  private static final int BPF_PROG_ATTACH = 8;
  private static final int BPF_PROG_TYPE_CGROUP_DEVICE = 15;
  private static final int BPF_CGROUP_DEVICE = 6;
  /** Bytes of union bpf_attr passed: more than either command reads; the kernel wants the tail zero. */
  private static final int BPF_ATTR_SIZE = 144;
  private static final int VERIFIER_LOG_SIZE = 64 * 1024;

  /**
   * Loads a {@code BPF_PROG_TYPE_CGROUP_DEVICE} program ({@code struct bpf_insn[]}) and attaches it to
   * the cgroup v2 directory {@code cgroupDir} with no flags: the only program there, and no
   * descendant can attach one of its own (bpf(2), BPF_PROG_ATTACH). The cgroup keeps the program;
   * attaching again with the same flags replaces it. A verifier refusal carries the verifier's log.
   */
  public static void attachDeviceProgram(String cgroupDir, byte[] instructions) {
    long sysBpf = bpfSyscallNumber();
    Buffers m = new Buffers();
    Pointer insns = m.bytes(instructions);
    Pointer license = m.cString("Apache-2.0");
    Pointer log = m.zeroed(VERIFIER_LOG_SIZE);
    Pointer attr = m.zeroed(BPF_ATTR_SIZE);
    attr.putInt(0, BPF_PROG_TYPE_CGROUP_DEVICE);
    attr.putInt(4, instructions.length / 8);
    attr.putLong(8, insns.address());
    attr.putLong(16, license.address());
    attr.putInt(24, 1); // log_level: the verifier says why it refuses
    attr.putInt(28, VERIFIER_LOG_SIZE);
    attr.putLong(32, log.address());
    long prog = LIBC.syscall(sysBpf, BPF_PROG_LOAD, attr, BPF_ATTR_SIZE);
    if (prog < 0) {
      int errno = RUNTIME.getLastError();
      throw exception("bpf(BPF_PROG_LOAD)", errno, "cgroup device program for " + cgroupDir + ": " + log.getString(0).strip());
    }
    try {
      int dir = LIBC.open(cgroupDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir < 0) throw error("open", cgroupDir);
      try {
        Pointer at = m.zeroed(BPF_ATTR_SIZE);
        at.putInt(0, dir);
        at.putInt(4, (int) prog);
        at.putInt(8, BPF_CGROUP_DEVICE);
        at.putInt(12, 0);
        if (LIBC.syscall(sysBpf, BPF_PROG_ATTACH, at, BPF_ATTR_SIZE) < 0) throw error("bpf(BPF_PROG_ATTACH)", cgroupDir);
      } finally {
        LIBC.close(dir);
      }
    } finally {
      LIBC.close((int) prog); // the cgroup holds its own reference
      // The buffers are reached only through raw addresses in attr: keep them until the last syscall returned.
      java.lang.ref.Reference.reachabilityFence(m);
    }
  }

  private static long bpfSyscallNumber() {
    return switch (System.getProperty("os.arch")) {
      case "amd64", "x86_64" -> 321;
      case "aarch64" -> 280;
      default -> throw new SyscallException("bpf", 0, "ENOSYS", "no bpf(2) number known for " + System.getProperty("os.arch"));
    };
  }

  /** Native buffers for one call; the caller keeps them reachable until it returns (Reference.reachabilityFence). */
  private static final class Buffers {
    private final java.util.List<Pointer> held = new java.util.ArrayList<>();

    Pointer zeroed(int size) {
      Pointer p = Memory.allocateDirect(RUNTIME, size, true);
      held.add(p);
      return p;
    }

    Pointer bytes(byte[] b) {
      Pointer p = zeroed(b.length);
      p.put(0, b, 0, b.length);
      return p;
    }

    Pointer cString(String s) {
      byte[] b = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Pointer p = zeroed(b.length + 1);
      p.put(0, b, 0, b.length);
      return p;
    }
  }

  /** open(2); {@code O_CLOEXEC} is always added (no descriptor of ours leaks into a tool we run). */
  public static int open(String path, int flags) {
    int fd = LIBC.open(path, flags | O_CLOEXEC);
    if (fd < 0) throw error("open", path);
    return fd;
  }

  /**
   * ioctl(2) on {@code fd} with {@code arg} (a struct laid out by the caller in native byte order, copied in
   * and back out; null for none); returns what the call returns (some requests answer with it).
   */
  public static int ioctl(int fd, long request, byte[] arg, String what) {
    int r = LIBC.ioctl(fd, request, arg);
    if (r < 0) throw error("ioctl", what + ", 0x" + Long.toHexString(request));
    return r;
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

  /**
   * syncfs(2) of the filesystem that holds the directory {@code dir}: its dirty data and metadata written
   * out and, on a journalling filesystem, its journal committed, before it returns (errors it reports,
   * such as a failed writeback, are thrown: syncfs(2) returns them since Linux 5.8).
   */
  public static void syncfs(String dir) {
    int fd = LIBC.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw error("open", dir);
    try {
      if (LIBC.syncfs(fd) != 0) throw error("syncfs", dir);
    } finally {
      LIBC.close(fd);
    }
  }

  /** mkfifo(3) at {@code path} with {@code mode} (less the umask); throws when it exists. */
  public static void mkfifo(String path, int mode) {
    if (LIBC.mkfifo(path, mode) != 0) throw error("mkfifo", path);
  }

  // ---- sparse files: lseek(2) SEEK_DATA/SEEK_HOLE, fallocate(2) PUNCH_HOLE ------------------------

  public static final int SEEK_END = 2;
  public static final int SEEK_DATA = 3;
  public static final int SEEK_HOLE = 4;
  public static final int ENXIO = 6;
  public static final int EOPNOTSUPP = 95;
  public static final int O_NOFOLLOW = 0400000;
  private static final int FALLOC_FL_KEEP_SIZE = 1;
  private static final int FALLOC_FL_PUNCH_HOLE = 2;

  /**
   * lseek(2). For {@code SEEK_DATA} and {@code SEEK_HOLE} returns -1 when the kernel answers ENXIO (no data at or
   * after {@code offset}, or {@code offset} at or past the end); a filesystem without its own support reports the
   * whole file as one data extent (the generic implementation), which is still a correct answer.
   */
  public static long lseek(int fd, long offset, int whence, String what) {
    long r = LIBC.lseek(fd, offset, whence);
    if (r >= 0) return r;
    int errno = RUNTIME.getLastError();
    if (errno == ENXIO && (whence == SEEK_DATA || whence == SEEK_HOLE)) return -1;
    throw exception("lseek", errno, what + ", " + offset + ", " + whence);
  }

  /**
   * fallocate(2) with {@code FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE} (the kernel wants both): the range's
   * blocks are freed and it reads as zeros; the file's size is unchanged. EOPNOTSUPP where the filesystem cannot.
   */
  public static void punchHole(int fd, long offset, long length, String what) {
    if (LIBC.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) != 0) {
      throw error("fallocate(PUNCH_HOLE)", what + ", " + offset + ", " + length);
    }
  }
}
