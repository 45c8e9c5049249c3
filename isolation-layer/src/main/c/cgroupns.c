/*
 * The container's own cgroup namespace (cgroup_namespaces(7)). Unshared by the init once the shim
 * has put it in its cgroups, so the namespace's root is the container's own cgroup in each
 * hierarchy: /proc/self/cgroup inside reads "N:memory:/", and a cgroupfs mounted inside shows that
 * cgroup as its root, with nothing of the host's tree above it. A new v1 hierarchy cannot be created
 * from a non-initial cgroup namespace (the kernel refuses it: new hierarchies would have a root, and
 * release_agent, of their own). Exec'd processes join this namespace by setns after joining the
 * same cgroups (mode_exec).
 */
#define _GNU_SOURCE
#include <sched.h>

#include "nsexec.h"

void unshare_cgroup_ns(struct config *c, int errfd) {
  if (c->privileged) return; /* the baseline: the host's cgroup tree, as before */
  if (unshare(CLONE_NEWCGROUP) < 0) init_fail(errfd, "unshare-cgroup", "-");
}
