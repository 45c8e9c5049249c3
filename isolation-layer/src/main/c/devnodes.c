/*
 * The container's /dev: device nodes and the usual links, made once on its writable layer.
 *
 * Made by the host's root at prepare, on the layer itself (not through the overlay): inside a user
 * namespace mknod is refused, and nodes that are plain files of the root filesystem need no --external
 * mappings for CRIU, where bind mounts of the host's nodes would. Which nodes may be opened is the
 * devices cgroup's decision, not these files'.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nsexec.h"

/* devnodes DIR: DIR is the layer's /dev (created if missing); existing entries are left as they are. */
int mode_devnodes(const char *dir) {
  static const struct { const char *name; int major, minor; } nodes[] = {
      {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
  };
  static const char *links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
                                   {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  umask(0);
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) die("mkdir", errno, dir);
  char path[4096];
  for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, nodes[i].name);
    if (mknod(path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0 && errno != EEXIST) die("mknod", errno, path);
  }
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, links[i][1]);
    if (symlink(links[i][0], path) < 0 && errno != EEXIST) die("symlink", errno, path);
  }
  snprintf(path, sizeof path, "%s/shm", dir);
  if (mkdir(path, 01777) < 0 && errno != EEXIST) die("mkdir", errno, path);
  return 0;
}
