package io.berth.isolation.nativ;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.SaveError;

/**
 * The C library calls the JVM makes itself, with their C names and C argument order (glibc 2.36
 * has pidfd_open and pidfd_send_signal as functions). Public only because jnr-ffi generates the
 * implementation in its own class loader, which cannot implement a package-private interface;
 * nothing outside this package uses it: everything goes through {@link Syscalls}, which reads
 * errno right after each call and throws.
 *
 * <p>Namespace entry (setns, unshare, clone, pivot_root) is deliberately absent: the JVM is
 * multi-threaded and never enters a namespace itself; the berth-nsexec helper does.
 */
public interface LibC {
  @SaveError
  int mount(@In String source, @In String target, @In String filesystemtype, long mountflags, @In String data);

  @SaveError
  int umount2(@In String target, int flags);

  @SaveError
  int kill(int pid, int sig);

  @SaveError
  int pidfd_open(int pid, int flags);

  @SaveError
  int pidfd_send_signal(int pidfd, int sig, Pointer info, int flags);

  @SaveError
  int poll(Pointer fds, long nfds, int timeout);

  @SaveError
  int close(int fd);

  /** epoll_create1(2). */
  @SaveError
  int epoll_create1(int flags);

  /** epoll_ctl(2); {@code event} is one {@code struct epoll_event} laid out by the caller (copied in for the call). */
  @SaveError
  int epoll_ctl(int epfd, int op, int fd, @In byte[] event);

  /** epoll_wait(2) into a native array of {@code struct epoll_event} that the caller keeps reachable. */
  @SaveError
  int epoll_wait(int epfd, Pointer events, int maxevents, int timeout);

  /** eventfd(2) (glibc's wrapper takes the flags of eventfd2). */
  @SaveError
  int eventfd(int initval, int flags);

  @SaveError
  long read(int fd, @jnr.ffi.annotations.Out byte[] buf, long count);

  @SaveError
  long write(int fd, @In byte[] buf, long count);

  @SaveError
  int open(@In String pathname, int flags);

  /** syscall(2), for bpf(2), which glibc has no wrapper for. */
  @SaveError
  long syscall(long number, long cmd, Pointer attr, long size);

  /** ioctl(2) with a pointer argument (or NULL): the buffer is copied in and back out. */
  @SaveError
  int ioctl(int fd, long request, byte[] argp);

  int geteuid();

  String strerrorname_np(int errnum);

  /** syncfs(2): writes out the filesystem holding the open file {@code fd}. */
  @SaveError
  int syncfs(int fd);

  /** statx(2) into a caller's 256-byte {@code struct statx}. */
  @SaveError
  int statx(int dirfd, @In String pathname, int flags, int mask, @jnr.ffi.annotations.Out byte[] statxbuf);

  /** mkfifo(3) (glibc's mknod with S_IFIFO); the mode is reduced by the umask. */
  @SaveError
  int mkfifo(@In String pathname, int mode);

  /** lseek(2): with SEEK_DATA and SEEK_HOLE (since Linux 3.1), where a sparse file's data and holes are. */
  @SaveError
  long lseek(int fd, long offset, int whence);

  /** fallocate(2): with FALLOC_FL_PUNCH_HOLE, frees a range of a file (it then reads as zeros). */
  @SaveError
  int fallocate(int fd, int mode, long offset, long len);
}
