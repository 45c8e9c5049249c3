/*
 * The container's own view of its resources, part 2: its uptime. `uptime`, busybox's and procps'
 * alike, and /proc/uptime read CLOCK_BOOTTIME (sysinfo(2) does too), which no file mount can change.
 * A time namespace (time_namespaces(7), Linux 5.6) can: the shim unshares one before cloning the init
 * and sets its monotonic and boottime offsets to minus the host's monotonic clock, so inside both
 * clocks count from the container's start (boottime keeps the host's suspend time over monotonic,
 * as on a real machine). CRIU dumps the namespace's clocks and restores them with new offsets, so a
 * restored container's uptime goes on where it was (criu/timens.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nsexec.h"

/* In the shim, before clone: children are born into the new namespace (only unshare can make one;
 * its offsets may be written only until a process enters it). 0, or -1 with errno and *step set. */
int timens_unshare(const char **step) {
  struct timespec now;
  if (unshare(CLONE_NEWTIME) < 0) { *step = "unshare-time"; return -1; }
  if (clock_gettime(CLOCK_MONOTONIC, &now) < 0) { *step = "clock-gettime"; return -1; }
  char offsets[128];
  int len = snprintf(offsets, sizeof offsets, "monotonic %lld 0\nboottime %lld 0\n", -(long long)now.tv_sec, -(long long)now.tv_sec);
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) { *step = "open-timens-offsets"; return -1; }
  ssize_t n = write(fd, offsets, (size_t)len);
  int saved = errno;
  close(fd);
  errno = saved;
  if (n != len) { *step = "write-timens-offsets"; return -1; }
  return 0;
}
