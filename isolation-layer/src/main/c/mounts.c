/*
 * /proc and /sys as a confined container sees them, set up by its init before pivot_root, with the
 * container's rootfs as the working directory and its own /proc and /dev already mounted there.
 *
 * - sysfs at /sys, read-only (nosuid, nodev, noexec). The init is in the container's own net
 *   namespace, so /sys/class/net lists its own devices (sysfs tags net directories by namespace).
 * - The OCI runtime-spec's default masked paths: files covered by a bind mount of the container's own
 *   /dev/null (the node on its writable layer, inside its root, which CRIU dumps as it is), directories
 *   by an empty read-only tmpfs. Paths this kernel does not have are skipped.
 * - /proc/bus, /proc/fs, /proc/irq, /proc/sys and /proc/sysrq-trigger read-only, by a bind mount of
 *   each onto itself remounted MS_RDONLY; then /proc/sys/net is bound onto itself again read-write:
 *   those sysctls are the container's own net namespace's (LXC's "proc:mixed" keeps the same hole).
 *
 * What these mounts stop depends on the other layers: with CAP_SYS_ADMIN over the init user
 * namespace a process can unmount them; inside its own user namespace it can unmount them too (they
 * are not locked: this namespace made them), but what lies under them then refuses it on its own
 * (sysctl and sysfs files belong to the host's root, /proc/kcore wants CAP_SYS_RAWIO on the host).
 * They are the first wall, not the only one: see isolation-layer/README.md, "Confinement".
 *
 * runc (libcontainer/rootfs_linux.go, maskPath and readonlyPath) and LXC (proc:mixed, sys:ro) do the
 * same; this file is written from the mount(2) man page, not from their code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nsexec.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572

/* The OCI runtime-spec's defaults (config-linux.md, "maskedPaths"), relative to the rootfs. */
static const char *const masked[] = {
    "proc/acpi",        "proc/asound",      "proc/kcore",        "proc/keys",
    "proc/latency_stats", "proc/timer_list", "proc/timer_stats", "proc/sched_debug",
    "proc/scsi",        "sys/firmware",     "sys/devices/virtual/powercap",
};

/* ... and "readonlyPaths". */
static const char *const readonly[] = {
    "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

/*
 * A mount point the init mounts on must be a real directory of the rootfs. The rootfs is the
 * container's to change between two starts, and mount(2) follows symbolic links: a /proc that is a
 * link to /dev would put the fresh proc under the /dev tmpfs, where "proc/kcore" no longer names it
 * and its mask would be skipped. Checked after mounting: a link stays a link, a mount point is the
 * mounted filesystem's root, so statfs tells which filesystem the name reaches.
 */
static void expect_mounted(int errfd, const char *path, long magic) {
  struct stat st;
  struct statfs fs;
  if (lstat(path, &st) < 0) init_fail(errfd, "lstat", path);
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    init_fail(errfd, "mount-target-not-a-directory", path);
  }
  if (statfs(path, &fs) < 0) init_fail(errfd, "statfs", path);
  if ((long)fs.f_type != magic) {
    errno = EXDEV;
    init_fail(errfd, "mount-target-not-reached", path);
  }
}

/* /sys may be missing from a template (only /proc and /dev are required of one): make it. */
static void ensure_dir(int errfd, const char *path) {
  if (mkdir(path, 0555) < 0 && errno != EEXIST) init_fail(errfd, "mkdir", path);
}

/*
 * The container's /dev/null, as an O_PATH descriptor, for the masks to bind. It lives on the
 * container's writable layer, which its root may change: a "dev/null" that is a link would be followed
 * here, before pivot_root, in the host's tree (an absolute link, or one climbing out with "../", to
 * /etc/shadow would bind the host's file into the container). So "dev" must be a directory and "null"
 * the character device 1:3, neither followed.
 */
static int open_null(int errfd) {
  int dev = open("dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dev < 0) init_fail(errfd, "open-dev", "/dev");
  int fd = openat(dev, "null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) init_fail(errfd, "open-null", "/dev/null");
  close(dev);
  struct stat st;
  if (fstat(fd, &st) < 0) init_fail(errfd, "stat-null", "/dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
    errno = ENODEV;
    init_fail(errfd, "null-not-a-null-device", "/dev/null");
  }
  return fd;
}

static void mask(int errfd, const char *path, const char *null) {
  struct stat st;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT) return; /* this kernel has no such file: nothing to hide */
    init_fail(errfd, "stat-masked-path", path);
  }
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=555") < 0)
      init_fail(errfd, "mask-dir", path);
  } else if (mount(null, path, NULL, MS_BIND, NULL) < 0) {
    init_fail(errfd, "mask-file", path);
  }
}

/*
 * The mount's own nosuid/nodev/noexec, kept in the remount: statvfs(3) reports them as ST_* bits,
 * which have the MS_* values. A remount of a locked mount (one that came from a more privileged mount
 * namespace) that drops any of them is refused with EPERM (mount(2), "EPERM ... locked").
 */
static unsigned long kept_flags(int errfd, const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0) init_fail(errfd, "statvfs", path);
  return sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/* Bind path onto itself, then remount that bind read-only or read-write (MS_REMOUNT|MS_BIND changes
 * the per-mount flags only, never the filesystem's). */
static void rebind(int errfd, const char *path, unsigned long rdonly, const char *step) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) init_fail(errfd, step, path);
  if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | rdonly | kept_flags(errfd, path), NULL) < 0)
    init_fail(errfd, step, path);
}

void setup_proc_sys(struct config *c, int errfd) {
  ensure_dir(errfd, "sys");
  if (c->privileged) {
    /* The baseline the escape tests compare against: sysfs writable, nothing masked. */
    if (mount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) init_fail(errfd, "mount-sys", "/sys");
    return;
  }
  if (mount("sysfs", "sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    init_fail(errfd, "mount-sys", "/sys");
  expect_mounted(errfd, "proc", PROC_SUPER_MAGIC);
  expect_mounted(errfd, "sys", SYSFS_MAGIC);
  for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) {
    if (access(readonly[i], F_OK) < 0 && errno == ENOENT) continue; /* e.g. no CONFIG_MAGIC_SYSRQ */
    rebind(errfd, readonly[i], MS_RDONLY, "readonly-path");
  }
  /* Inside the read-only /proc/sys: its own net namespace's sysctls, writable again. */
  rebind(errfd, "proc/sys/net", 0, "writable-net-sysctls");
  int null = open_null(errfd);
  char source[64];
  snprintf(source, sizeof source, "proc/self/fd/%d", null); /* through our own proc */
  for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) mask(errfd, masked[i], source);
  close(null);
}
