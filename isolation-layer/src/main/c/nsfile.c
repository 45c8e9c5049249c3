/*
 * Namespaces kept alive by a bind mount of their nsfs file (as ip-netns(8) does), made for a container
 * before any of its processes exists: its user namespace and its net namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsexec.h"

struct ns_report {
  int err;
  char step[32];
};

static void undo(pid_t child, const char *path) {
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  unlink(path);
}

void bind_child_ns(const char *path, const char *kind, ns_enter_fn enter, ns_then_fn then, void *arg) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (fd < 0) die("create", errno, path);
  close(fd);
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) { unlink(path); die("pipe", errno, path); }
  pid_t child = fork();
  if (child < 0) { unlink(path); die("fork", errno, path); }
  if (child == 0) {
    /* The child makes the namespace and stays in it until the parent has bound it (EOF on done). */
    close(ready[0]);
    close(done[1]);
    struct ns_report rep = {0, ""};
    const char *step = "enter";
    if (enter(arg, &step) < 0) {
      rep.err = errno;
      snprintf(rep.step, sizeof rep.step, "%s", step);
    }
    if (write(ready[1], &rep, sizeof rep) != (ssize_t)sizeof rep) _exit(1);
    char b;
    if (read(done[0], &b, 1) < 0) _exit(1);
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  struct ns_report rep;
  if (read(ready[0], &rep, sizeof rep) != (ssize_t)sizeof rep) { undo(child, path); die("child", EIO, path); }
  if (rep.err) { undo(child, path); die(rep.step, rep.err, path); }
  const char *step = NULL;
  if (then && then(child, arg, &step) < 0) {
    int e = errno;
    undo(child, path);
    die(step, e, path);
  }
  char ns[64];
  snprintf(ns, sizeof ns, "/proc/%d/ns/%s", (int)child, kind);
  if (mount(ns, path, NULL, MS_BIND, NULL) < 0) {
    int e = errno;
    undo(child, path);
    die("bind-ns", e, path);
  }
  close(done[1]);
  waitpid(child, NULL, 0);
}
