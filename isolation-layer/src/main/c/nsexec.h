/*
 * What the parts of berth-nsexec share: the config records read from stdin and the ways to report a
 * failure. Each kernel concern that runs inside the container's setup lives in its own file beside
 * this one and is called from berth-nsexec.c.
 */
#ifndef BERTH_NSEXEC_H
#define BERTH_NSEXEC_H

#include <sys/types.h>

#define HELPER_FAILED 125
#define MAX_RECORDS 1024

/* ---- the config records read from stdin ------------------------------------------------------ */

struct config {
  const char *rootfs, *hostname, *netns, *userns, *exitfile, *log, *pid, *criu, *pidfile, *cwd;
  const char *lxcfs; /* the host's LXCFS mount (lxcfs.c); none: the container sees the host's files */
  int privileged; /* privileged=1: every confinement layer off (the spec asked for it by name), confine.c's too,
                     and the host's view of its resources (no LXCFS, no time namespace) */
  const char *cgroups[16];
  int ncgroups;
  int systemd;        /* systemd=1: the init is systemd (systemd.c): /run, the cgroup tree, masked units */
  const char *notify; /* notify=NAME: an abstract socket the start waits on for READY=1 (systemd.c) */
  int notify_ms;      /* notify-timeout-ms=N: how long it waits */
  const char *cgroupfs[16]; /* cgroupfs=NAME TYPE OPTIONS: the host's hierarchies, mounted inside */
  int ncgroupfs;
  char *etcfiles[16];       /* etc=PATH\nCONTENT: a file the init writes after pivot_root (etcfiles.c) */
  int netcfiles;
  char *args[MAX_RECORDS + 1];
  int nargs;
  char *envs[MAX_RECORDS + 1];
  int nenvs;
};

/* "error STEP ERRNO ARG" on out (start/restore report through a pipe). */
void fail(int out, const char *step, int err, const char *arg);
/* "berth-nsexec: error STEP ERRNO ARG" on stderr, exit HELPER_FAILED. */
void die(const char *step, int err, const char *arg);
/* In the container's init before exec: "STEP ERRNO ARG" (errno read first) on fd, _exit(HELPER_FAILED). */
void init_fail(int fd, const char *step, const char *arg);

/* nsfile.c */
/* Makes a namespace in a child and keeps it alive bound on path (a file it creates): enter() runs in the child
 * (0, or -1 with errno and *step set); then(), when given, runs in the parent once the child is ready (the same
 * contract); the child's /proc/PID/ns/KIND is bound on path. On any failure nothing is left at path and the
 * helper dies naming the step. */
typedef int (*ns_enter_fn)(void *arg, const char **step);
typedef int (*ns_then_fn)(pid_t child, void *arg, const char **step);
void bind_child_ns(const char *path, const char *kind, ns_enter_fn enter, ns_then_fn then, void *arg);

/* userns.c */
int mode_userns(const char *path, const char *base, const char *count);
/* setns into the user namespace bound at path; -1 with errno on failure. */
int join_userns(const char *path);
/* Take the joined user namespace's root (uid/gid 0, no supplementary groups); -1 with errno. */
int become_root(void);
/* 1 when the two nsfs files name the same namespace, 0 when not, -1 on error. */
int same_userns(const char *a, const char *b);

/* devnodes.c */
int mode_devnodes(const char *dir);

/* overlay.c */
int mode_overlay(const char *target, const char *options, const char *fsuid);

/* idmap.c */
int mode_idmap(const char *src, const char *dst, const char *userns);

/* announce.c: gratuitous ARP from IFNAME inside the net namespace at NSFILE; prints "ok MAC ADDRESS". */
int mode_announce(const char *nsfile, const char *ifname);

/* ---- confine.c ------------------------------------------------------------------------------ */

/* Drops the capabilities a container's root does not keep (bounding, inheritable, ambient) and loads
 * the default seccomp filter; call last before execve. 0, or -1 with errno set and *step naming the
 * step that failed. */
int confine(const char **step);

/* mounts.c: in the init, rootfs as cwd, after /proc and /dev: sysfs, masked and read-only paths. */
void setup_proc_sys(struct config *c, int errfd);
/* systemd.c: in the init, after setup_proc_sys: /run, /run/lock, the cgroup tree, the masked units. */
void systemd_mounts(struct config *c, int errfd);
/* systemd.c, in the shim: the notify socket (bound before the init is cloned), then the wait for the init's
 * READY=1 (0), its death or the timeout (-1 with errno and *step). */
int notify_open(const char *name, const char **step);
int notify_await(int fd, pid_t init, int timeout_ms, const char **step);
/* etcfiles.c: in the init, after pivot_root: the etc= files, as the container's root. */
void write_etc_files(struct config *c, int errfd);
/* cgroupns.c: in the init, once it is in its cgroups: its own cgroup namespace. */
void unshare_cgroup_ns(struct config *c, int errfd);

/* ---- the container's own view of its resources (lxcfs.c, timens.c) -------------------------- */

/* In the init, cwd = its rootfs, /proc mounted: bind each LXCFS file over the container's own. */
void lxcfs_mount(int errfd, const char *lxcfs);
/* Mode lxcfs-inject PID DIR: replace a running container's LXCFS binds with binds of DIR's files. */
int mode_lxcfs_inject(const char *pid, const char *lxcfs);
/* In the shim before clone: a new time namespace whose clocks start at the container's start. */
int timens_unshare(const char **step);

#endif
