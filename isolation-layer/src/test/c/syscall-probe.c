/*
 * syscall-probe: ConfinementIT's attacker inside a container. For each name on its command line it
 * makes that system call with arguments chosen so that, when the call is allowed, it fails
 * harmlessly with an errno other than EPERM (or succeeds doing nothing), and prints "NAME ERRNO"
 * (or "NAME OK"). EPERM therefore means a layer refused it. "i386:NAME" makes the call through
 * int 0x80 with the i386 numbers and "x32:NAME" with the x32 numbers, as an attacker switching ABI
 * to slip past a filter written for x86_64 only would.
 *
 * Built by the test with gcc -static and copied into the container's root filesystem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
/* int 0x80 from a 64-bit process enters the kernel's i386 entry; the kernel zeroes r8-r15 on
 * the way back, so they are clobbered. */
static long i386_call(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c)
                   : "memory", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
  if (ret < 0 && ret > -4096) { errno = (int)-ret; return -1; }
  return ret;
}
#define X32_BIT 0x40000000L
#endif

static long call(const char *name) {
  char handle[64] = {0}; /* a struct file_handle with handle_bytes 0: EINVAL when allowed */
  if (!strcmp(name, "finit_module")) return syscall(SYS_finit_module, -1, "", 0);
  if (!strcmp(name, "init_module")) return syscall(SYS_init_module, NULL, 0, "");
  if (!strcmp(name, "delete_module")) return syscall(SYS_delete_module, "berth_no_such_module", O_NONBLOCK);
  if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0x100 /* no such flag */);
  if (!strcmp(name, "kexec_file_load")) return syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0x100);
  if (!strcmp(name, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, -1, handle, O_RDONLY);
  if (!strcmp(name, "umount2_force")) return syscall(SYS_umount2, "/berth-no-such-dir", MNT_FORCE);
  if (!strcmp(name, "umount2")) return syscall(SYS_umount2, "/berth-no-such-dir", 0);
  if (!strcmp(name, "swapon")) return syscall(SYS_swapon, "/berth-no-such-file", 0);
  if (!strcmp(name, "swapoff")) return syscall(SYS_swapoff, "/berth-no-such-file");
  if (!strcmp(name, "bpf")) return syscall(SYS_bpf, 9999 /* no such command */, NULL, 0);
  if (!strcmp(name, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
  if (!strcmp(name, "io_uring_setup")) return syscall(SYS_io_uring_setup, 0, NULL);
  if (!strcmp(name, "getpid")) return syscall(SYS_getpid);
#if defined(__x86_64__)
  /* i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl) */
  if (!strcmp(name, "i386:finit_module")) return i386_call(350, -1, 0, 0);
  if (!strcmp(name, "i386:open_by_handle_at")) return i386_call(342, -1, 0, O_RDONLY);
  if (!strcmp(name, "i386:getpid")) return i386_call(20, 0, 0, 0);
  /* x32 numbers are the x86_64 ones with bit 30 set (arch/x86/entry/syscalls/syscall_64.tbl) */
  if (!strcmp(name, "x32:finit_module")) return syscall(X32_BIT | SYS_finit_module, -1, "", 0);
#endif
  errno = ENOTSUP;
  return -2;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long r = call(argv[i]);
    if (r == -2) printf("%s unknown-probe\n", argv[i]);
    else if (r < 0) printf("%s %s\n", argv[i], strerrorname_np(errno));
    else printf("%s OK\n", argv[i]);
  }
  return 0;
}
