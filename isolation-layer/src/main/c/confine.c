/*
 * confine: what every process that enters a container gets last, just before it execs the
 * container's program: a reduced capability bounding set (with empty inheritable and ambient sets)
 * and a seccomp filter that refuses the system calls which reach outside the namespaces.
 *
 * The init runs this in start mode and every exec'd command in exec mode, so nothing enters a
 * container unconfined. A container started with privileged=1 skips it (the caller decides).
 *
 * Both steps need privilege only in the *current* user namespace: PR_CAPBSET_DROP needs
 * CAP_SETPCAP, and a filter loaded without no_new_privs needs CAP_SYS_ADMIN (seccomp(2)). As real
 * root and as uid 0 of the container's own user namespace the helper holds both.
 *
 * Why each capability is kept and each system call refused: isolation-layer/SECURITY-capabilities.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

/*
 * The capabilities a container's root keeps: what a system container's services need (file
 * ownership and modes, switching users, binding low ports, signals, chroot, its own network and
 * mounts, mknod under the devices cgroup, poweroff through its own pid namespace). Every other
 * capability, including those a newer kernel may add, is dropped: the list says what stays.
 */
static const int kept_caps[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID,
    CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST, CAP_NET_ADMIN, CAP_NET_RAW,
    CAP_IPC_LOCK, CAP_IPC_OWNER, CAP_SYS_CHROOT, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_BOOT,
    CAP_MKNOD, CAP_LEASE, CAP_AUDIT_WRITE, CAP_SETFCAP, CAP_CHECKPOINT_RESTORE,
};

static int kept(int cap) {
  for (size_t i = 0; i < sizeof kept_caps / sizeof kept_caps[0]; i++)
    if (kept_caps[i] == cap) return 1;
  return 0;
}

static int drop_capabilities(const char **step) {
  /* PR_CAPBSET_READ answers EINVAL past the kernel's last capability: that ends the walk. */
  for (int cap = 0; cap < 64; cap++) {
    int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in < 0 && errno == EINVAL) break;
    if (in < 0) { *step = "capbset-read"; return -1; }
    if (in == 1 && !kept(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) { *step = "capbset-drop"; return -1; }
  }
  /* Ambient and inheritable capabilities would survive execve outside the bounding set's reach for
   * a non-root program (capabilities(7), "Transformation of capabilities during execve()"). */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) { *step = "cap-ambient-clear"; return -1; }
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  if (syscall(SYS_capget, &hdr, data) < 0) { *step = "capget"; return -1; }
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) data[i].inheritable = 0;
  if (syscall(SYS_capset, &hdr, data) < 0) { *step = "capset-inheritable"; return -1; }
  /* Effective and permitted stay as they are until execve, which gives root exactly the bounding
   * set (root's file capabilities count as full). */
  return 0;
}

/*
 * The system calls refused with EPERM, the errno the kernel itself gives an unprivileged caller,
 * so programs take their "not allowed here" path. Everything else is allowed: a deny list, as
 * LXC's and Incus's defaults, because a system container runs arbitrary distributions whose
 * services use most of the syscall table.
 */
static const int denied_syscalls[] = {
    SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),                         /* replace the host's kernel */
    SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module), /* host kernel code */
    SCMP_SYS(open_by_handle_at),                                             /* any inode, past the root */
    SCMP_SYS(swapon), SCMP_SYS(swapoff),                                     /* the host's swap */
    SCMP_SYS(bpf), SCMP_SYS(perf_event_open),                                /* host-wide kernel surface */
    SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register),
    SCMP_SYS(iopl), SCMP_SYS(ioperm),                                        /* the host's I/O ports */
};

/* The other ABIs a process of the native one can enter the kernel through (a 64-bit x86 process
 * may use int 0x80 with i386 numbers, or x32 numbers): each gets the same rules, so switching ABI
 * bypasses nothing, and 32-bit programs keep working. Any other ABI kills the process. */
static const uint32_t extra_arches[] = {
#if defined(__x86_64__)
    SCMP_ARCH_X86, SCMP_ARCH_X32,
#elif defined(__aarch64__)
    SCMP_ARCH_ARM,
#endif
    0,
};

static int load_seccomp(const char **step) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) { *step = "seccomp-init"; errno = ENOMEM; return -1; }
  int rc = 0;
  /* No no_new_privs: setuid programs (su, sudo, ping with file capabilities) must still work in a
   * system container; loading without it is allowed because we hold CAP_SYS_ADMIN here. */
  if (!rc && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0) *step = "seccomp-attr-nnp";
  if (!rc && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0) *step = "seccomp-attr-badarch";
  /* Nothing is logged to the kernel's audit log: SCMP_FLTATR_CTL_LOG stays off (its default). */
  for (size_t i = 0; !rc && extra_arches[i]; i++)
    if ((rc = seccomp_arch_add(ctx, extra_arches[i])) < 0 && rc != -EEXIST) *step = "seccomp-arch-add";
    else rc = 0;
  for (size_t i = 0; !rc && i < sizeof denied_syscalls / sizeof denied_syscalls[0]; i++)
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied_syscalls[i], 0)) < 0) *step = "seccomp-rule";
  /* A forced unmount of a filesystem shared with the host (NFS, CephFS) aborts its requests for
   * every mount of that superblock, the host's too (LXC's and Incus's reject_force_umount). */
  if (!rc && (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(umount2), 1,
                                    SCMP_A1(SCMP_CMP_MASKED_EQ, MNT_FORCE, MNT_FORCE))) < 0)
    *step = "seccomp-rule-umount";
  if (!rc && (rc = seccomp_load(ctx)) < 0) *step = "seccomp-load";
  seccomp_release(ctx);
  if (rc < 0) { errno = -rc; return -1; }
  return 0;
}

int confine(const char **step) {
  if (drop_capabilities(step) < 0) return -1;
  return load_seccomp(step);
}
