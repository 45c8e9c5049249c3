/*
 * What a container whose init is systemd needs, following systemd's container interface
 * (systemd.io/CONTAINER_INTERFACE): the API filesystems it expects its manager to have mounted, a cgroup
 * tree it may manage, the host-only mount units masked, and a notify socket so its start is reported
 * once it says READY=1 (sd_notify(3)). design.md, "systemd inside", has what was measured here.
 *
 * - /dev bound onto itself, so that it is a mount point (systemd would mount a devtmpfs there otherwise).
 * The mounts run in the init, before pivot_root, with the rootfs as the working directory, inside the
 * container's own user, mount and cgroup namespaces (cgroupns.c ran first):
 * - /run and /run/lock: tmpfs (systemd refuses to boot without a writable /run; /run/lock is where
 *   Debian's lock files go).
 * - /sys/fs/cgroup: a tmpfs holding one mount per hierarchy of the host's layout, each record
 *   "NAME TYPE OPTIONS" (cpu cgroup cpu; systemd cgroup none,name=systemd; unified cgroup2 -). Mounted
 *   inside the cgroup namespace, each shows the container's own cgroup as its root; a v1 mount must
 *   name an existing hierarchy exactly (a non-initial cgroup namespace cannot make a new one), which is
 *   why the host's split of cpu and cpuacct is copied rather than joined. What is writable in them is
 *   the host's decision (the layer chowns only the container's own cgroup directories to its root).
 *   The tmpfs is then made read-only, as on a host.
 * - Masks in /run/systemd/system (a runtime unit directory, systemd.unit(5)): debugfs, tracefs,
 *   configfs, fusectl and hugetlbfs cannot be mounted in a user namespace; their units would fail and
 *   leave the system "degraded".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nsexec.h"

static const char *const masked_units[] = {
    "sys-kernel-debug.mount", "sys-kernel-tracing.mount", "sys-kernel-config.mount",
    "sys-fs-fuse-connections.mount", "dev-hugepages.mount",
};

static void mkdir_or_exists(int errfd, const char *path, mode_t mode) {
  if (mkdir(path, mode) < 0 && errno != EEXIST) init_fail(errfd, "mkdir", path);
}

static void mount_run(int errfd) {
  mkdir_or_exists(errfd, "run", 0755);
  if (mount("tmpfs", "run", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=755,size=64m") < 0)
    init_fail(errfd, "mount-run", "/run");
  mkdir_or_exists(errfd, "run/lock", 01777);
  if (mount("tmpfs", "run/lock", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=5m") < 0)
    init_fail(errfd, "mount-run-lock", "/run/lock");
  mkdir_or_exists(errfd, "run/systemd", 0755);
  mkdir_or_exists(errfd, "run/systemd/system", 0755);
  char path[256];
  for (size_t i = 0; i < sizeof masked_units / sizeof masked_units[0]; i++) {
    snprintf(path, sizeof path, "run/systemd/system/%s", masked_units[i]);
    if (symlink("/dev/null", path) < 0 && errno != EEXIST) init_fail(errfd, "mask-unit", masked_units[i]);
  }
}

static void mount_cgroups(struct config *c, int errfd) {
  const char *top = "sys/fs/cgroup";
  if (mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0)
    init_fail(errfd, "mount-cgroup-tmpfs", "/sys/fs/cgroup");
  for (int i = 0; i < c->ncgroupfs; i++) {
    char rec[512], path[600];
    snprintf(rec, sizeof rec, "%s", c->cgroupfs[i]);
    char *name = strtok(rec, " "), *type = strtok(NULL, " "), *opts = strtok(NULL, " ");
    if (!name || !type || !opts || strchr(name, '/') || name[0] == '.') {
      errno = EINVAL;
      init_fail(errfd, "parse-cgroupfs", c->cgroupfs[i]);
    }
    snprintf(path, sizeof path, "%s/%s", top, name);
    mkdir_or_exists(errfd, path, 0755);
    if (mount("cgroup", path, type, MS_NOSUID | MS_NODEV | MS_NOEXEC, strcmp(opts, "-") ? opts : NULL) < 0)
      init_fail(errfd, "mount-cgroupfs", c->cgroupfs[i]);
  }
  if (mount(NULL, top, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0)
    init_fail(errfd, "remount-cgroup-tmpfs-ro", "/sys/fs/cgroup");
}

void systemd_mounts(struct config *c, int errfd) {
  /* systemd mounts a devtmpfs on /dev unless /dev is a mount point already, and devtmpfs cannot be mounted in a
   * user namespace: the container's /dev (its nodes on its writable layer, see make_dev) bound onto itself is one,
   * with /dev/shm carried along (MS_REC). A bind inside the container's own root needs no external mapping in CRIU. */
  if (mount("dev", "dev", NULL, MS_BIND | MS_REC, NULL) < 0) init_fail(errfd, "bind-dev", "/dev");
  mount_run(errfd);
  mount_cgroups(c, errfd);
}

/* ---- the notify socket (in the shim) -------------------------------------------------------- */

/* An abstract socket (unix(7)): its name lives in the container's network namespace, which the shim has
 * joined, so nothing is mounted for it and CRIU never meets it (only the shim holds it). */
int notify_open(const char *name, const char **step) {
  *step = "notify-socket";
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  size_t len = strlen(name);
  if (len + 1 > sizeof sa.sun_path) { errno = ENAMETOOLONG; close(fd); return -1; }
  memcpy(sa.sun_path + 1, name, len); /* sun_path[0] = '\0': abstract */
  *step = "notify-bind";
  if (bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0) { close(fd); return -1; }
  int on = 1;
  *step = "notify-passcred";
  /* SO_PASSCRED: the kernel says who sent each message, in our pid namespace, so only the init's counts. */
  if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0) { close(fd); return -1; }
  return fd;
}

/* 1 when the message holds the line READY=1 (sd_notify's messages are newline-separated assignments). */
static int says_ready(char *msg) {
  for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n"))
    if (!strcmp(line, "READY=1")) return 1;
  return 0;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int notify_await(int fd, pid_t init, int timeout_ms, const char **step) {
  *step = "pidfd-open";
  int pidfd = (int)syscall(SYS_pidfd_open, init, 0);
  if (pidfd < 0) return -1;
  long deadline = now_ms() + timeout_ms;
  for (;;) {
    long left = deadline - now_ms();
    if (left <= 0) { close(pidfd); *step = "await-ready"; errno = ETIMEDOUT; return -1; }
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    int n = poll(p, 2, (int)left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { close(pidfd); *step = "poll-notify"; return -1; }
    if (p[1].revents) { close(pidfd); *step = "init-exited-before-ready"; errno = ECHILD; return -1; }
    if (!(p[0].revents & POLLIN)) continue;
    char buf[4097];
    union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(struct ucred))]; } control;
    struct iovec iov = {buf, sizeof buf - 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control};
    ssize_t r = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (r < 0) continue; /* EAGAIN: another reader cannot exist; a truncated or odd message is ignored */
    buf[r] = '\0';
    pid_t sender = 0;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
      if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS) {
        struct ucred cred;
        memcpy(&cred, CMSG_DATA(h), sizeof cred);
        sender = cred.pid;
      }
    }
    if (sender == init && says_ready(buf)) { close(pidfd); return 0; }
  }
}
