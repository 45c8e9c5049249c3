package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.rootfs.Rootfs;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Start, namespaces, rootfs, stop, destroy and bad input, asserted on the kernel's view. */
class LifecycleIT {
  private TestHost host;
  private IsolationLayer layer;
  private final BlockingQueue<ContainerExit> exits = new LinkedBlockingQueue<>();

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("a");
    layer.onExit(exits::add);
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  @Test
  void initRunsInItsOwnNamespacesOnItsOwnRootAndHostname() throws Exception {
    ContainerId id = host.newId("ns");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    int pid = layer.start(id);

    for (String ns : List.of("pid", "mnt", "uts", "ipc", "net")) {
      String mine = Files.readSymbolicLink(Path.of("/proc/self/ns", ns)).toString();
      String its = Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "ns", ns)).toString();
      assertNotEquals(mine, its, ns + " namespace of the init must differ from the host's");
    }
    // Inside, ps sees only the init and itself.
    ExecResult ps = layer.exec(id, List.of("ps", "-o", "pid,comm"), Duration.ofSeconds(10));
    assertEquals(0, ps.exitCode(), ps.stderr());
    List<String> rows = ps.stdout().lines().skip(1).map(String::strip).toList();
    assertEquals(2, rows.size(), "ps inside must see only the init and ps: " + ps.stdout());
    assertTrue(rows.get(0).startsWith("1 "), "the init is PID 1 inside: " + ps.stdout());
    // / holds the template's files only.
    ExecResult ls = layer.exec(id, List.of("ls", "-1a", "/"), Duration.ofSeconds(10));
    TreeSet<String> inside = new TreeSet<>(ls.stdout().lines().filter(n -> !n.equals(".") && !n.equals("..")).toList());
    Path template = layer.templates().resolve(TemplateRef.of("busybox")).rootfs();
    TreeSet<String> expected;
    try (var s = Files.list(template)) {
      expected = s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
    assertEquals(expected, inside, "/ inside the container must list the template's root");
    ExecResult hostPath = layer.exec(id, List.of("ls", "/work", "/tmp/berth-it"), Duration.ofSeconds(10));
    assertNotEquals(0, hostPath.exitCode(), "host paths must not be reachable: " + hostPath.stdout());
    assertEquals(id.value(), layer.exec(id, List.of("hostname"), Duration.ofSeconds(10)).stdout().strip());
    // The init holds nothing but stdin/out/err (CRIU needs this; nothing of the JVM leaks).
    try (var fds = Files.list(Path.of("/proc", Integer.toString(pid), "fd"))) {
      assertEquals(List.of("0", "1", "2"), fds.map(p -> p.getFileName().toString()).sorted().toList());
    }
    // The init is not a child of this JVM (a restart of the owner never takes it along).
    String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
    int ppid = Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    assertNotEquals(ProcessHandle.current().pid(), (long) ppid);

    assertThrows(ContainerStateException.class, () -> layer.start(id), "a second start of a running container");
    assertEquals(ContainerStatus.RUNNING, layer.inspect(id).status());

    // sleep as PID 1 has no SIGTERM handler, so the kernel ignores SIGTERM: stop escalates to SIGKILL.
    layer.stop(id, Duration.ofMillis(300));
    ContainerExit exit = exits.poll(5, TimeUnit.SECONDS);
    assertTrue(exit != null && exit.signal().orElse(0) == 9 && exit.requested(), "exit event after stop: " + exit);
    assertFalse(Files.exists(Path.of("/proc", Integer.toString(pid))), "init process gone after stop");
    assertEquals(ContainerStatus.STOPPED, layer.inspect(id).status());

    // A stopped container starts again on the same rootfs and network namespace.
    int again = layer.start(id);
    assertNotEquals(pid, again);
    assertEquals(ContainerStatus.RUNNING, layer.inspect(id).status());

    String veth = TestHost.vethOf(layer, id);
    Path dir = layer.config().dataRoot().resolve("containers").resolve(id.value());
    layer.destroy(id);
    assertNothingLeft(dir, id, veth, again);
  }

  @Test
  void aDataRootItsContainersCannotReachIsRefusedUpFront() throws Exception {
    Path closed = host.runDir().resolve("closed");
    Files.createDirectories(closed);
    Files.setPosixFilePermissions(closed, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    InvalidFieldException e = assertThrows(InvalidFieldException.class,
        () -> new IsolationLayer(IsolationConfig.defaults(closed.resolve("data"), host.bridge, "berth-it-" + host.run)));
    assertEquals("dataRoot", e.field());
    assertTrue(e.getMessage().contains(closed + " is not"), e.getMessage());
  }

  @Test
  void exitOfTheInitIsReportedWithItsCode() throws Exception {
    ContainerId id = host.newId("exit");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sh", "-c", "exit 7"), null);
    layer.start(id);
    ContainerExit exit = exits.poll(5, TimeUnit.SECONDS);
    assertTrue(exit != null && exit.exitCode().orElse(-1) == 7 && !exit.requested(), "exit event with code 7: " + exit);
    assertEquals(ContainerStatus.STOPPED, layer.inspect(id).status());
    assertEquals(exit.exitCode(), layer.lastExit(id).orElseThrow().exitCode(), "the status stays readable");
  }

  @Test
  void execRefusesMissingProgramsAndEnforcesItsTimeout() {
    ContainerId id = host.newId("exec");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    assertThrows(ContainerStateException.class, () -> layer.exec(id, List.of("true"), Duration.ofSeconds(5)), "exec in a stopped container");
    layer.start(id);
    assertEquals("command[0]", assertThrows(InvalidFieldException.class,
        () -> layer.exec(id, List.of("/usr/bin/no-such-tool"), Duration.ofSeconds(5))).field());
    assertEquals(3, layer.exec(id, List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Duration.ofSeconds(5)).exitCode());
    ExecResult slow = layer.exec(id, List.of("sleep", "30"), Duration.ofMillis(300));
    assertTrue(slow.timedOut(), "exec past its timeout is reported as timed out");
    // The helper turns the SIGTERM it gets on timeout into SIGKILL for the command: only the init is left.
    HostTests.await("the timed-out sleep is killed inside the container", Duration.ofSeconds(5), () -> layer.stats(id).pids() == 1);
  }

  @Test
  void badInputIsRefusedNamingTheFieldAndLeavesNothing() throws Exception {
    ContainerId id = host.newId("bad");
    Path dir = layer.config().dataRoot().resolve("containers").resolve(id.value());
    long ram = layer.config().host().memoryBytes();

    InvalidFieldException mem = assertThrows(InvalidFieldException.class,
        () -> layer.prepare(TestHost.spec(id, Limits.DEFAULT.withMemoryBytes(ram + (1L << 30)), "/bin/sh"), null));
    assertEquals("limits.memory", mem.field());
    InvalidFieldException cpu = assertThrows(InvalidFieldException.class,
        () -> layer.prepare(TestHost.spec(id, Limits.DEFAULT.withCpuMillis(layer.config().host().cpuMillis() + 1000), "/bin/sh"), null));
    assertEquals("limits.cpu", cpu.field());
    assertEquals("limits.memory", assertThrows(InvalidFieldException.class, () -> Limits.DEFAULT.withMemoryBytes(1 << 20)).field());
    assertEquals("limits.pids", assertThrows(InvalidFieldException.class, () -> Limits.DEFAULT.withPids(0)).field());
    assertEquals("limits.cpu", assertThrows(InvalidFieldException.class, () -> Limits.DEFAULT.withCpuMillis(0)).field());
    InvalidFieldException tpl = assertThrows(InvalidFieldException.class, () -> layer.prepare(
        new ContainerSpec(id, TemplateRef.of("no-such-template"), null, List.of("/bin/sh"), null, null, null, null), null));
    assertEquals("template", tpl.field());
    assertEquals("template", assertThrows(InvalidFieldException.class, () -> TemplateRef.of("../etc")).field());
    InvalidFieldException cmd = assertThrows(InvalidFieldException.class,
        () -> layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/no-such-program"), null));
    assertEquals("command[0]", cmd.field());
    assertEquals("container", assertThrows(InvalidFieldException.class, () -> ContainerId.of("Bad_Id")).field());
    assertEquals("network.bridge", assertThrows(InvalidFieldException.class, () -> layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sh"),
        new NetworkAttachment("198.18.0.10", 24, "198.18.0.1", "btnosuch0"))).field());
    assertNothingLeft(dir, id, TestHost.vethOf(layer, id), 0);

    // A prepare that fails at its last step (the gateway is not on the container's subnet, so the
    // default route is refused) undoes the veth, net namespace, cgroup, overlay and directory.
    NetworkAttachment good = host.bridged(10);
    NetworkAttachment offLink = new NetworkAttachment(good.address(), 24, "198.19.254.1", good.bridge());
    IsolationException failed = assertThrows(IsolationException.class,
        () -> layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sh"), offLink));
    assertTrue(failed.getMessage().contains("attach veth"), failed.getMessage());
    assertNothingLeft(dir, id, TestHost.vethOf(layer, id), 0);
  }

  private void assertNothingLeft(Path dir, ContainerId id, String veth, int pid) throws IOException {
    HostTests.assertNothingLeft(layer, dir, id, veth, pid);
  }
}
