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

static void write_map(pid_t pid, const char *file, const char *map) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die("open-map", errno, path);
  if (write(fd, map, strlen(map)) != (ssize_t)strlen(map)) die("write-map", errno, path);
  close(fd);
}

/* userns PATH BASE COUNT: a new user namespace mapping ids 0..COUNT-1 to BASE..BASE+COUNT-1 (uids and
 * gids alike), bind-mounted on PATH. A child unshares it and waits; we, still root of the parent
 * namespace, write its maps (user_namespaces(7): a privileged writer in the parent namespace may map any
 * range, and need not deny setgroups), bind its nsfs file, and end it. */
int mode_userns(const char *path, const char *base, const char *count) {
  char *end;
  unsigned long b = strtoul(base, &end, 10);
  if (*end || b == 0) die("parse-base", EINVAL, base);
  unsigned long n = strtoul(count, &end, 10);
  if (*end || n == 0) die("parse-count", EINVAL, count);

  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) die("pipe", errno, "userns");
  pid_t child = fork();
  if (child < 0) die("fork", errno, "userns");
  if (child == 0) {
    close(ready[0]);
    close(done[1]);
    char b1 = unshare(CLONE_NEWUSER) < 0 ? 'e' : 'u';
    if (write(ready[1], &b1, 1) != 1) _exit(1);
    char b2;
    if (read(done[0], &b2, 1) < 0) _exit(1); /* EOF when the parent is done with us */
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char r = 0;
  if (read(ready[0], &r, 1) != 1 || r != 'u') {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    die("unshare-user", r == 'e' ? EPERM : EIO, path);
  }
  char map[64];
  snprintf(map, sizeof map, "0 %lu %lu\n", b, n);
  write_map(child, "uid_map", map);
  write_map(child, "gid_map", map);

  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) die("create", errno, path);
  close(fd);
  char ns[64];
  snprintf(ns, sizeof ns, "/proc/%d/ns/user", (int)child);
  if (mount(ns, path, NULL, MS_BIND, NULL) < 0) {
    int e = errno;
    unlink(path);
    die("bind-userns", e, path);
  }
  close(done[1]);
  waitpid(child, NULL, 0);
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
