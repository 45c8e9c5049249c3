/*
 * The container's own view of its resources, part 1: LXCFS. LXCFS (a FUSE filesystem the layer runs
 * once per data root, see Lxcfs.java) answers reads of meminfo, cpuinfo, stat... with the figures of
 * the reader's cgroups instead of the host's. Each file it serves is bind-mounted over the container's
 * own /proc (or /sys) file, as LXC's lxc.mount.hook does.
 *
 * Two ways in:
 *   lxcfs_mount    in the container's init, after /proc (and /sys, when mounted) and before pivot_root,
 *                  while the host's LXCFS directory is still reachable by path;
 *   mode_lxcfs_inject  from the host into a running container, after LXCFS was restarted: a FUSE mount
 *                  whose daemon died answers ENOTCONN for good, and so does every bind mount of it
 *                  (they share the dead connection), so the container's binds are replaced by binds of
 *                  the new mount. The new mount is cloned with open_tree(OPEN_TREE_CLONE) while this
 *                  helper is still in the host's mount namespace, then attached inside the container's
 *                  with move_mount(2), which accepts a detached tree from another namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsexec.h"

/* The files LXCFS 5.0 serves that a container has an own copy of. /proc/uptime is left to the time
 * namespace (timens.c): the kernel's /proc/uptime then counts from the container's start too, and
 * CRIU carries its clock across a checkpoint, where LXCFS would count from the restored init. */
static const char *const FILES[] = {
    "proc/cpuinfo", "proc/diskstats", "proc/loadavg", "proc/meminfo", "proc/stat", "proc/swaps", "proc/slabinfo",
    "sys/devices/system/cpu/online",
};
#define NFILES (sizeof FILES / sizeof FILES[0])

void lxcfs_mount(int errfd, const char *lxcfs) {
  char src[4096];
  struct stat st;
  for (size_t i = 0; i < NFILES; i++) {
    snprintf(src, sizeof src, "%s/%s", lxcfs, FILES[i]);
    if (stat(FILES[i], &st) < 0) continue; /* no such file in this container (e.g. /sys not mounted) */
    if (stat(src, &st) < 0) {
      if (errno == ENOENT) continue; /* this LXCFS version does not serve it */
      /* ENOTCONN: LXCFS died since the layer checked it. Start with the host's view; the layer's
       * supervisor restarts LXCFS and injects the mounts (mode_lxcfs_inject). */
      if (errno == ENOTCONN) {
        fprintf(stderr, "berth-nsexec: warning lxcfs %s %s: the container starts with the host's view\n",
                strerrorname_np(errno), src);
        return;
      }
      init_fail(errfd, "stat-lxcfs", src);
    }
    if (mount(src, FILES[i], NULL, MS_BIND, NULL) < 0) init_fail(errfd, "mount-lxcfs", FILES[i]);
  }
}

/* True when the topmost mount at /path (as the process at pid sees it) is an LXCFS one: the last
 * line of its mountinfo with that mount point (mounts are listed in the order they were stacked). */
static int top_is_lxcfs(int mountinfo, const char *path) {
  static char buf[1 << 20];
  ssize_t n, total = 0;
  if (lseek(mountinfo, 0, SEEK_SET) < 0) die("lseek", errno, "mountinfo");
  while ((n = read(mountinfo, buf + total, sizeof buf - 1 - total)) > 0) total += n;
  if (n < 0) die("read", errno, "mountinfo");
  buf[total] = '\0';
  int top = 0;
  char point[4096];
  for (char *line = buf, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    /* mountinfo(5): id parent major:minor root mountpoint options... - fstype source superopts */
    if (sscanf(line, "%*d %*d %*s %*s %4095s", point) != 1 || point[0] != '/' || strcmp(point + 1, path) != 0) continue;
    char *dash = strstr(line, " - ");
    top = dash && !strncmp(dash + 3, "fuse.lxcfs ", 11);
  }
  return top;
}

int mode_lxcfs_inject(const char *pid, const char *lxcfs) {
  char path[4096];
  int trees[NFILES];
  /* Everything from the host's side first: the new LXCFS files, the container's mount namespace,
   * root and mountinfo (after setns the host's paths name nothing). */
  for (size_t i = 0; i < NFILES; i++) {
    snprintf(path, sizeof path, "%s/%s", lxcfs, FILES[i]);
    trees[i] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (trees[i] < 0 && errno != ENOENT) die("open-tree", errno, path);
  }
  snprintf(path, sizeof path, "/proc/%s/ns/mnt", pid);
  int mntns = open(path, O_RDONLY | O_CLOEXEC);
  if (mntns < 0) die("open-ns", errno, path);
  snprintf(path, sizeof path, "/proc/%s/root", pid);
  int root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) die("open-root", errno, path);
  snprintf(path, sizeof path, "/proc/%s/mountinfo", pid);
  int mountinfo = open(path, O_RDONLY | O_CLOEXEC);
  if (mountinfo < 0) die("open-mountinfo", errno, path);

  if (setns(mntns, CLONE_NEWNS) < 0) die("setns", errno, "mnt");
  if (fchdir(root) < 0) die("fchdir", errno, "root");
  if (chroot(".") < 0) die("chroot", errno, "root");

  int injected = 0;
  struct stat st, live;
  for (size_t i = 0; i < NFILES; i++) {
    if (trees[i] < 0) continue;
    if (fstat(trees[i], &live) < 0) die("fstat", errno, FILES[i]);
    int r = stat(FILES[i], &st);
    if (r == 0 && st.st_dev == live.st_dev) continue; /* bound to the live LXCFS already */
    /* A stale LXCFS bind answers ENOTCONN to stat, but is still a path to detach; ENOENT: no such file here. */
    if (r < 0 && errno != ENOTCONN) continue;
    for (int k = 0; k < 16 && top_is_lxcfs(mountinfo, FILES[i]); k++) {
      if (umount2(FILES[i], MNT_DETACH) < 0) die("umount-lxcfs", errno, FILES[i]);
    }
    if (move_mount(trees[i], "", AT_FDCWD, FILES[i], MOVE_MOUNT_F_EMPTY_PATH) < 0) die("move-mount", errno, FILES[i]);
    close(trees[i]);
    injected++;
  }
  printf("ok %d\n", injected); /* how many it bound (0: all were live already) */
  return 0;
}
