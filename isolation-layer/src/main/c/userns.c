/*
 * User namespaces: root inside a container is an unprivileged id range outside it.
 *
 * A container's user namespace is made once, at prepare, and kept alive by a bind mount of its nsfs
 * file (as its net namespace is), so the layer can make idmapped mounts for it before the init exists
 * and every later start, exec and restore joins the same mapping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsexec.h"

static int write_map(pid_t pid, const char *file, const char *map) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, map, strlen(map));
  int e = errno;
  close(fd);
  errno = e;
  return n == (ssize_t)strlen(map) ? 0 : -1;
}

static int unshare_user(void *arg, const char **step) {
  (void)arg;
  *step = "unshare-user";
  return unshare(CLONE_NEWUSER);
}

/* We, still root of the parent namespace, write the child's maps (user_namespaces(7): a privileged writer in
 * the parent namespace may map any range, and need not deny setgroups). */
static int write_maps(pid_t child, void *map, const char **step) {
  *step = "write-uid-map";
  if (write_map(child, "uid_map", map) < 0) return -1;
  *step = "write-gid-map";
  return write_map(child, "gid_map", map);
}

/* userns PATH BASE COUNT: a new user namespace mapping ids 0..COUNT-1 to BASE..BASE+COUNT-1 (uids and
 * gids alike), bound on PATH. */
int mode_userns(const char *path, const char *base, const char *count) {
  char *end;
  unsigned long b = strtoul(base, &end, 10);
  if (*end || b == 0) die("parse-base", EINVAL, base);
  unsigned long n = strtoul(count, &end, 10);
  if (*end || n == 0) die("parse-count", EINVAL, count);
  char map[64];
  snprintf(map, sizeof map, "0 %lu %lu\n", b, n);
  bind_child_ns(path, "user", unshare_user, write_maps, map);
  return 0;
}

int join_userns(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = setns(fd, CLONE_NEWUSER);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

int become_root(void) {
  /* After joining a user namespace we are still the host's uid 0, which it does not map: take its own
   * root, and drop the host's supplementary groups (they would stay ours, unmapped but real, on every
   * file a container root could reach). setgroups first: it needs CAP_SETGID, which setresuid keeps. */
  if (setgroups(0, NULL) < 0) return -1;
  if (setresgid(0, 0, 0) < 0) return -1;
  if (setresuid(0, 0, 0) < 0) return -1;
  return 0;
}

int same_userns(const char *a, const char *b) {
  struct stat sa, sb;
  if (stat(a, &sa) < 0 || stat(b, &sb) < 0) return -1;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
