/*
 * berth-watchdog: the per-host fencing watchdog of one data root (see README.md beside it).
 *
 *   berth-watchdog DATAROOT CGROUP_MOUNT CGROUP_ROOT v1|v2 FIRST_DEADLINE_MS
 *
 * Takes <DATAROOT>/watchdog/lock (flock, so one watchdog per data root: a second one refuses), binds
 * <DATAROOT>/watchdog/sock, forks a daemon in a session of its own (not a child that dies with the JVM),
 * prints "ok PID" once that daemon is armed and listening (or "error STEP ERRNO ARG") and exits.
 *
 * The daemon answers one line per line a client sends on the socket:
 *   feed MS   -> "ok fed MS"        fence unless fed again within MS ms (MIN_DEADLINE..MAX_DEADLINE)
 *   status    -> "ok armed REMAINING_MS pid PID"
 *   disarm    -> "ok disarmed"      then it exits without fencing
 *   other     -> "error ..."        refused, logged, the deadline unchanged
 * When the deadline passes it fences every container cgroup under CGROUP_ROOT: freezes them all, SIGKILLs
 * every process in them, thaws so the kills land, waits (bounded) until they are empty, writes a record to
 * <DATAROOT>/watchdog/fenced/<ms>.rec, and exits.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MIN_DEADLINE_MS 100L
#define MAX_DEADLINE_MS 600000L
#define MAX_CLIENTS 8
#define LINE_MAX_BYTES 128
/* How long the fence may take: freezing, then killing until every cgroup is empty. */
#define FREEZE_BOUND_MS 2000L
#define KILL_BOUND_MS 5000L
#define MAX_PIDS 65536

static const char *data_root, *cg_mount, *cg_root;
static int v2;
static char dir[2048], sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static volatile sig_atomic_t got_signal;

static long now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The log is stderr, which the daemon points at <DATAROOT>/watchdog/watchdog.log. */
static void say(const char *fmt, ...) {
  char when[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fprintf(stderr, "%s berth-watchdog[%d] ", when, getpid());
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
}

static void fail(const char *step, int err, const char *arg) {
  printf("error %s %s %s\n", step, err ? strerrorname_np(err) : "-", arg);
  fflush(stdout);
  exit(125);
}

/* "feed" deadlines and the first one: decimal digits only, within the bounds; -1 otherwise. */
static long parse_deadline(const char *s) {
  if (*s == 0 || strlen(s) > 7) return -1;
  for (const char *p = s; *p; p++) if (*p < '0' || *p > '9') return -1;
  long v = strtol(s, NULL, 10);
  return v < MIN_DEADLINE_MS || v > MAX_DEADLINE_MS ? -1 : v;
}

/* ---- cgroup files ------------------------------------------------------------------------------ */

static int write_file(const char *path, const char *value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, value, strlen(value)); /* one write(2), as cgroupfs expects */
  int err = n < 0 ? errno : 0;
  close(fd);
  return -err;
}

/* The pids in a cgroup.procs file into pids[] (at most max); -errno when it cannot be read. */
static int read_pids(const char *path, int *pids, int max) {
  FILE *f = fopen(path, "re");
  if (!f) return -errno;
  int n = 0, pid;
  while (n < max && fscanf(f, "%d", &pid) == 1) pids[n++] = pid;
  fclose(f);
  return n;
}

static int contains(const int *pids, int n, int pid) {
  for (int i = 0; i < n; i++) if (pids[i] == pid) return 1;
  return 0;
}

struct container {
  char id[256];
  char procs[2560];   /* the pids hierarchy's (v1) or the unified cgroup's (v2) cgroup.procs */
  char freezer[2560]; /* v1: <mount>/freezer/<root>/<id>; v2: the container's own cgroup */
  int made_freezer;   /* v1: the freezer cgroup is ours to remove afterwards */
  int frozen;
  int npids;
  int *pids;          /* what it killed, for the record */
  int remaining;
};

static int sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  return nanosleep(&ts, NULL);
}

/* Every container cgroup under the root: the pids hierarchy's children on v1 (every container joins pids,
 * as Cgroups.procs reads it), the unified root's children on v2. */
static struct container *list_containers(int *count) {
  char root[2048];
  snprintf(root, sizeof root, v2 ? "%s/%s" : "%s/pids/%s", cg_mount, cg_root);
  *count = 0;
  DIR *d = opendir(root);
  if (!d) {
    if (errno != ENOENT) say("fence: list %s: %s", root, strerrorname_np(errno));
    return NULL;
  }
  struct container *cs = NULL;
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    if (*count == cap) {
      cap = cap ? cap * 2 : 16;
      struct container *grown = realloc(cs, cap * sizeof *cs);
      if (!grown) break;
      cs = grown;
    }
    struct container *c = &cs[(*count)++];
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", e->d_name);
    snprintf(c->procs, sizeof c->procs, "%s/%s/cgroup.procs", root, c->id);
    if (v2) snprintf(c->freezer, sizeof c->freezer, "%s/%s", root, c->id);
    else snprintf(c->freezer, sizeof c->freezer, "%s/freezer/%s/%s", cg_mount, cg_root, c->id);
  }
  closedir(d);
  return cs;
}

/*
 * v1: a freezer cgroup beside the container's others (Berth makes none at prepare; the container's processes
 * are in the freezer hierarchy's root), frozen while still empty, then every process of the container moved
 * into it: a task attached to a FROZEN cgroup is frozen at once (freezer_attach), so each moved process stops
 * and cannot fork again; a child forked before its parent moved is found in the next round of cgroup.procs.
 * v2: cgroup.freeze on the container's own cgroup.
 */
static void freeze(struct container *c, int *scratch, int *scratch2) {
  char f[2700];
  if (v2) {
    snprintf(f, sizeof f, "%s/cgroup.freeze", c->freezer);
    int err = write_file(f, "1");
    if (err) say("fence %s: write 1 to %s: %s", c->id, f, strerrorname_np(-err));
    return;
  }
  char parent[2048];
  snprintf(parent, sizeof parent, "%s/freezer/%s", cg_mount, cg_root);
  if (mkdir(parent, 0755) < 0 && errno != EEXIST) say("fence %s: mkdir %s: %s", c->id, parent, strerrorname_np(errno));
  if (mkdir(c->freezer, 0755) == 0) c->made_freezer = 1;
  else if (errno != EEXIST) {
    say("fence %s: mkdir %s: %s (it is killed unfrozen)", c->id, c->freezer, strerrorname_np(errno));
    return;
  }
  snprintf(f, sizeof f, "%s/freezer.state", c->freezer);
  int err = write_file(f, "FROZEN");
  if (err) say("fence %s: write FROZEN to %s: %s", c->id, f, strerrorname_np(-err));
  char into[2700];
  snprintf(into, sizeof into, "%s/cgroup.procs", c->freezer);
  for (int round = 0; round < 100; round++) {
    int n = read_pids(c->procs, scratch, MAX_PIDS);
    int m = read_pids(into, scratch2, MAX_PIDS);
    int moved = 0;
    for (int i = 0; i < n; i++) {
      if (m >= 0 && contains(scratch2, m, scratch[i])) continue;
      char pid[16];
      snprintf(pid, sizeof pid, "%d", scratch[i]);
      int e = write_file(into, pid);
      if (e && e != -ESRCH) say("fence %s: move %d into %s: %s", c->id, scratch[i], into, strerrorname_np(-e));
      moved++;
    }
    if (moved == 0) return;
  }
  say("fence %s: processes still appearing outside %s after 100 rounds (killed anyway)", c->id, into);
}

static int is_frozen(struct container *c) {
  char f[2700], buf[256] = {0};
  snprintf(f, sizeof f, v2 ? "%s/cgroup.events" : "%s/freezer.state", c->freezer);
  int fd = open(f, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  return v2 ? strstr(buf, "frozen 1") != NULL : strncmp(buf, "FROZEN", 6) == 0;
}

static void thaw(struct container *c) {
  char f[2700];
  snprintf(f, sizeof f, v2 ? "%s/cgroup.freeze" : "%s/freezer.state", c->freezer);
  if (access(f, F_OK) < 0) return;
  int err = write_file(f, v2 ? "0" : "THAWED");
  if (err) say("fence %s: thaw %s: %s", c->id, f, strerrorname_np(-err));
}

/* SIGKILL to every pid in the container's cgroup.procs (and, v1, its freezer cgroup's); how many it found. */
static int kill_all(struct container *c, int *scratch, int record) {
  char paths[2][2700];
  int np = 1;
  snprintf(paths[0], sizeof paths[0], "%s", c->procs);
  if (!v2 && c->freezer[0]) snprintf(paths[np++], sizeof paths[1], "%s/cgroup.procs", c->freezer);
  int found = 0;
  for (int p = 0; p < np; p++) {
    int n = read_pids(paths[p], scratch, MAX_PIDS);
    for (int i = 0; i < n; i++) {
      found++;
      if (kill(scratch[i], SIGKILL) < 0 && errno != ESRCH) say("fence %s: kill %d: %s", c->id, scratch[i], strerrorname_np(errno));
      if (record && !contains(c->pids, c->npids, scratch[i])) {
        int *grown = realloc(c->pids, (c->npids + 1) * sizeof(int));
        if (grown) { c->pids = grown; c->pids[c->npids++] = scratch[i]; }
      }
    }
  }
  return found;
}

static void fsync_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) { fsync(fd); close(fd); }
}

static void write_record(long fenced_at, long last_fed_at, long deadline, struct container *cs, int n, long took) {
  char fenced[2100], tmp[2200], final[2200];
  snprintf(fenced, sizeof fenced, "%s/fenced", dir);
  snprintf(tmp, sizeof tmp, "%s/.%ld.rec.tmp", fenced, fenced_at);
  snprintf(final, sizeof final, "%s/%ld.rec", fenced, fenced_at);
  FILE *f = fopen(tmp, "we");
  if (!f) { say("fence: record %s: %s", tmp, strerrorname_np(errno)); return; }
  fprintf(f, "berth-watchdog-fence 1\nfenced_at_ms %ld\nlast_fed_at_ms %ld\ndeadline_ms %ld\nwatchdog_pid %d\n",
          fenced_at, last_fed_at, deadline, getpid());
  for (int i = 0; i < n; i++) {
    fprintf(f, "container %s frozen %s pids", cs[i].id, cs[i].frozen ? "yes" : "no");
    for (int j = 0; j < cs[i].npids; j++) fprintf(f, " %d", cs[i].pids[j]);
    fputc('\n', f);
    if (cs[i].remaining) fprintf(f, "remaining %s %d\n", cs[i].id, cs[i].remaining);
  }
  fprintf(f, "took_ms %ld\n", took);
  fflush(f);
  fsync(fileno(f));
  fclose(f);
  if (rename(tmp, final) < 0) say("fence: rename %s: %s", tmp, strerrorname_np(errno));
  fsync_dir(fenced);
  say("fence: recorded %s", final);
}

/*
 * After the kills: every mount under <dataRoot>/containers/ is detached (lazily: it goes once its last user, now
 * dead, is gone), so this host stops using the containers' disks: a shared disk image's loop device is released
 * (autoclear) and its filesystem is no longer mounted here when a survivor mounts it. Deepest mounts first.
 */
static void release_mounts(void) {
  char prefix[4096], line[8192], *points[4096];
  int n = 0;
  snprintf(prefix, sizeof prefix, "%s/containers/", data_root);
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) { say("fence: open /proc/self/mountinfo: %s", strerrorname_np(errno)); return; }
  while (n < 4096 && fgets(line, sizeof line, f)) {
    /* mount id, parent id, major:minor, root, mount point, ... (mount point octal-escaped; Berth's have no spaces) */
    char *save = NULL, *field = strtok_r(line, " ", &save);
    for (int i = 1; field && i < 5; i++) field = strtok_r(NULL, " ", &save);
    if (field && strncmp(field, prefix, strlen(prefix)) == 0) points[n++] = strdup(field);
  }
  fclose(f);
  int done = 0;
  for (int i = n - 1; i >= 0; i--) {
    if (points[i] && umount2(points[i], MNT_DETACH) == 0) done++;
    else if (points[i]) say("fence: umount %s: %s", points[i], strerrorname_np(errno));
    free(points[i]);
  }
  say("fence: detached %d of %d container mount(s) under %s", done, n, prefix);
}

/* Freeze all, kill all, thaw all, then kill whatever is left until every cgroup is empty (bounded). */
static void fence(long last_fed_at, long deadline) {
  long start = now_ms(CLOCK_MONOTONIC), fenced_at = now_ms(CLOCK_REALTIME);
  int n;
  struct container *cs = list_containers(&n);
  int *scratch = malloc(MAX_PIDS * sizeof(int)), *scratch2 = malloc(MAX_PIDS * sizeof(int));
  if (!scratch || !scratch2) { say("fence: out of memory"); exit(1); }
  say("fence: not fed within %ld ms: fencing %d container(s) under %s", deadline, n, cg_root);
  for (int i = 0; i < n; i++) freeze(&cs[i], scratch, scratch2);
  for (long until = start + FREEZE_BOUND_MS;;) {
    int all = 1;
    for (int i = 0; i < n; i++) if (!cs[i].frozen && !(cs[i].frozen = is_frozen(&cs[i]))) all = 0;
    if (all || now_ms(CLOCK_MONOTONIC) > until) break;
    sleep_ms(2);
  }
  for (int i = 0; i < n; i++) kill_all(&cs[i], scratch, 1);
  for (int i = 0; i < n; i++) thaw(&cs[i]);
  for (long until = now_ms(CLOCK_MONOTONIC) + KILL_BOUND_MS;;) {
    int left = 0;
    for (int i = 0; i < n; i++) left += (cs[i].remaining = kill_all(&cs[i], scratch, 1));
    if (left == 0 || now_ms(CLOCK_MONOTONIC) > until) break;
    sleep_ms(5);
  }
  for (int i = 0; i < n; i++) {
    say("fence %s: frozen %s, %d pid(s) killed, %d left", cs[i].id, cs[i].frozen ? "yes" : "no", cs[i].npids, cs[i].remaining);
    if (cs[i].made_freezer && cs[i].remaining == 0 && rmdir(cs[i].freezer) < 0) {
      say("fence %s: rmdir %s: %s", cs[i].id, cs[i].freezer, strerrorname_np(errno));
    }
  }
  if (!v2) {
    char parent[2048];
    snprintf(parent, sizeof parent, "%s/freezer/%s", cg_mount, cg_root);
    rmdir(parent); /* only when empty: another layer's or Berth's own freezer cgroups may be there */
  }
  release_mounts();
  write_record(fenced_at, last_fed_at, deadline, cs, n, now_ms(CLOCK_MONOTONIC) - start);
}

/* ---- the feed channel -------------------------------------------------------------------------- */

struct client {
  int fd;
  pid_t pid;
  size_t len;
  char buf[LINE_MAX_BYTES];
};

static void reply(struct client *c, const char *fmt, ...) {
  char out[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, sizeof out - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof out - 2) n = sizeof out - 2;
  out[n++] = '\n';
  /* A client that does not read its replies is not waited for (the socket is non-blocking). */
  if (send(c->fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) say("reply to pid %d: %s", c->pid, strerrorname_np(errno));
}

/* Printable, bounded, for logs and replies: garbage is shown, never trusted. */
static void sanitize(const char *in, char *out, size_t cap) {
  size_t j = 0;
  for (size_t i = 0; in[i] && j + 1 < cap; i++) out[j++] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
  out[j] = 0;
}

static long deadline_at, last_fed_at, last_deadline;

/* One command line; returns 1 when the watchdog must exit (disarm). */
static int command(struct client *c, char *line) {
  char shown[64];
  sanitize(line, shown, sizeof shown);
  if (strncmp(line, "feed ", 5) == 0) {
    long ms = parse_deadline(line + 5);
    if (ms < 0) {
      say("refused from pid %d: \"%s\": the deadline must be %ld..%ld ms (decimal digits)", c->pid, shown, MIN_DEADLINE_MS, MAX_DEADLINE_MS);
      reply(c, "error feed: the deadline must be %ld..%ld ms, got \"%s\"", MIN_DEADLINE_MS, MAX_DEADLINE_MS, shown + 5);
      return 0;
    }
    deadline_at = now_ms(CLOCK_BOOTTIME) + ms;
    last_fed_at = now_ms(CLOCK_REALTIME);
    last_deadline = ms;
    reply(c, "ok fed %ld", ms);
    return 0;
  }
  if (strcmp(line, "status") == 0) {
    long left = deadline_at - now_ms(CLOCK_BOOTTIME);
    reply(c, "ok armed %ld pid %d", left < 0 ? 0 : left, getpid());
    return 0;
  }
  if (strcmp(line, "disarm") == 0) {
    say("disarmed by pid %d: exiting without fencing", c->pid);
    reply(c, "ok disarmed");
    return 1;
  }
  say("refused from pid %d: \"%s\": not a command (feed MS, status, disarm)", c->pid, shown);
  reply(c, "error unknown command \"%s\" (feed MS, status, disarm)", shown);
  return 0;
}

static void on_signal(int sig) {
  got_signal = sig;
}

static void drop(struct client *c) {
  close(c->fd);
  c->fd = -1;
}

static int serve(int listener) {
  struct client clients[MAX_CLIENTS];
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;
  for (;;) {
    if (got_signal) {
      /* Only "disarm" stops it without fencing: a stray SIGTERM (a service manager, a broad kill) must not
       * leave the host unfenced. SIGKILL cannot be caught; softdog would cover that (README). */
      say("signal %d ignored: only \"disarm\" stops the watchdog without fencing", (int)got_signal);
      got_signal = 0;
    }
    long left = deadline_at - now_ms(CLOCK_BOOTTIME);
    if (left <= 0) {
      fence(last_fed_at, last_deadline);
      return 2;
    }
    struct pollfd pfd[MAX_CLIENTS + 1];
    pfd[0] = (struct pollfd){.fd = listener, .events = POLLIN};
    for (int i = 0; i < MAX_CLIENTS; i++) pfd[i + 1] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
    int r = poll(pfd, MAX_CLIENTS + 1, (int)(left > 1000 ? 1000 : left));
    if (r < 0) {
      if (errno != EINTR) say("poll: %s", strerrorname_np(errno));
      continue;
    }
    if (pfd[0].revents & POLLIN) {
      int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        struct ucred cred;
        socklen_t len = sizeof cred;
        int slot = -1;
        for (int i = 0; i < MAX_CLIENTS; i++) if (clients[i].fd < 0) { slot = i; break; }
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid()) {
          say("refused a connection from uid %d: only the watchdog's own uid feeds it", (int)cred.uid);
          close(fd);
        } else if (slot < 0) {
          say("refused a connection from pid %d: %d clients already", (int)cred.pid, MAX_CLIENTS);
          close(fd);
        } else {
          clients[slot] = (struct client){.fd = fd, .pid = cred.pid, .len = 0};
        }
      }
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
      struct client *c = &clients[i];
      if (c->fd < 0 || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
      if (n <= 0) {
        /* A client gone (a JVM that died) changes nothing: the deadline it set still runs. */
        if (n < 0 && errno == EAGAIN) continue;
        drop(c);
        continue;
      }
      c->len += n;
      char *nl;
      while (c->fd >= 0 && (nl = memchr(c->buf, '\n', c->len))) {
        *nl = 0;
        size_t used = nl - c->buf + 1;
        if (nl > c->buf && nl[-1] == '\r') nl[-1] = 0;
        int nul = memchr(c->buf, 0, nl - c->buf) != NULL;
        if (nul) {
          say("refused from pid %d: a line holding NUL", c->pid);
          reply(c, "error unknown command (a line holding NUL)");
        } else if (command(c, c->buf)) {
          return 0;
        }
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
      }
      if (c->fd >= 0 && c->len == sizeof c->buf) {
        say("refused from pid %d: a line longer than %d bytes; connection closed", c->pid, LINE_MAX_BYTES);
        reply(c, "error line longer than %d bytes", LINE_MAX_BYTES);
        drop(c);
      }
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: berth-watchdog DATAROOT CGROUP_MOUNT CGROUP_ROOT v1|v2 FIRST_DEADLINE_MS\n");
    return 125;
  }
  data_root = argv[1];
  cg_mount = argv[2];
  cg_root = argv[3];
  if (data_root[0] != '/' || strlen(data_root) > 1000) fail("args", 0, "DATAROOT must be absolute, at most 1000 bytes");
  if (strlen(cg_mount) > 900 || strlen(cg_root) > 255) fail("args", 0, "CGROUP_MOUNT (900) or CGROUP_ROOT (255 bytes) too long");
  if (cg_mount[0] != '/') fail("args", 0, "CGROUP_MOUNT must be absolute");
  if (!*cg_root || strchr(cg_root, '/') || strcmp(cg_root, ".") == 0 || strcmp(cg_root, "..") == 0) fail("args", 0, "CGROUP_ROOT must be one path element");
  if (strcmp(argv[4], "v1") && strcmp(argv[4], "v2")) fail("args", 0, "the cgroup version must be v1 or v2");
  v2 = strcmp(argv[4], "v2") == 0;
  long first = parse_deadline(argv[5]);
  if (first < 0) fail("args", 0, "FIRST_DEADLINE_MS must be 100..600000");

  snprintf(dir, sizeof dir, "%s/watchdog", data_root);
  if ((size_t)snprintf(sock_path, sizeof sock_path, "%s/sock", dir) >= sizeof sock_path) fail("args", ENAMETOOLONG, dir);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST) fail("mkdir", errno, dir);
  char fenced[2100], lock_path[2100], log_path[2100];
  snprintf(fenced, sizeof fenced, "%s/fenced", dir);
  if (mkdir(fenced, 0700) < 0 && errno != EEXIST) fail("mkdir", errno, fenced);
  snprintf(lock_path, sizeof lock_path, "%s/lock", dir);
  snprintf(log_path, sizeof log_path, "%s/watchdog.log", dir);

  /* One watchdog per data root: the lock is held by the daemon for its whole life (the descriptor it
   * inherits shares the open file description), so a second start is refused while one runs. */
  int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0) fail("open", errno, lock_path);
  if (flock(lock, LOCK_EX | LOCK_NB) < 0) {
    char pid[32] = "?";
    ssize_t n = pread(lock, pid, sizeof pid - 1, 0);
    if (n > 0) pid[strcspn(pid, "\n")] = 0;
    printf("error already-running %s %s\n", n > 0 ? pid : "?", lock_path);
    return 3;
  }
  /* Under the lock, a socket file left by a watchdog that died is stale. */
  unlink(sock_path);
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listener < 0) fail("socket", errno, sock_path);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
  mode_t old = umask(0077);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) fail("bind", errno, sock_path);
  umask(old);
  if (listen(listener, MAX_CLIENTS) < 0) fail("listen", errno, sock_path);

  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) fail("pipe", errno, "ready");
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) fail("fork", errno, "daemon");
  if (child > 0) {
    close(ready[1]);
    char line[128] = {0};
    ssize_t n = read(ready[0], line, sizeof line - 1);
    if (n <= 0) fail("daemon", 0, "exited before it was armed");
    fputs(line, stdout);
    return strncmp(line, "ok ", 3) == 0 ? 0 : 125;
  }
  close(ready[0]);
  /* Its own session and process group: the JVM's death, its process group's signals and its terminal
   * do not reach it. Re-parented to init when the first process exits. */
  if (setsid() < 0) { dprintf(ready[1], "error setsid %s -\n", strerrorname_np(errno)); _exit(125); }
  if (chdir("/") < 0) _exit(125);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (null < 0 || logfd < 0) { dprintf(ready[1], "error open %s %s\n", strerrorname_np(errno), log_path); _exit(125); }
  dup2(null, 0);
  dup2(null, 1);
  dup2(logfd, 2);
  close(null);
  close(logfd);
  /* It must be there when the host is in trouble: never the OOM killer's choice, never paged out. */
  int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (adj >= 0) { if (write(adj, "-1000", 5) < 0) say("oom_score_adj -1000: %s (goes on; lowering it needs CAP_SYS_RESOURCE)", strerrorname_np(errno)); close(adj); }
  if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0) say("mlockall: %s (goes on)", strerrorname_np(errno));
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%d\n", getpid());
  if (ftruncate(lock, 0) < 0 || pwrite(lock, pid, len, 0) != len) say("write pid to %s: %s", lock_path, strerrorname_np(errno));

  /* CLOCK_BOOTTIME counts a suspended host's sleep: the survivors' margin ran on meanwhile. */
  deadline_at = now_ms(CLOCK_BOOTTIME) + first;
  last_fed_at = now_ms(CLOCK_REALTIME);
  last_deadline = first;
  say("armed: %s, cgroups %s/%s (%s), first deadline %ld ms", data_root, cg_mount, cg_root, v2 ? "v2" : "v1", first);
  dprintf(ready[1], "ok %d\n", getpid());
  close(ready[1]);
  int rc = serve(listener);
  unlink(sock_path);
  return rc;
}
