/*
 * What the parts of berth-nsexec share: the config records read from stdin and the ways to report a
 * failure. Each kernel concern that runs inside the container's setup lives in its own file beside
 * this one and is called from berth-nsexec.c.
 */
#ifndef BERTH_NSEXEC_H
#define BERTH_NSEXEC_H

#define HELPER_FAILED 125
#define MAX_RECORDS 1024

/* ---- the config records read from stdin ------------------------------------------------------ */

struct config {
  const char *rootfs, *hostname, *netns, *exitfile, *log, *pid, *criu, *pidfile, *cwd;
  const char *cgroups[16];
  int ncgroups;
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

#endif
