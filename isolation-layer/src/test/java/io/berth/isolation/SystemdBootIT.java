package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.berth.isolation.process.Commands;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Debian 12 container booting systemd as its init (SystemdInit, berth-nsexec's systemd.c): its start returns once
 * systemd said READY=1, the system reaches "running" (not "degraded"), its processes live in its own cgroups, which
 * only it may subdivide, and it is as confined as any other container.
 */
class SystemdBootIT {
  private static final Duration T = Duration.ofSeconds(20);
  private TestHost host;

  @BeforeEach
  void setUp() throws Exception {
    HostTests.requireRootLinux();
    SetupTemplates.requireDebian12();
    host = new TestHost();
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  static ContainerSpec debian(ContainerId id) {
    // No command: a template whose /sbin/init is systemd boots it.
    return new ContainerSpec(id, TemplateRef.of("debian-12"), null, List.of(), Limits.DEFAULT, null, null, null);
  }

  static String exec(IsolationLayer layer, ContainerId id, String... argv) {
    return layer.exec(id, List.of(argv), T).stdout().strip();
  }

  /** Polls is-system-running until it answers running (bounded); fails with the failed units when it does not. */
  static void awaitRunning(IsolationLayer layer, ContainerId id) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    String state = "";
    while (System.nanoTime() < deadline) {
      state = exec(layer, id, "systemctl", "is-system-running");
      if (state.equals("running") || state.equals("degraded")) break;
      sleep(100);
    }
    if (!state.equals("running")) {
      fail("systemctl is-system-running answered '" + state + "', not running, within 60 s; failed units:\n"
          + exec(layer, id, "systemctl", "--failed", "--no-legend", "--no-pager") + "\n" + exec(layer, id, "journalctl", "-b", "-p", "warning", "--no-pager"));
    }
  }

  @Test
  void bootsToRunningInItsOwnDelegatedCgroupsConfined() throws Exception {
    IsolationLayer layer = host.layer("a");
    ContainerId id = host.newId("sd");
    layer.prepare(debian(id), null);
    int pid = layer.start(id);
    awaitRunning(layer, id);

    // The container interface: its environment, its API filesystems, its machine id from container_uuid.
    String environ = Files.readString(Path.of("/proc", Integer.toString(pid), "environ")).replace('\0', '\n');
    assertTrue(environ.contains("\ncontainer=berth\n") || environ.startsWith("container=berth\n"), environ);
    assertTrue(environ.contains("container_uuid=" + SystemdInit.uuid(id)), environ);
    assertEquals("systemd", Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "exe")).getFileName().toString());
    assertEquals(SystemdInit.uuid(id).toString().replace("-", ""), exec(layer, id, "cat", "/etc/machine-id"), "machine id from container_uuid");
    String mounts = exec(layer, id, "cat", "/proc/self/mounts");
    for (String m : List.of("tmpfs /run tmpfs", "tmpfs /run/lock tmpfs", "tmpfs /sys/fs/cgroup tmpfs ro", "/sys/fs/cgroup/systemd cgroup",
        "/sys/fs/cgroup/memory cgroup", "/sys/fs/cgroup/unified cgroup2")) {
      assertTrue(mounts.contains(m), m + " is mounted:\n" + mounts);
    }

    // No getty on a console it does not have (the host's is refused), so nothing restarts for ever.
    assertEquals("inactive", exec(layer, id, "systemctl", "is-active", "console-getty"));
    assertEquals("", exec(layer, id, "systemctl", "list-units", "--state=activating", "--no-legend", "--plain", "--no-pager"), "no unit stuck starting");

    // Its processes: more than the init, every one in the container's own cgroup (or below it) in every hierarchy.
    String root = layer.config().cgroupRoot() + "/" + id.value();
    List<Integer> inside = pidsInNamespaceOf(pid);
    assertTrue(inside.size() >= 3, "systemd started services (journald, dbus...): " + inside);
    for (int p : inside) {
      List<String> lines = Files.readAllLines(Path.of("/proc", Integer.toString(p), "cgroup"));
      for (String line : lines) {
        String path = line.substring(line.indexOf(':', line.indexOf(':') + 1) + 1);
        assertTrue(path.startsWith("/" + root), "pid " + p + " is in the container's cgroups: " + line);
      }
    }
    String initCgroups = Files.readString(Path.of("/proc", Integer.toString(pid), "cgroup"));
    assertTrue(initCgroups.contains(":name=systemd:/" + root + "/init.scope"), "systemd put itself in init.scope:\n" + initCgroups);
    assertTrue(Files.isDirectory(Path.of("/sys/fs/cgroup/systemd", root, "system.slice")), "its own tree in the name=systemd hierarchy");

    // An exec'd command is in the container's cgroups and its helper is not: every process there is one the container
    // can name (the kernel writes 0 for one it cannot), so systemctl status shows the whole tree without an error.
    for (String h : List.of("systemd", "unified", "memory", "pids")) {
      String procs = layer.exec(id, List.of("sh", "-c", "echo $$; cat /sys/fs/cgroup/" + h + "/cgroup.procs"), T).stdout();
      List<String> listed = List.of(procs.strip().split("\\s+"));
      assertFalse(listed.subList(1, listed.size()).contains("0"), "a process the container cannot name is in its " + h + " cgroup: " + procs);
      assertTrue(listed.subList(1, listed.size()).contains(listed.get(0)), "the exec'd shell is in the container's " + h + " cgroup: " + procs);
    }
    ExecResult tree = layer.exec(id, List.of("systemctl", "status", "--no-pager", "--lines=0"), T);
    assertEquals(0, tree.exitCode(), tree.stdout() + tree.stderr());
    assertFalse(tree.stderr().contains("Failed to dump process list"), tree.stderr());
    assertTrue(tree.stdout().contains("init.scope") && tree.stdout().contains("systemd-journald"), "systemctl status lists its processes:\n" + tree.stdout());

    // Delegated to its root and to nothing above: the container's cgroup is its, the limits and the parent the host's.
    long base = Long.parseLong(Files.readString(Path.of("/proc", Integer.toString(pid), "uid_map")).trim().split("\\s+")[1]);
    assertNotEquals(0, base);
    Path memory = Path.of("/sys/fs/cgroup/memory", root);
    assertEquals((int) base, uid(memory), "the container's memory cgroup is its root's");
    assertEquals((int) base, uid(memory.resolve("cgroup.procs")));
    assertEquals(0, uid(memory.resolve("memory.limit_in_bytes")), "its limit stays the host's");
    assertEquals(0, uid(memory.getParent()), "the cgroup above it stays the host's");
    String limit = Files.readString(memory.resolve("memory.limit_in_bytes")).strip();
    layer.exec(id, List.of("sh", "-c", "echo -1 > /sys/fs/cgroup/memory/memory.limit_in_bytes"), T);
    assertEquals(limit, Files.readString(memory.resolve("memory.limit_in_bytes")).strip(), "root inside cannot raise its own limit");

    // Confined as any container: root inside is an unprivileged id outside, reduced capabilities, seccomp.
    String status = Files.readString(Path.of("/proc", Integer.toString(pid), "status"));
    assertTrue(status.contains("Uid:\t" + base + "\t"), status);
    assertTrue(status.contains("Seccomp:\t2"), "the init runs under the seccomp filter:\n" + status);
    assertFalse(status.contains("CapBnd:\t000001ffffffffff"), "a reduced bounding set:\n" + status);
    assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/cgroup")), Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "ns/cgroup")));

    layer.destroy(id);
    for (String h : List.of("systemd", "memory", "pids", "unified", "blkio", "freezer")) {
      assertFalse(Files.exists(Path.of("/sys/fs/cgroup", h, root), LinkOption.NOFOLLOW_LINKS), "destroy removed its " + h + " cgroup tree");
    }
  }

  /**
   * Inside, the network is what Berth configured, said where Debian reads it: systemd-networkd, once the operator
   * enables it, takes eth0 as configured (from Berth's unit) and keeps its address and route instead of replacing
   * them; the name resolves to the container's address.
   */
  @Test
  void networkdEnabledInsideKeepsTheAddressBerthGaveIt() throws Exception {
    IsolationLayer layer = host.layer("n", c -> c.withDns(new GuestDns(List.of("198.18.0.53"), List.of())));
    ContainerId id = host.newId("net");
    NetworkAttachment net = host.bridged(41);
    layer.prepare(debian(id), net);
    layer.start(id);
    awaitRunning(layer, id);
    assertEquals(net.address() + "     " + id.value(), exec(layer, id, "getent", "hosts", id.value()).replaceAll("\\s+", "     "));
    assertEquals(id.value(), exec(layer, id, "cat", "/etc/hostname"));

    layer.exec(id, List.of("systemctl", "enable", "--now", "systemd-networkd"), T);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String link = "";
    while (System.nanoTime() < deadline && !link.contains("routable (configured)")) {
      link = exec(layer, id, "networkctl", "status", "eth0", "--no-pager", "--lines=0");
      sleep(200);
    }
    assertTrue(link.contains("routable (configured)"), "networkd did not take eth0 as configured within 30 s:\n" + link);
    assertTrue(link.contains("10-berth-eth0.network"), "from Berth's unit:\n" + link);
    String addresses = exec(layer, id, "ip", "-4", "-o", "addr", "show", "dev", "eth0");
    assertTrue(addresses.contains(net.address() + "/" + net.prefixLength()), addresses);
    assertEquals(1, addresses.lines().count(), "no second address beside Berth's: " + addresses);
    assertTrue(exec(layer, id, "ip", "-4", "route", "show", "default").contains("via " + net.gateway()), "the default route stays");
    assertEquals("running", exec(layer, id, "systemctl", "is-system-running"));
    layer.destroy(id);
  }

  /**
   * A booted system checkpointed with CRIU and restored goes on as it was, the same init and journald, its units
   * active: in place, and under another data root and cgroup root (another host's layout), where its empty cgroups
   * are made again before CRIU restores the watches systemd keeps on them.
   */
  @Test
  void aBootedSystemIsCheckpointedAndRestoredInPlace() throws Exception {
    IsolationLayer layer = host.layer("c");
    ContainerId id = host.newId("cr");
    NetworkAttachment net = host.bridged(42);
    layer.prepare(debian(id), net);
    layer.start(id);
    awaitRunning(layer, id);
    String before = exec(layer, id, "systemctl", "list-units", "--state=active", "--no-legend", "--plain", "--no-pager");
    String bootId = exec(layer, id, "cat", "/proc/sys/kernel/random/boot_id");
    String journaldPid = exec(layer, id, "systemctl", "show", "-p", "MainPID", "--value", "systemd-journald");

    Path images = host.runDir().resolve("sd-images");
    layer.checkpoint(id, images, false);
    assertEquals(ContainerStatus.STOPPED, layer.inspect(id).status());
    layer.restore(id, images);
    assertEquals("running", exec(layer, id, "systemctl", "is-system-running"));
    assertEquals(journaldPid, exec(layer, id, "systemctl", "show", "-p", "MainPID", "--value", "systemd-journald"), "the same journald, not a new boot");
    assertEquals(bootId, exec(layer, id, "cat", "/proc/sys/kernel/random/boot_id"));
    String after = exec(layer, id, "systemctl", "list-units", "--state=active", "--no-legend", "--plain", "--no-pager");
    assertEquals(before, after, "the same units active");
    layer.exec(id, List.of("logger", "-t", "berth-probe", "after restore"), T);
    assertTrue(exec(layer, id, "journalctl", "-t", "berth-probe", "--no-pager").contains("after restore"), "journald still takes messages");

    // Under another data root and cgroup root (another host's layout): every task in b's cgroups, in every hierarchy,
    // and the tree below them its root's again, so its systemd goes on managing services there.
    Path moved = host.runDir().resolve("sd-images-2");
    layer.checkpoint(id, moved, false);
    Path upper = host.runDir().resolve("sd-upper");
    Commands.Result copy = Commands.run(List.of("cp", "-a", layer.upperDir(id).toString(), upper.toString()), null, Duration.ofSeconds(120));
    assertTrue(copy.ok(), copy.describe());
    layer.destroy(id);
    IsolationLayer b = host.layer("c2", c -> c.withCgroupRoot(host.cgroupRoot("c2")));
    b.prepare(debian(id), net);
    Commands.Result back = Commands.run(List.of("cp", "-a", upper + "/.", b.upperDir(id).toString()), null, Duration.ofSeconds(120));
    assertTrue(back.ok(), back.describe());
    int pid = b.restore(id, moved);
    assertEquals("running", exec(b, id, "systemctl", "is-system-running"));
    assertEquals(journaldPid, exec(b, id, "systemctl", "show", "-p", "MainPID", "--value", "systemd-journald"));
    String bRoot = "/" + b.config().cgroupRoot() + "/" + id.value();
    for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
      String path = line.substring(line.indexOf(':', line.indexOf(':') + 1) + 1);
      assertTrue(path.startsWith(bRoot), "the restored init is in b's cgroups in every hierarchy: " + line);
    }
    long base = Long.parseLong(Files.readString(Path.of("/proc", Integer.toString(pid), "uid_map")).trim().split("\\s+")[1]);
    Path slice = Path.of("/sys/fs/cgroup/memory" + bRoot, "system.slice");
    assertEquals((int) base, uid(slice), "the restored tree is the container's root's");
    assertEquals((int) base, uid(slice.resolve("cgroup.procs")));
    b.exec(id, List.of("systemctl", "restart", "systemd-logind"), T);
    assertEquals("active", exec(b, id, "systemctl", "is-active", "systemd-logind"), "a service restarted after the move gets its cgroups");
    b.destroy(id);
  }

  @Test
  void stopHaltsSystemdPoweroffInsideEndsCleanlyAndAStuckHaltIsKilled() throws Exception {
    IsolationLayer layer = host.layer("b");
    java.util.concurrent.BlockingQueue<ContainerExit> exits = new java.util.concurrent.LinkedBlockingQueue<>();
    layer.onExit(exits::add);
    ContainerId id = host.newId("stop");
    layer.prepare(debian(id), null);

    // A stop asks systemd to halt (SIGRTMIN+3): it shuts down and the kernel ends it by SIGINT, not our SIGKILL.
    layer.start(id);
    awaitRunning(layer, id);
    layer.stop(id, Duration.ofSeconds(30));
    ContainerExit stopped = exits.poll(30, java.util.concurrent.TimeUnit.SECONDS);
    assertNotNull(stopped, "no exit reported after the stop");
    assertTrue(stopped.requested() && stopped.shutDown() && stopped.signal().orElse(0) == 2,
        "systemd halted itself (SIGINT from its reboot(2)), not the escalation's SIGKILL: " + stopped);

    // poweroff from inside: the same clean end, not asked by Berth.
    layer.start(id);
    awaitRunning(layer, id);
    layer.exec(id, List.of("systemctl", "poweroff"), T);
    ContainerExit off = exits.poll(30, java.util.concurrent.TimeUnit.SECONDS);
    assertNotNull(off, "the container did not end within 30 s of systemctl poweroff");
    assertTrue(!off.requested() && off.shutDown(), "poweroff inside ends as a shutdown, not a crash: " + off);
    assertEquals(ContainerStatus.STOPPED, layer.inspect(id).status());

    // reboot from inside: its own end too, said as a reboot (the kernel's SIGHUP), so the node can start it again.
    layer.start(id);
    awaitRunning(layer, id);
    layer.exec(id, List.of("systemctl", "reboot"), T);
    ContainerExit rebooted = exits.poll(30, java.util.concurrent.TimeUnit.SECONDS);
    assertNotNull(rebooted, "the container did not end within 30 s of systemctl reboot");
    assertTrue(!rebooted.requested() && rebooted.rebooted() && !rebooted.shutDown() && rebooted.signal().orElse(0) == 1,
        "reboot inside ends as a reboot: " + rebooted);

    // A halt that cannot finish within the timeout (1 ms) is escalated to SIGKILL.
    layer.start(id);
    awaitRunning(layer, id);
    layer.stop(id, Duration.ofMillis(1));
    ContainerExit killed = exits.poll(30, java.util.concurrent.TimeUnit.SECONDS);
    assertNotNull(killed, "no exit reported after the escalated stop");
    assertTrue(killed.requested() && !killed.shutDown() && killed.signal().orElse(0) == 9, "escalated to SIGKILL: " + killed);
  }

  static int uid(Path p) throws Exception {
    return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
  }

  /** The host pids of the processes in the pid namespace of {@code init}. */
  static List<Integer> pidsInNamespaceOf(int init) throws Exception {
    Path ns = Files.readSymbolicLink(Path.of("/proc", Integer.toString(init), "ns/pid"));
    List<Integer> pids = new ArrayList<>();
    try (var s = Files.list(Path.of("/proc"))) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (!n.chars().allMatch(Character::isDigit)) continue;
        try {
          if (Files.readSymbolicLink(p.resolve("ns/pid")).equals(ns)) pids.add(Integer.parseInt(n));
        } catch (java.io.IOException gone) {
          // exited meanwhile
        }
      }
    }
    assertNotNull(ns);
    return pids;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
