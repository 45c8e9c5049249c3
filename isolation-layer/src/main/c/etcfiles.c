/*
 * The files Berth keeps in a container's /etc: its hostname, its own line in /etc/hosts, its name servers, and its
 * address as the distribution's network manager reads it (GuestFiles.java composes them; each arrives as a record
 * etc=PATH\nCONTENT).
 *
 * The init writes them after pivot_root, as the container's root. So every path resolves inside the container: a
 * symlink there (/etc/hosts -> /etc/shadow) names the container's file, never the host's, and nothing is written
 * that the container's root could not write itself. The host's root never writes into a root filesystem the
 * container controls. Each file is written beside itself and renamed over it, so a crash part-way leaves the old
 * file or the new one, never half of one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsexec.h"

static int write_all(int fd, const char *text) {
  size_t len = strlen(text), done = 0;
  while (done < len) {
    ssize_t n = write(fd, text + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

/* Makes the directories above path that are missing (0755, the container's root's), as mkdir -p would. */
static int make_parents(const char *path) {
  char dir[4096];
  if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return errno = ENAMETOOLONG, -1;
  for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
    *p = '\0';
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return 0;
}

void write_etc_files(struct config *c, int errfd) {
  for (int i = 0; i < c->netcfiles; i++) {
    char *path = c->etcfiles[i];
    char *nl = strchr(path, '\n');
    if (path[0] != '/' || !nl) {
      errno = EINVAL;
      init_fail(errfd, "etc-file", path);
    }
    *nl = '\0';
    const char *text = nl + 1;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.berth-new", path) >= (int)sizeof tmp) {
      errno = ENAMETOOLONG;
      init_fail(errfd, "etc-file", path);
    }
    if (make_parents(path) < 0) init_fail(errfd, "etc-file-mkdir", path);
    if (unlink(tmp) < 0 && errno != ENOENT) init_fail(errfd, "etc-file-unlink", tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) init_fail(errfd, "etc-file-open", tmp);
    if (write_all(fd, text) < 0 || fchmod(fd, 0644) < 0) init_fail(errfd, "etc-file-write", tmp);
    if (close(fd) < 0) init_fail(errfd, "etc-file-write", tmp);
    /* rename(2) replaces the directory entry itself: it never follows a symlink standing at path. */
    if (rename(tmp, path) < 0) init_fail(errfd, "etc-file-rename", path);
  }
}
