package io.berth.isolation;

import static io.berth.isolation.Escapes.ok;
import static io.berth.isolation.Escapes.read;
import static io.berth.isolation.Escapes.refusedWithAny;
import static io.berth.isolation.Escapes.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Raising its own memory limit and setting a cgroup release_agent (which the kernel runs as the
 * host's root) from inside, through a cgroupfs the container mounts. Each first succeeds in a
 * privileged container. In a confined one the cgroup namespace shows only the container's own
 * cgroups, and a new hierarchy cannot be made from it, but the limits in its own cgroup, and the
 * release_agent of a hierarchy whose root it sits in (blkio, freezer, cpuset, name=systemd: Berth
 * makes no cgroup there), are refused only by the user namespace (the cgroup files belong to the
 * host's root; release_agent may only be written from a cgroup namespace the host's user namespace
 * owns). Without a user namespace both succeed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CgroupEscapeIT {
  private static final long LIMIT = 64L << 20;
  static final long RAISED = 128L << 20;
  static final String[] REFUSALS = {"Permission denied", "Operation not permitted", "No such file or directory"};
  private TestHost host;
  private IsolationLayer layer;
  private ContainerId confined;
  private ContainerId privileged;

  @BeforeAll
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("a");
    confined = host.newId("confined");
    privileged = host.newId("privileged");
    Limits limits = Limits.DEFAULT.withMemoryBytes(LIMIT);
    layer.prepare(TestHost.spec(confined, limits, "/bin/sleep", "100000"), null);
    layer.prepare(TestHost.privilegedSpec(privileged, limits, "/bin/sleep", "100000"), null);
    layer.start(confined);
    layer.start(privileged);
  }

  @AfterAll
  void tearDown() {
    if (host != null) host.close();
  }

  private Path memoryLimit(ContainerId id) {
    return Path.of("/sys/fs/cgroup/memory", layer.config().cgroupRoot(), id.value(), "memory.limit_in_bytes");
  }

  /** Raise memsw first (it must stay >= the limit), then the limit, in the cgroup directory DIR. */
  static String raise(String dir) {
    return "mkdir -p /tmp/cg && mount -t cgroup -o memory cgroup /tmp/cg && d=/tmp/cg/" + dir + " && "
        + "if [ -e $d/memory.memsw.limit_in_bytes ]; then echo " + RAISED + " > $d/memory.memsw.limit_in_bytes; fi && "
        + "echo " + RAISED + " > $d/memory.limit_in_bytes";
  }

  @Test
  void aContainerCannotRaiseItsOwnMemoryLimit() {
    // Privileged: the host's tree, its own cgroup under the layer's root.
    ok(layer, privileged, raise(layer.config().cgroupRoot() + "/" + privileged.value()));
    assertEquals(Long.toString(RAISED), read(memoryLimit(privileged)), "a privileged container raised its own limit");
    Escapes.assertOwnUserNamespace(layer, confined);
    // Confined: its own cgroup is the root of what it mounts.
    refusedWithAny(layer, confined, raise("."), REFUSALS);
    assertEquals(Long.toString(LIMIT), read(memoryLimit(confined)));
  }

  /**
   * For every v1 hierarchy this kernel has (and name=systemd), mount it and write back the
   * release_agent it has, when the file is there; the write being allowed is the escape. Prints the
   * hierarchies where it was allowed.
   */
  static final String RELEASE_AGENT = "ok=; for h in $(awk 'NR>1 && $2>0 {print $1}' /proc/cgroups) none,name=systemd; do "
      + "d=/tmp/ra-$(echo $h | tr ',=' '__'); mkdir -p $d; mount -t cgroup -o $h cgroup $d 2>/dev/null || continue; "
      + "if [ -e $d/release_agent ] && cat $d/release_agent > /tmp/ra && cat /tmp/ra > $d/release_agent; then ok=\"$ok $h\"; fi; "
      + "umount $d; done; echo \"allowed:$ok\"; [ -n \"$ok\" ]";

  static final String NEW_HIERARCHY = "mkdir -p /tmp/nh && mount -t cgroup -o none,name=berth-escape cgroup /tmp/nh";

  @Test
  void aContainerCannotSetAReleaseAgent() {
    ok(layer, privileged, RELEASE_AGENT);
    Escapes.assertOwnUserNamespace(layer, confined);
    ExecResult r = sh(layer, confined, RELEASE_AGENT);
    assertEquals(1, r.exitCode(), "no hierarchy's release_agent may be written from a confined container: " + r.stdout() + r.stderr());
    refusedWithAny(layer, confined, NEW_HIERARCHY, "permission denied");
  }
}
