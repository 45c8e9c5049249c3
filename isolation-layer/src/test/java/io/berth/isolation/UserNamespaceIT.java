package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.idmap.IdRanges;
import io.berth.isolation.process.Commands;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Root inside is nobody outside: each container's user namespace, its id range, the idmapped layers (ids on
 * disk unshifted), and a checkpoint restored on a host that gave the container another range. Each claim is
 * checked against a privileged container, which shares the host's ids, so the test can fail.
 */
class UserNamespaceIT {
  private static final Duration T = Duration.ofSeconds(10);
  private TestHost host;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  private static String read(Path p) throws Exception {
    return Files.readString(p).strip();
  }

  private static String uidMap(int pid) throws Exception {
    return read(Path.of("/proc", Integer.toString(pid), "uid_map")).replaceAll("\\s+", " ");
  }

  /** The counter the container writes (empty while the shell rewrites it: 0). */
  private static long counter(IsolationLayer layer, ContainerId id) {
    String s = layer.exec(id, List.of("cat", "/tmp/counter"), T).stdout().strip();
    return s.isEmpty() ? 0 : Long.parseLong(s);
  }

  private static int hostUid(Path p) throws Exception {
    return (Integer) Files.getAttribute(p, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
  }

  @Test
  void rootInsideIsAnUnprivilegedRangeOutsideAndTheLayerKeepsDiskIds() throws Exception {
    IsolationLayer layer = host.layer("a");
    ContainerId id = host.newId("uns");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    int pid = layer.start(id);

    String[] map = uidMap(pid).split(" ");
    long base = Long.parseLong(map[1]);
    assertEquals("0", map[0], "the container's uid 0 is mapped");
    assertEquals(Long.toString(IdRanges.SIZE), map[2], "65,536 ids");
    assertTrue(base >= IdRanges.FIRST && base + IdRanges.SIZE - 1 <= IdRanges.LAST, "range within systemd's container range: " + base);
    assertEquals(uidMap(pid), read(Path.of("/proc", Integer.toString(pid), "gid_map")).replaceAll("\\s+", " "), "gids map like uids");
    assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/user")), Files.readSymbolicLink(Path.of("/proc", Integer.toString(pid), "ns/user")),
        "the init has a user namespace of its own");
    String status = read(Path.of("/proc", Integer.toString(pid), "status"));
    assertTrue(status.contains("Uid:\t" + base + "\t" + base + "\t" + base + "\t" + base), "the init's uids are the range's first, on the host:\n" + status);
    assertTrue(status.contains("Groups:\t\n") || status.matches("(?s).*Groups:\\s*\n.*"), "no host supplementary group: " + status);

    // Inside it is root; an exec'd process too.
    assertEquals("0", layer.exec(id, List.of("id", "-u"), T).stdout().strip());
    assertEquals("0 " + base + " " + IdRanges.SIZE, layer.exec(id, List.of("cat", "/proc/self/uid_map"), T).stdout().strip().replaceAll("\\s+", " "),
        "an exec'd process joins the container's user namespace");
    // Template files are root's inside, though nothing was chowned; what root makes inside is base outside and 0 on disk.
    assertEquals("0", layer.exec(id, List.of("stat", "-c", "%u", "/bin/busybox"), T).stdout().strip());
    assertEquals(0, layer.exec(id, List.of("touch", "/root/made-inside"), T).exitCode());
    Path dir = layer.config().dataRoot().resolve("containers").resolve(id.value());
    assertEquals(base, hostUid(dir.resolve("rootfs/root/made-inside")), "through the container's rootfs, the host sees the range's uid");
    assertEquals(0, hostUid(dir.resolve("layer/upper/root/made-inside")), "on disk the layer keeps the container's own id (0)");
    Path template = layer.templates().resolve(io.berth.protocol.spec.TemplateRef.of("busybox")).rootfs();
    assertEquals(0, hostUid(template.resolve("bin/busybox")), "the template itself is untouched");
    // The host's root is no one to the container's layer: writing through the rootfs as host root is refused.
    assertFalse(Commands.run(List.of("touch", dir.resolve("rootfs/root/by-host-root").toString()), null, T).ok(),
        "host uid 0 has no mapping in the container's layers");

    int exitedPid = pid;
    layer.destroy(id);
    HostTests.assertNothingLeft(layer, dir, id, TestHost.vethOf(layer, id), exitedPid);
  }

  @Test
  void twoContainersNeverShareAnIdAndAPrivilegedOneSharesTheHosts() throws Exception {
    IsolationLayer a = host.layer("a");
    IsolationLayer b = host.layer("b");
    ContainerId one = host.newId("one");
    ContainerId two = host.newId("two");
    ContainerId priv = host.newId("priv");
    a.prepare(TestHost.spec(one, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    b.prepare(TestHost.spec(two, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    a.prepare(TestHost.privilegedSpec(priv, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    long base1 = Long.parseLong(uidMap(a.start(one)).split(" ")[1]);
    long base2 = Long.parseLong(uidMap(b.start(two)).split(" ")[1]);
    assertTrue(Math.abs(base1 - base2) >= IdRanges.SIZE, "ranges " + base1 + " and " + base2 + " overlap (two data roots, one kernel)");

    int p = a.start(priv);
    assertEquals("0 0 4294967295", uidMap(p), "a privileged container's root is the host's root");
    assertEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/user")), Files.readSymbolicLink(Path.of("/proc", Integer.toString(p), "ns/user")));
    assertEquals(0, a.exec(priv, List.of("touch", "/root/made-inside"), T).exitCode());
    assertEquals(0, hostUid(a.config().dataRoot().resolve("containers").resolve(priv.value()).resolve("rootfs/root/made-inside")),
        "what a privileged root makes is the host root's");
  }

  @Test
  void aCheckpointRestoresOnAHostThatGaveTheContainerAnotherRange() throws Exception {
    IsolationLayer a = host.layer("a");
    ContainerId id = host.newId("move");
    NetworkAttachment net = host.bridged(30);
    ContainerSpec spec = TestHost.spec(id, Limits.DEFAULT, "/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; usleep 50000; done");
    a.prepare(spec, net);
    long sourceBase = Long.parseLong(uidMap(a.start(id)).split(" ")[1]);
    await("the counter runs", Duration.ofSeconds(20), () -> counter(a, id) > 10);
    Path images = host.runDir().resolve("images");
    a.checkpoint(id, images, false);
    Path upper = host.runDir().resolve("upper-copy");
    assertTrue(Commands.run(List.of("cp", "-a", a.upperDir(id) + "/.", upper.toString()), null, Duration.ofSeconds(60)).ok());
    String written = Files.readString(upper.resolve("tmp/counter")).strip();
    long frozen = written.isEmpty() ? 0 : Long.parseLong(written); // empty when frozen between the shell's truncate and write
    a.destroy(id);

    // Another container takes the range the source had, as another tenant would on the target host.
    Path squatter = host.runDir().resolve("squatter");
    ContainerId other = host.newId("squat");
    Files.createDirectories(squatter.resolve("containers").resolve(other.value()));
    IdRanges ranges = IdRanges.machine();
    assertEquals(sourceBase, ranges.claim(other, squatter, sourceBase), "the source's range is free after its destroy");
    try {
      IsolationLayer b = host.layer("b");
      b.prepare(spec, net);
      assertTrue(Commands.run(List.of("cp", "-a", upper + "/.", b.upperDir(id).toString()), null, Duration.ofSeconds(60)).ok());
      int pid = b.restore(id, images);
      long targetBase = Long.parseLong(uidMap(pid).split(" ")[1]);
      assertNotEquals(sourceBase, targetBase, "the target gave another range");
      ExecResult first = b.exec(id, List.of("cat", "/tmp/counter"), T);
      assertEquals(0, first.exitCode(), "exec after the restore: " + first);
      await("counting goes on after the restore", Duration.ofSeconds(20), () -> counter(b, id) > frozen + 5);
      assertEquals("0", b.exec(id, List.of("stat", "-c", "%u", "/tmp/counter"), T).stdout().strip(), "its files are still root's inside");
      assertEquals(0, b.exec(id, List.of("touch", "/root/after"), T).exitCode(), "root inside can still write its layer");
      assertEquals(0, hostUid(b.upperDir(id).resolve("root/after")), "and it lands as 0 on disk");
      // (The gateway answers no container, not even ping: the host pings it instead, and its replies pass
      // the anti-spoofing rules only from the MAC CRIU restored.)
      Commands.Result ping = Commands.run(List.of("busybox", "ping", "-c", "1", "-W", "2", net.address()), null, T);
      assertTrue(ping.ok(), "the restored eth0 works: " + ping.describe());
    } finally {
      ranges.release(other, squatter);
    }
  }
}
