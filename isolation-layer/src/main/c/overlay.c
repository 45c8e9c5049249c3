/*
 * The container's overlay root filesystem over idmapped layers.
 *
 * overlayfs does its work on the layers (the work directory, copy-up, whiteouts) with the credentials
 * of whoever mounted it. Over an idmapped upper layer those must be mapped by it: the host's uid 0 is
 * not (the mapping is 0..65535 on disk <-> the container's range), and the kernel refuses with
 * EOVERFLOW. So the mount is made with the container root's host ids as fsuid/fsgid (setfsuid(2)),
 * keeping the host capabilities overlayfs needs for whiteouts and copy-up (setfsuid clears the
 * file-related ones from the effective set; capset(2) raises them again from the permitted set). Files
 * the overlay makes for itself then land on disk as the container's root, i.e. uid 0, like the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

static void raise_effective(void) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) die("capget", errno, "self");
  d[0].effective = d[0].permitted;
  d[1].effective = d[1].permitted;
  if (syscall(SYS_capset, &h, d) < 0) die("capset", errno, "self");
}

/* overlay TARGET OPTIONS FSUID: mount -t overlay with OPTIONS on TARGET, as fsuid/fsgid FSUID. */
int mode_overlay(const char *target, const char *options, const char *fsuid) {
  char *end;
  unsigned long id = strtoul(fsuid, &end, 10);
  if (*end) die("parse-fsuid", EINVAL, fsuid);
  setfsgid((gid_t)id);
  setfsuid((uid_t)id);
  if ((unsigned long)setfsuid((uid_t)-1) != id) die("setfsuid", EPERM, fsuid);
  raise_effective();
  if (mount("overlay", target, "overlay", 0, options) < 0) die("mount-overlay", errno, target);
  return 0;
}
