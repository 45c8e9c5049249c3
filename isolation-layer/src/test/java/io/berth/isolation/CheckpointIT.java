package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.process.Commands;
import io.berth.protocol.InvalidFieldException;
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
 * CRIU checkpoint and restore of a process whose counter lives only in its memory: after restore
 * it goes on from where it was, in place and under another data root (image and upper layer
 * copied there), keeping its hostname and address, and its confinement: CRIU dumps and restores the
 * capability sets and the seccomp filter, so the restored init is as confined as the dumped one, and
 * the masked and read-only /proc and /sys, the devices cgroup and the cgroup namespace come back too.
 */
class CheckpointIT {
  /** The counter is a shell variable; the file is only where it is shown, overwritten each tick. */
  private static final String COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; usleep 50000; done";

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

  private static long counter(IsolationLayer layer, ContainerId id) {
    ExecResult r = layer.exec(id, List.of("cat", "/tmp/counter"), Duration.ofSeconds(10));
    String s = r.stdout().strip();
    return s.isEmpty() ? 0 : Long.parseLong(s);
  }

  private static void awaitCounter(IsolationLayer layer, ContainerId id, long atLeast) {
    await("the counter in " + id + " reaches " + atLeast, Duration.ofSeconds(20), () -> counter(layer, id) >= atLeast);
  }

  @Test
  void counterGoesOnAfterRestoreInPlaceAndUnderAnotherDataRoot() throws Exception {
    IsolationLayer a = host.layer("a");
    ContainerId id = host.newId("cr");
    NetworkAttachment net = host.bridged(20);
    ContainerSpec spec = TestHost.spec(id, Limits.DEFAULT, "/bin/sh", "-c", COUNTER);
    a.prepare(spec, net);
    Confinement.assertConfined(Confinement.status(a.start(id)), "the init before any checkpoint");
    awaitCounter(a, id, 20);
    Escapes.assertProcSysDevicesConfined(a, id);
    double uptimeBefore = uptime(a, id);

    // 1. In place, leaving it stopped.
    Path images1 = host.runDir().resolve("images-1");
    a.checkpoint(id, images1, false);
    assertEquals("700", Integer.toOctalString(Files.getPosixFilePermissions(images1).stream()
        .mapToInt(p -> 1 << (8 - p.ordinal())).sum()), "images directory mode");
    assertEquals(ContainerStatus.STOPPED, a.inspect(id).status());
    long frozen = written(a.upperDir(id).resolve("tmp/counter"));
    assertTrue(frozen >= 20);
    Thread.sleep(300);
    assertEquals(frozen, written(a.upperDir(id).resolve("tmp/counter")), "nothing counts while checkpointed");

    int pid = a.restore(id, images1);
    assertEquals(ContainerStatus.RUNNING, a.inspect(id).status());
    assertTrue(pid > 0);
    Confinement.assertConfined(Confinement.status(pid), "the init restored in place");
    awaitCounter(a, id, frozen + 10);
    long afterRestore = counter(a, id);
    assertTrue(afterRestore > frozen, "counting went on from " + frozen + " (now " + afterRestore + "), not from 1");
    assertEquals(id.value(), a.exec(id, List.of("hostname"), Duration.ofSeconds(10)).stdout().strip());
    assertTrue(a.exec(id, List.of("ip", "-4", "-o", "addr"), Duration.ofSeconds(10)).stdout().contains(net.address() + "/24"));
    assertMacAndReachable(a, id, net);
    Escapes.assertProcSysDevicesConfined(a, id); // masks, read-only paths, devices cgroup and cgroup namespace came back

    // 2. To another data root on this machine: dump, copy image and upper layer, restore there.
    Path images2 = host.runDir().resolve("images-2");
    a.checkpoint(id, images2, false);
    long frozen2 = written(a.upperDir(id).resolve("tmp/counter"));
    IsolationLayer b = host.layer("b");
    Path movedImages = host.runDir().resolve("images-moved");
    copy(images2, movedImages);
    Path upperCopy = host.runDir().resolve("upper-copy");
    copy(a.upperDir(id), upperCopy);
    int oldPid = a.inspect(id).initPid();
    a.destroy(id);
    HostTests.assertNothingLeft(a, a.config().dataRoot().resolve("containers").resolve(id.value()), id, TestHost.vethOf(a, id), oldPid);

    b.prepare(spec, net);
    Commands.Result r = Commands.run(List.of("cp", "-a", upperCopy + "/.", b.upperDir(id).toString()), null, Duration.ofSeconds(60));
    assertTrue(r.ok(), r.describe());
    Confinement.assertConfined(Confinement.status(b.restore(id, movedImages)), "the init restored under another data root");
    assertEquals(ContainerStatus.RUNNING, b.inspect(id).status());
    awaitCounter(b, id, frozen2 + 10);
    assertTrue(counter(b, id) > frozen2, "counting went on under the other data root");
    assertEquals(id.value(), b.exec(id, List.of("hostname"), Duration.ofSeconds(10)).stdout().strip());
    assertTrue(b.exec(id, List.of("ip", "-4", "-o", "addr"), Duration.ofSeconds(10)).stdout().contains(net.address() + "/24"));
    assertMacAndReachable(b, id, net);
    Escapes.assertProcSysDevicesConfined(b, id);
    // Its own view came along: /proc/meminfo bound again from b's LXCFS (the same device as b's mount),
    // and its clocks (time namespace) went on rather than starting again.
    assertEquals("MemTotal: 262144 kB", b.exec(id, List.of("grep", "^MemTotal:", "/proc/meminfo"), Duration.ofSeconds(10)).stdout()
        .strip().replaceAll("\\s+", " "), "the restored container's meminfo under the other data root");
    assertEquals(device(Files.readAllLines(Path.of("/proc/self/mountinfo")), b.lxcfs().mount().toString()),
        device(b.exec(id, List.of("cat", "/proc/self/mountinfo"), Duration.ofSeconds(10)).stdout().lines().toList(), "/proc/meminfo"),
        "the restored /proc/meminfo is a bind of b's LXCFS");
    assertTrue(uptime(b, id) > uptimeBefore, "the container's uptime went on across the moves (" + uptimeBefore + " s before)");

    // 3. Checkpoint leaving it running: it keeps counting.
    Path images3 = host.runDir().resolve("images-3");
    b.checkpoint(id, images3, true);
    assertEquals(ContainerStatus.RUNNING, b.inspect(id).status());
    long now = counter(b, id);
    awaitCounter(b, id, now + 5);

    assertEquals("imagesDir", assertThrows(InvalidFieldException.class, () -> b.restore(id, host.runDir().resolve("nothing-here"))).field());
    assertThrows(ContainerStateException.class, () -> b.restore(id, images3), "restore over a running container");
  }

  private static double uptime(IsolationLayer layer, ContainerId id) {
    return Double.parseDouble(layer.exec(id, List.of("cat", "/proc/uptime"), Duration.ofSeconds(10)).stdout().split(" ")[0]);
  }

  /** major:minor (field 3) of the last mount at {@code point} in a mountinfo. */
  private static String device(List<String> mountinfo, String point) {
    String dev = null;
    for (String line : mountinfo) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].equals(point)) dev = f[2];
    }
    assertTrue(dev != null, "a mount at " + point);
    return dev;
  }

  /**
   * CRIU re-created eth0 from its images: it has the MAC the id gives, and the host reaches it (its replies
   * pass the anti-spoofing rules of this data root, which name that MAC, on the re-created veth).
   */
  private static void assertMacAndReachable(IsolationLayer layer, ContainerId id, NetworkAttachment net) {
    String mac = io.berth.isolation.network.Network.macAddress(id.value());
    assertTrue(layer.exec(id, List.of("ip", "-o", "link", "show", "eth0"), Duration.ofSeconds(10)).stdout().contains("link/ether " + mac),
        "the restored eth0 keeps the MAC " + mac);
    assertTrue(HostTests.bridgeTable(layer).contains("ether saddr != " + mac + " drop"), "the anti-spoofing rules hold after restore");
    Commands.Result ping = Commands.run(List.of("busybox", "ping", "-c", "1", "-W", "2", net.address()), null, Duration.ofSeconds(10));
    assertTrue(ping.ok(), "the host reaches the restored container: " + ping.describe());
  }

  @Test
  void counterGoesOnAfterItsDiskImageMovedToAnotherDataRoot() throws Exception {
    IsolationLayer a = host.layer("a");
    ContainerId id = host.newId("img");
    NetworkAttachment net = host.bridged(21);
    ContainerSpec spec = TestHost.spec(id, Limits.DEFAULT.withDiskBytes(256L << 20), "/bin/sh", "-c", COUNTER);
    a.prepare(spec, net);
    a.start(id);
    awaitCounter(a, id, 20);
    Path images = host.runDir().resolve("images-img");
    a.checkpoint(id, images, false);
    long frozen = written(a.upperDir(id).resolve("tmp/counter"));

    // The source lets go of its disk (unmounted: the file is consistent), which moves as one sparse file.
    a.release(id);
    IsolationLayer b = host.layer("b");
    Path incoming = b.config().imagesRoot().resolve("incoming.img");
    Files.createDirectories(incoming.getParent());
    Commands.Result cp = Commands.run(List.of("cp", "--sparse=always", a.diskImage(id).toString(), incoming.toString()), null, Duration.ofSeconds(60));
    assertTrue(cp.ok(), cp.describe());
    assertEquals(256L << 20, Files.size(incoming));
    Commands.Result blocks = Commands.run(List.of("stat", "-c", "%b", incoming.toString()), null, Duration.ofSeconds(10));
    assertTrue(Long.parseLong(blocks.stdout().strip()) * 512 < (32L << 20), "the copy stayed sparse: " + blocks.stdout().strip() + " blocks");
    int oldPid = a.inspect(id).initPid();
    a.destroy(id);
    HostTests.assertNothingLeft(a, a.config().dataRoot().resolve("containers").resolve(id.value()), id, TestHost.vethOf(a, id), oldPid);

    b.prepare(spec, net, incoming);
    assertEquals(b.config().imagesRoot().resolve(id.value() + ".img"), b.diskImage(id), "the target adopted the image");
    b.restore(id, images);
    awaitCounter(b, id, frozen + 10);
    assertTrue(counter(b, id) > frozen, "counting went on from " + frozen + " on the moved disk");
    assertMacAndReachable(b, id, net);
  }

  private static void copy(Path from, Path to) {
    Commands.Result r = Commands.run(List.of("cp", "-a", from.toString(), to.toString()), null, Duration.ofSeconds(60));
    assertTrue(r.ok(), r.describe());
  }

  /** The counter as the layer holds it; empty (0) when frozen between the shell's truncate and its write. */
  private static long written(Path counter) throws java.io.IOException {
    String s = Files.readString(counter).strip();
    return s.isEmpty() ? 0 : Long.parseLong(s);
  }
}
