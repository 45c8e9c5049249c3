/*
 * Idmapped mounts (mount_setattr(2), MOUNT_ATTR_IDMAP): the template and the writable layer keep the
 * ids they have on disk (root-owned files stay uid 0), and the container sees them through its user
 * namespace's mapping. So a layer means the same on every host, whatever range that host gave the
 * container, and nothing is ever chowned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

/* idmap SRC DST USERNS: a detached clone of the mount at SRC, idmapped with USERNS's mapping, attached
 * at DST (an existing directory). The clone is private to us until move_mount attaches it. */
int mode_idmap(const char *src, const char *dst, const char *userns) {
  int ns = open(userns, O_RDONLY | O_CLOEXEC);
  if (ns < 0) die("open-userns", errno, userns);
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) die("open_tree", errno, src);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)ns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) die("mount_setattr-idmap", errno, src);
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0) die("move_mount", errno, dst);
  close(tree);
  close(ns);
  return 0;
}
