package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.network.Network;
import io.berth.isolation.process.Commands;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two containers on one bridge reach each other, and the host reaches them; each carries the MAC its id
 * gives; each start and each restore announces the container's address. (The gateway itself serves
 * nothing to containers, not even ping: {@link NetworkFilterIT}.)
 */
class NetworkIT {
  private TestHost host;
  private IsolationLayer layer;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("a");
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  @Test
  void containersReachEachOtherAndTheHostReachesThem() throws Exception {
    ContainerId a = host.newId("net-a");
    ContainerId b = host.newId("net-b");
    NetworkAttachment na = host.bridged(10);
    NetworkAttachment nb = host.bridged(11);
    layer.prepare(TestHost.spec(a, Limits.DEFAULT, "/bin/sleep", "1000"), na);
    layer.prepare(TestHost.spec(b, Limits.DEFAULT, "/bin/sleep", "1000"), nb);
    layer.start(a);
    layer.start(b);

    // The bridge keeps the MAC its gateway address gives, set (addr_assign_type 3), whatever ports join.
    Path bridgeSys = Path.of("/sys/class/net", host.bridge);
    assertEquals("3", Files.readString(bridgeSys.resolve("addr_assign_type")).strip(), "the bridge's MAC is set, not its ports' lowest");
    assertEquals(Network.bridgeMac(na.gateway()), Files.readString(bridgeSys.resolve("address")).strip(), "the bridge's MAC");
    String vethA = TestHost.vethOf(layer, a);
    assertTrue(vethA.length() <= 15);
    assertEquals(host.bridge, Files.readSymbolicLink(Path.of("/sys/class/net", vethA, "master")).getFileName().toString(),
        "the host end is enslaved to the bridge");
    ExecResult addr = layer.exec(a, List.of("ip", "-4", "-o", "addr", "show", "eth0"), Duration.ofSeconds(10));
    assertTrue(addr.stdout().contains(na.address() + "/24"), "eth0 holds the address: " + addr.stdout());
    ExecResult route = layer.exec(a, List.of("ip", "route"), Duration.ofSeconds(10));
    assertTrue(route.stdout().contains("default via " + na.gateway()), "default route via the bridge: " + route.stdout());

    String mac = Network.macAddress(a.value());
    assertEquals(Optional.of(mac), layer.inspect(a).mac(), "inspect shows a's MAC");
    ExecResult link = layer.exec(a, List.of("ip", "-o", "link", "show", "eth0"), Duration.ofSeconds(10));
    assertTrue(link.stdout().contains("link/ether " + mac), "eth0 carries the MAC derived from the id: " + link.stdout());

    Commands.Result fromHost = Commands.run(List.of("busybox", "ping", "-c", "1", "-W", "2", na.address()), null, Duration.ofSeconds(10));
    assertTrue(fromHost.ok(), "the host pings a: " + fromHost.describe());
    ExecResult toB = layer.exec(a, List.of("ping", "-c", "1", "-W", "2", nb.address()), Duration.ofSeconds(10));
    assertEquals(0, toB.exitCode(), "a pings b: " + toB.stdout() + toB.stderr());
    ExecResult lo = layer.exec(b, List.of("ping", "-c", "1", "-W", "2", "127.0.0.1"), Duration.ofSeconds(10));
    assertEquals(0, lo.exitCode(), "loopback is up in b");

    layer.destroy(a);
    assertFalse(Files.exists(Path.of("/sys/class/net", vethA)), "destroy removes the veth");
  }

  /**
   * What an earlier holder of the address leaves behind, a STALE neighbour entry under another MAC, is
   * replaced by the container's own MAC as soon as it starts, and again when it is restored, though its
   * command (sleep) never sends a thing: only Berth's announcement can have changed it.
   */
  @Test
  void startAndRestoreAnnounceTheAddressOverAStaleNeighbourEntry() throws Exception {
    // Another port keeps the bridge's carrier through the restore, which replaces the veth (as a host's uplink
    // does): a bridge without carrier has its neighbour entries flushed, and there would be no entry to fix.
    // (So would one whose MAC followed its ports': ensureBridge sets it.)
    ContainerId other = host.newId("garp-other");
    layer.prepare(TestHost.spec(other, Limits.DEFAULT, "/bin/sleep", "1000"), host.bridged(13));
    layer.start(other);
    ContainerId id = host.newId("garp");
    NetworkAttachment net = host.bridged(12);
    String mac = Network.macAddress(id.value());
    String earlier = "02:00:5e:10:00:01";
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), net);
    host.staleNeighbour(net.address(), earlier);
    assertEquals(earlier, host.neighbourMac(net.address()), "the host's entry names the earlier holder before the start");
    layer.start(id);
    HostTests.await("the host's neighbour entry for " + net.address() + " names " + mac + " after the start", Duration.ofSeconds(3), () -> mac.equals(host.neighbourMac(net.address())));

    Path images = host.runDir().resolve("garp-images");
    layer.checkpoint(id, images, false);
    host.staleNeighbour(net.address(), earlier);
    layer.restore(id, images);
    HostTests.await("the host's neighbour entry for " + net.address() + " names " + mac + " after the restore", Duration.ofSeconds(3), () -> mac.equals(host.neighbourMac(net.address())));
    layer.destroy(id);
    layer.destroy(other);
  }
}
