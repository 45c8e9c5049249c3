package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.rootfs.Rootfs;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * release() takes a container down as a host reboot would (processes, veth, net namespace, mount,
 * cgroup) and keeps its writable layer; revive() sets it up again, and it starts with its files.
 */
class ReleaseReviveIT {
  private TestHost host;
  private IsolationLayer layer;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("rr");
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  @Test
  void releaseLeavesOnlyTheDirectoryAndReviveBringsTheContainerBack() throws Exception {
    ContainerId id = host.newId("rr");
    NetworkAttachment net = host.bridged(20);
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), net);
    int pid = layer.start(id);
    assertEquals(0, layer.exec(id, List.of("sh", "-c", "echo kept > /root/mark"), Duration.ofSeconds(5)).exitCode());
    String veth = layer.inspect(id).veth().orElseThrow();
    Path dir = layer.config().dataRoot().resolve("containers").resolve(id.value());

    layer.release(id);
    HostTests.await("init " + pid + " is gone", Duration.ofSeconds(5), () -> !Files.exists(Path.of("/proc/" + pid)));
    assertEquals(List.of(), Rootfs.mountsUnder(dir), "no mount left under " + dir);
    assertFalse(Files.exists(Path.of("/sys/fs/cgroup/pids", layer.config().cgroupRoot(), id.value())), "cgroup removed");
    assertFalse(Files.exists(Path.of("/sys/class/net", veth)), "veth " + veth + " removed");
    assertFalse(HostTests.bridgeTable(layer).contains(veth), "the anti-spoofing rules of " + veth + " removed");
    assertTrue(Files.isDirectory(dir), "the container's directory (its writable layer) is kept");
    assertEquals(ContainerStatus.STOPPED, layer.inspect(id).status());
    assertTrue(layer.lastExit(id).isEmpty(), "no exit is recorded: the status was lost with the host");

    layer.revive(id);
    layer.revive(id); // idempotent
    int again = layer.start(id);
    assertTrue(again > 0);
    ExecResult mark = layer.exec(id, List.of("cat", "/root/mark"), Duration.ofSeconds(5));
    assertEquals("kept", mark.stdout().strip(), "the writable layer survived: " + mark.stderr());
    assertTrue(Files.exists(Path.of("/sys/class/net", veth)), "veth " + veth + " is back");
    assertTrue(HostTests.bridgeTable(layer).contains("\"" + veth + "\" : jump"), "the anti-spoofing rules of " + veth + " are back");
    String mac = layer.inspect(id).mac().orElseThrow();
    assertTrue(layer.exec(id, List.of("ip", "-o", "link", "show", "eth0"), Duration.ofSeconds(5)).stdout().contains("link/ether " + mac),
        "the revived eth0 has the same MAC " + mac);

    layer.destroy(id);
    HostTests.assertNothingLeft(layer, dir, id, veth, again);
  }
}
