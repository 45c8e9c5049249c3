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
 * gives. (The gateway itself serves nothing to containers, not even ping: {@link NetworkFilterIT}.)
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
}
