/*
 * berth-nsexec: the small single-threaded helper that does for the Berth isolation layer what a
 * multi-threaded JVM must not do itself: unshare/clone into new namespaces, pivot_root, setns.
 * See README.md beside this file for why it exists and how it is fed.
 *
 * Modes (argv[1]):
 *   start    stdin: NUL-separated key=value records. Forks a shim (setsid, no fds from the JVM),
 *            which clones the container's init into new pid, mount, uts and ipc namespaces (joining
 *            the prepared net namespace first), puts it in its cgroups, and waits for it. Prints
 *            "ok <init-pid> <shim-pid>" once the init has exec'd, or "error <step> <errno> <arg>".
 *   restore  stdin: records. Forks a shim that is a child subreaper and runs `criu restore
 *            --restore-detached`; the restored init is re-parented to the shim, which waits for it.
 *   exec     stdin: records. Joins a running container's namespaces and cgroups and runs a command;
 *            its stdio are this helper's; exits with its status (128+signal when killed).
 *   lxcfs-inject  argv[2]=init pid argv[3]=LXCFS mount: replaces a running container's LXCFS bind
 *            mounts with binds of that mount (after LXCFS was restarted); prints "ok N".
 *   netns    argv[2]=path: creates a new net namespace and bind-mounts it on path.
 *   netrun   argv[2]=nsfile argv[3..]=command: runs command inside the net namespace at nsfile.
 *
 * Exit codes: 0 ok; 125 the helper itself failed (a line "berth-nsexec: error <step> <errno> <arg>"
 * on stderr or stdout says where); exec mode passes the command's own status through.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsexec.h"

void fail(int out, const char *step, int err, const char *arg) {
  dprintf(out, "error %s %s %s\n", step, err ? strerrorname_np(err) : "none", arg ? arg : "-");
}

void die(const char *step, int err, const char *arg) {
  fprintf(stderr, "berth-nsexec: error %s %s %s\n", step, err ? strerrorname_np(err) : "none", arg ? arg : "-");
  exit(HELPER_FAILED);
}

static char *read_all(int fd, size_t *len) {
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap + 1);
  if (!buf) die("read-config", ENOMEM, "stdin");
  for (;;) {
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
      if (!buf) die("read-config", ENOMEM, "stdin");
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read-config", errno, "stdin");
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

static void parse_config(struct config *c) {
  size_t len;
  char *buf = read_all(0, &len);
  memset(c, 0, sizeof(*c));
  for (size_t off = 0; off < len;) {
    char *rec = buf + off;
    off += strlen(rec) + 1;
    char *eq = strchr(rec, '=');
    if (!eq) die("parse-config", EINVAL, rec);
    *eq = '\0';
    const char *k = rec;
    char *v = eq + 1;
    if (!strcmp(k, "rootfs")) c->rootfs = v;
    else if (!strcmp(k, "hostname")) c->hostname = v;
    else if (!strcmp(k, "netns")) c->netns = v;
    else if (!strcmp(k, "userns")) c->userns = v;
    else if (!strcmp(k, "privileged")) c->privileged = !strcmp(v, "1");
    else if (!strcmp(k, "exitfile")) c->exitfile = v;
    else if (!strcmp(k, "log")) c->log = v;
    else if (!strcmp(k, "pid")) c->pid = v;
    else if (!strcmp(k, "criu")) c->criu = v;
    else if (!strcmp(k, "pidfile")) c->pidfile = v;
    else if (!strcmp(k, "cwd")) c->cwd = v;
    else if (!strcmp(k, "lxcfs")) c->lxcfs = v;
    else if (!strcmp(k, "systemd")) c->systemd = !strcmp(v, "1");
    else if (!strcmp(k, "notify")) c->notify = v;
    else if (!strcmp(k, "notify-timeout-ms")) c->notify_ms = atoi(v);
    else if (!strcmp(k, "cgroupfs")) {
      if (c->ncgroupfs == 16) die("parse-config", E2BIG, "cgroupfs");
      c->cgroupfs[c->ncgroupfs++] = v;
    }
    else if (!strcmp(k, "etc")) {
      if (c->netcfiles == 16) die("parse-config", E2BIG, "etc");
      c->etcfiles[c->netcfiles++] = v;
    }
    else if (!strcmp(k, "cgroup")) {
      if (c->ncgroups == 16) die("parse-config", E2BIG, "cgroup");
      c->cgroups[c->ncgroups++] = v;
    } else if (!strcmp(k, "arg")) {
      if (c->nargs == MAX_RECORDS) die("parse-config", E2BIG, "arg");
      c->args[c->nargs++] = v;
    } else if (!strcmp(k, "env")) {
      if (c->nenvs == MAX_RECORDS) die("parse-config", E2BIG, "env");
      c->envs[c->nenvs++] = v;
    } else die("parse-config", EINVAL, k);
  }
  if (c->nargs == 0) die("parse-config", EINVAL, "no arg records");
}

/* ---- small helpers ------------------------------------------------------------------------- */

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int join_cgroups(struct config *c, pid_t pid, const char **failed) {
  char num[32];
  snprintf(num, sizeof num, "%d", (int)pid);
  for (int i = 0; i < c->ncgroups; i++) {
    if (write_file(c->cgroups[i], num) < 0) {
      *failed = c->cgroups[i];
      return -1;
    }
  }
  return 0;
}

/* The exit status as the shim records it: "exited N" or "signaled N"; written to a temp file and
 * renamed, so a reader never sees half of it. */
static void record_exit(const char *exitfile, int status, int systemd) {
  if (!exitfile) return;
  char tmp[4096], text[64];
  snprintf(tmp, sizeof tmp, "%s.tmp", exitfile);
  if (WIFEXITED(status)) snprintf(text, sizeof text, "exited %d\n", WEXITSTATUS(status));
  /* A pid namespace's init that calls reboot(2) is killed by the kernel: SIGINT for halt and power-off, SIGHUP
   * for restart (pid_namespaces(7)). From a systemd init that is its own shutdown finished, said as such. */
  else if (systemd && WTERMSIG(status) == SIGINT) snprintf(text, sizeof text, "signaled %d poweroff\n", SIGINT);
  else if (systemd && WTERMSIG(status) == SIGHUP) snprintf(text, sizeof text, "signaled %d reboot\n", SIGHUP);
  else snprintf(text, sizeof text, "signaled %d\n", WTERMSIG(status));
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  /* No fsync: the status only matters while this host lives (a crash takes the container too). */
  if (write(fd, text, strlen(text)) < 0) { /* nothing better to do in a shim */ }
  close(fd);
  rename(tmp, exitfile);
}

/* The shim must hold nothing of the JVM's: /dev/null on 0 and 1, its log (or /dev/null) on 2,
 * and only the descriptors it names kept above that. */
static void detach_stdio(const char *log) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    close(null);
  }
  int err = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
  if (err < 0) err = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (err >= 0) {
    dup2(err, 2);
    close(err);
  }
}

/* Close every descriptor above 2 except keep1/keep2 (-1 for none). CRIU cannot dump an init that
 * holds descriptors leaked from its launcher, and the JVM's must never reach a container. */
static void close_fds_except(int keep1, int keep2) {
  int lo = 3;
  int keep[2] = {keep1 < keep2 ? keep1 : keep2, keep1 < keep2 ? keep2 : keep1};
  for (int i = 0; i < 2; i++) {
    if (keep[i] < lo) continue;
    if (keep[i] > lo) close_range(lo, keep[i] - 1, 0);
    lo = keep[i] + 1;
  }
  close_range(lo, ~0U, 0);
}

/* ---- start: the container's init ---------------------------------------------------------- */

struct init_args {
  struct config *c;
  int go_read;  /* the shim writes one byte once the init is in its cgroups */
  int err_write; /* close-on-exec: a message here means the init failed before exec */
};

void init_fail(int fd, const char *step, const char *arg) {
  int err = errno;
  dprintf(fd, "%s %s %s", step, strerrorname_np(err) ? strerrorname_np(err) : "unknown", arg ? arg : "-");
  _exit(HELPER_FAILED);
}

static void make_dev(int errfd) {
  /* The device nodes and /dev's links live on the container's writable layer, made by the layer at
   * prepare as the host's root: inside a user namespace mknod is refused (and should be), and nodes in
   * the root filesystem need no --external mappings for CRIU, where bind mounts of host nodes would.
   * Only /dev/shm is a fresh tmpfs per boot. */
  if (mkdir("dev/shm", 01777) < 0 && errno != EEXIST) init_fail(errfd, "mkdir", "dev/shm");
  if (mount("tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=1777,size=65536k") < 0)
    init_fail(errfd, "mount-shm", "/dev/shm");
}

static int container_init(void *arg) {
  struct init_args *a = arg;
  struct config *c = a->c;
  int errfd = a->err_write;
  char b;

  /* Wait until the shim has put us in our cgroups, so nothing we do is unaccounted. */
  if (read(a->go_read, &b, 1) != 1) init_fail(errfd, "wait-for-shim", "pipe");
  close(a->go_read);
  if (c->userns && become_root() < 0) init_fail(errfd, "become-root", c->userns);
  unshare_cgroup_ns(c, errfd);

  /* Our own session: CRIU refuses a tree whose session leader lives outside it. */
  if (setsid() < 0) init_fail(errfd, "setsid", "-");
  /* Nothing we mount may propagate back to the host (mount_namespaces(7)). */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) init_fail(errfd, "make-private", "/");
  if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) init_fail(errfd, "sethostname", c->hostname);
  /* In a user namespace every mount copied from the host is locked to its parent, and pivot_root
   * refuses a locked new root: bind the rootfs onto itself, a mount of our own (runc does the same). */
  if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) init_fail(errfd, "bind-rootfs", c->rootfs);
  if (chdir(c->rootfs) < 0) init_fail(errfd, "chdir", c->rootfs);
  if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) init_fail(errfd, "mount-proc", "/proc");
  make_dev(errfd);
  setup_proc_sys(c, errfd);
  /* After /proc and /sys (setup_proc_sys), before pivot_root hides the host's LXCFS directory. */
  if (c->lxcfs && !c->privileged) lxcfs_mount(errfd, c->lxcfs);
  if (c->systemd) systemd_mounts(c, errfd);
  /* pivot_root(".", ".") stacks the old root on top of the new one; unmounting "." then drops it,
   * so no host path stays reachable (pivot_root(2), "new_root and put_old may be the same"). */
  if (syscall(SYS_pivot_root, ".", ".") < 0) init_fail(errfd, "pivot_root", c->rootfs);
  if (umount2(".", MNT_DETACH) < 0) init_fail(errfd, "umount-old-root", "/");
  if (chdir("/") < 0) init_fail(errfd, "chdir", "/");
  write_etc_files(c, errfd);

  int null = open("/dev/null", O_RDWR);
  if (null < 0) init_fail(errfd, "open", "/dev/null");
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  if (null > 2) close(null);

  c->args[c->nargs] = NULL;
  c->envs[c->nenvs] = NULL;
  /* Last, so the setup above still had every capability and system call it needs. */
  const char *step;
  if (!c->privileged && confine(&step) < 0) init_fail(errfd, step, c->args[0]);
  execve(c->args[0], c->args, c->envs);
  init_fail(errfd, "exec", c->args[0]);
  return HELPER_FAILED;
}

static int mode_start(void) {
  struct config c;
  parse_config(&c);
  if (!c.rootfs) die("parse-config", EINVAL, "rootfs missing");

  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) < 0) die("pipe", errno, "status");
  pid_t shim = fork();
  if (shim < 0) die("fork", errno, "shim");
  if (shim == 0) {
    /* The shim: its own session, no descriptor of the JVM's, parent of the init. Once the first
     * helper exits it is re-parented to init (or a subreaper), so the JVM's death never reaches it. */
    int out = status_pipe[1];
    close(status_pipe[0]);
    setsid();
    detach_stdio(c.log);
    close_fds_except(out, -1);

    /* The user namespace first: the net namespace and every namespace the clone below makes are owned
     * by it, so the container's root has its capabilities over them and none over the host's. The shim
     * itself keeps the host's uid 0 (it writes the exit file and the cgroup files as that). */
    if (c.userns && join_userns(c.userns) < 0) { fail(out, "setns-user", errno, c.userns); _exit(HELPER_FAILED); }
    if (c.netns) {
      int fd = open(c.netns, O_RDONLY | O_CLOEXEC);
      if (fd < 0) { fail(out, "open-netns", errno, c.netns); _exit(HELPER_FAILED); }
      if (setns(fd, CLONE_NEWNET) < 0) { fail(out, "setns-net", errno, c.netns); _exit(HELPER_FAILED); }
      close(fd);
    }
    int go[2], err[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) { fail(out, "pipe", errno, "init"); _exit(HELPER_FAILED); }
    /* Bound in the container's net namespace before the init exists, so no process of its can take the name first. */
    int notify = -1;
    const char *nstep;
    if (c.notify && (notify = notify_open(c.notify, &nstep)) < 0) { fail(out, nstep, errno, c.notify); _exit(HELPER_FAILED); }

    struct init_args a = {&c, go[0], err[1]};
    size_t stack_size = 256 * 1024;
    char *stack = malloc(stack_size);
    if (!stack) { fail(out, "malloc", ENOMEM, "stack"); _exit(HELPER_FAILED); }
    const char *step;
    if (!c.privileged && timens_unshare(&step) < 0) { fail(out, step, errno, "time"); _exit(HELPER_FAILED); }
    int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
    if (!c.netns) flags |= CLONE_NEWNET;
    pid_t init = clone(container_init, stack + stack_size, flags, &a);
    if (init < 0) { fail(out, "clone", errno, "init"); _exit(HELPER_FAILED); }
    close(go[0]);
    close(err[1]);

    const char *failed = NULL;
    if (join_cgroups(&c, init, &failed) < 0) {
      fail(out, "join-cgroup", errno, failed);
      kill(init, SIGKILL);
      waitpid(init, NULL, 0);
      _exit(HELPER_FAILED);
    }
    if (write(go[1], "g", 1) != 1) { fail(out, "signal-init", errno, "pipe"); _exit(HELPER_FAILED); }
    close(go[1]);

    /* The init's close-on-exec pipe reaches EOF when exec succeeds; a message means it failed. */
    char msg[512];
    ssize_t n, total = 0;
    while ((n = read(err[0], msg + total, sizeof msg - 1 - total)) > 0) total += n;
    msg[total] = '\0';
    close(err[0]);
    if (total > 0) {
      int status;
      waitpid(init, &status, 0);
      dprintf(out, "error %s\n", msg);
      _exit(HELPER_FAILED);
    }
    /* A systemd init: started once it says so. One that dies first or stays silent past the bound is not
     * started: it is killed, so a failed start leaves nothing running. */
    if (notify >= 0) {
      if (notify_await(notify, init, c.notify_ms > 0 ? c.notify_ms : 30000, &nstep) < 0) {
        int err = errno, status = 0;
        kill(init, SIGKILL);
        while (waitpid(init, &status, 0) < 0 && errno == EINTR) {}
        /* How it ended says why (an exit code of systemd's, or the signal that killed it). */
        char why[64];
        if (WIFEXITED(status)) snprintf(why, sizeof why, "READY=1(init-exited-%d)", WEXITSTATUS(status));
        else snprintf(why, sizeof why, "READY=1(init-signaled-%d)", WTERMSIG(status));
        fail(out, nstep, err, why);
        _exit(HELPER_FAILED);
      }
      close(notify);
    }
    dprintf(out, "ok %d %d\n", (int)init, (int)getpid());
    close(out);

    int status;
    while (waitpid(init, &status, 0) < 0 && errno == EINTR) {}
    record_exit(c.exitfile, status, c.systemd);
    _exit(0);
  }

  close(status_pipe[1]);
  char line[1024];
  ssize_t n, total = 0;
  while ((n = read(status_pipe[0], line + total, sizeof line - 1 - total)) > 0) total += n;
  line[total] = '\0';
  if (total == 0) {
    int status;
    waitpid(shim, &status, 0);
    printf("error shim none exited-without-a-word\n");
    return HELPER_FAILED;
  }
  fputs(line, stdout);
  if (strncmp(line, "ok ", 3) != 0) {
    waitpid(shim, NULL, 0);
    return HELPER_FAILED;
  }
  return 0;
}

/* ---- restore: a subreaper shim around `criu restore --restore-detached` --------------------- */

static int mode_restore(void) {
  struct config c;
  parse_config(&c);
  if (!c.criu || !c.pidfile) die("parse-config", EINVAL, "criu and pidfile are needed");

  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) < 0) die("pipe", errno, "status");
  pid_t shim = fork();
  if (shim < 0) die("fork", errno, "shim");
  if (shim == 0) {
    int out = status_pipe[1];
    close(status_pipe[0]);
    setsid();
    detach_stdio(c.log);
    close_fds_except(out, -1);
    /* CRIU's restored root task is orphaned when criu exits; as a child subreaper we become its
     * parent (prctl(2) PR_SET_CHILD_SUBREAPER), so we can wait for it and record how it ended. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) { fail(out, "prctl-subreaper", errno, "-"); _exit(HELPER_FAILED); }
    pid_t criu = fork();
    if (criu < 0) { fail(out, "fork", errno, "criu"); _exit(HELPER_FAILED); }
    if (criu == 0) {
      char *argv[MAX_RECORDS + 3];
      argv[0] = (char *)c.criu;
      argv[1] = "restore";
      for (int i = 0; i < c.nargs; i++) argv[i + 2] = c.args[i];
      argv[c.nargs + 2] = NULL;
      execv(c.criu, argv);
      _exit(127);
    }
    int status;
    while (waitpid(criu, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      dprintf(out, "error criu-restore %s %d\n", WIFEXITED(status) ? "exit" : "signal",
              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
      _exit(HELPER_FAILED);
    }
    char buf[32] = {0};
    int fd = open(c.pidfile, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0) { fail(out, "read-pidfile", errno, c.pidfile); _exit(HELPER_FAILED); }
    close(fd);
    pid_t init = (pid_t)atoi(buf);
    dprintf(out, "ok %d %d\n", (int)init, (int)getpid());
    close(out);
    for (;;) {
      pid_t p = waitpid(-1, &status, 0);
      if (p < 0 && errno == EINTR) continue;
      if (p < 0) break; /* ECHILD: nothing left, the init is gone without a status we saw */
      if (p == init) {
        record_exit(c.exitfile, status, 0);
        break;
      }
    }
    _exit(0);
  }
  close(status_pipe[1]);
  char line[1024];
  ssize_t n, total = 0;
  while ((n = read(status_pipe[0], line + total, sizeof line - 1 - total)) > 0) total += n;
  line[total] = '\0';
  if (total == 0) {
    waitpid(shim, NULL, 0);
    printf("error shim none exited-without-a-word\n");
    return HELPER_FAILED;
  }
  fputs(line, stdout);
  if (strncmp(line, "ok ", 3) != 0) {
    waitpid(shim, NULL, 0);
    return HELPER_FAILED;
  }
  return 0;
}

/* ---- exec: run a command in a running container ------------------------------------------- */

static pid_t exec_child = -1;

static void forward_kill(int sig) {
  (void)sig;
  if (exec_child > 0) kill(exec_child, SIGKILL);
}

static int mode_exec(void) {
  struct config c;
  parse_config(&c);
  if (!c.pid) die("parse-config", EINVAL, "pid missing");

  /* Open every namespace and the root before joining any: after setns(mnt), /proc is the
   * container's and the host pid names nothing there. */
  /* The user namespace first (the others are owned by it), and only when it is not ours: a privileged
   * container shares the host's, and setns into one's own user namespace is EINVAL. The cgroup
   * namespace after the cgroups, as the init unshared it after the shim had put it in them. */
  char path[128];
  snprintf(path, sizeof path, "/proc/%s/ns/user", c.pid);
  int same = same_userns(path, "/proc/self/ns/user");
  if (same < 0) die("stat-userns", errno, path);
  int userfd = -1;
  if (!same) {
    userfd = open(path, O_RDONLY | O_CLOEXEC);
    if (userfd < 0) die("open-ns", errno, path);
  }
  const char *kinds[] = {"ipc", "uts", "net", "pid", "time", "mnt", "cgroup"};
  const int types[] = {CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWNS,
                       CLONE_NEWCGROUP};
  enum { NKINDS = sizeof kinds / sizeof kinds[0] };
  int fds[NKINDS];
  for (int i = 0; i < NKINDS; i++) {
    snprintf(path, sizeof path, "/proc/%s/ns/%s", c.pid, kinds[i]);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die("open-ns", errno, path);
  }
  snprintf(path, sizeof path, "/proc/%s/root", c.pid);
  int rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die("open-root", errno, path);

  /* The command joins the container's cgroups, not this helper: the helper stays outside the container's pid
   * namespace, and a process in its cgroups that it cannot name reads there as pid 0, which systemd inside takes
   * for a broken tree ("systemctl status": "Failed to dump process list ... Input/output error"). The files are
   * opened here, while the host's paths still name them; the child writes "0" (itself) into each. */
  int cgfds[16];
  for (int i = 0; i < c.ncgroups; i++) {
    cgfds[i] = open(c.cgroups[i], O_WRONLY | O_CLOEXEC);
    if (cgfds[i] < 0) die("join-cgroup", errno, c.cgroups[i]);
  }
  if (userfd >= 0) {
    if (setns(userfd, CLONE_NEWUSER) < 0) die("setns", errno, "user");
    close(userfd);
  }
  for (int i = 0; i < NKINDS; i++) {
    if (setns(fds[i], types[i]) < 0) die("setns", errno, kinds[i]);
    close(fds[i]);
  }
  if (fchdir(rootfd) < 0) die("fchdir", errno, "root");
  if (chroot(".") < 0) die("chroot", errno, "root");
  close(rootfd);
  if (chdir(c.cwd ? c.cwd : "/") < 0) die("chdir", errno, c.cwd ? c.cwd : "/");
  if (!same && become_root() < 0) die("become-root", errno, path);

  int err[2];
  if (pipe2(err, O_CLOEXEC) < 0) die("pipe", errno, "exec");
  /* setns(CLONE_NEWPID) only places our children in the container's pid namespace. */
  pid_t child = fork();
  if (child < 0) die("fork", errno, "exec");
  if (child == 0) {
    close(err[0]);
    for (int i = 0; i < c.ncgroups; i++) {
      if (write(cgfds[i], "0", 1) != 1) {
        dprintf(err[1], "join-cgroup %s %s", strerrorname_np(errno), c.cgroups[i]);
        _exit(127);
      }
    }
    close_fds_except(err[1], -1);
    c.args[c.nargs] = NULL;
    c.envs[c.nenvs] = NULL;
    /* Every process that enters the container is confined as its init is. */
    const char *step = "exec";
    if (c.privileged || confine(&step) == 0) execvpe(c.args[0], c.args, c.envs);
    dprintf(err[1], "%s %s %s", step, strerrorname_np(errno), c.args[0]);
    _exit(127);
  }
  exec_child = child;
  close(err[1]);
  for (int i = 0; i < c.ncgroups; i++) close(cgfds[i]);
  struct sigaction sa = {0};
  sa.sa_handler = forward_kill;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  char msg[512];
  ssize_t n, total = 0;
  while ((n = read(err[0], msg + total, sizeof msg - 1 - total)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    total += n;
  }
  msg[total] = '\0';
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  if (total > 0) {
    fprintf(stderr, "berth-nsexec: error %s\n", msg);
    return HELPER_FAILED;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

/* ---- netns / netrun ------------------------------------------------------------------------ */

/* With a user namespace, the child joins it before unsharing, so the container's root owns the net namespace. */
static int unshare_net(void *userns, const char **step) {
  *step = "setns-user";
  if (userns && join_userns(userns) < 0) return -1;
  *step = "unshare-net";
  return unshare(CLONE_NEWNET);
}

static int mode_netns(const char *path, const char *userns) {
  bind_child_ns(path, "net", unshare_net, NULL, (void *)userns);
  return 0;
}

static int mode_netrun(const char *nsfile, char **argv) {
  int fd = open(nsfile, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open-netns", errno, nsfile);
  if (setns(fd, CLONE_NEWNET) < 0) die("setns-net", errno, nsfile);
  close(fd);
  execvp(argv[0], argv);
  die("exec", errno, argv[0]);
  return HELPER_FAILED;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: berth-nsexec start|restore|exec < records; lxcfs-inject PID DIR; netns PATH [USERNS]; userns PATH BASE COUNT; "
                    "idmap SRC DST USERNS; overlay TARGET OPTIONS FSUID; devnodes DIR; netrun NSFILE CMD...; announce NSFILE IFNAME\n");
    return 2;
  }
  if (!strcmp(argv[1], "start")) return mode_start();
  if (!strcmp(argv[1], "restore")) return mode_restore();
  if (!strcmp(argv[1], "exec")) return mode_exec();
  if (!strcmp(argv[1], "lxcfs-inject") && argc == 4) return mode_lxcfs_inject(argv[2], argv[3]);
  if (!strcmp(argv[1], "netns") && (argc == 3 || argc == 4)) return mode_netns(argv[2], argc == 4 ? argv[3] : NULL);
  if (!strcmp(argv[1], "userns") && argc == 5) return mode_userns(argv[2], argv[3], argv[4]);
  if (!strcmp(argv[1], "devnodes") && argc == 3) return mode_devnodes(argv[2]);
  if (!strcmp(argv[1], "overlay") && argc == 5) return mode_overlay(argv[2], argv[3], argv[4]);
  if (!strcmp(argv[1], "idmap") && argc == 5) return mode_idmap(argv[2], argv[3], argv[4]);
  if (!strcmp(argv[1], "netrun") && argc >= 4) return mode_netrun(argv[2], argv + 3);
  if (!strcmp(argv[1], "announce") && argc == 4) return mode_announce(argv[2], argv[3]);
  fprintf(stderr, "berth-nsexec: unknown mode or arguments: %s\n", argv[1]);
  return 2;
}
