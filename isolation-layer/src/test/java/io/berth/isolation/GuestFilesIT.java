package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * A container's /etc says what Berth gave it (GuestFiles, berth-nsexec's etcfiles.c): its hostname, its address in
 * /etc/hosts, the host's name servers; the container's own lines survive a restart, Berth's are not repeated, a file
 * the container made a symlink is left alone, and no write reaches the host through one.
 */
class GuestFilesIT {
  private static final Duration T = Duration.ofSeconds(20);
  private static final GuestDns DNS = new GuestDns(List.of("198.18.0.53"), List.of("berth.test"));
  private TestHost host;

  @BeforeEach
  void setUp() throws Exception {
    HostTests.requireRootLinux();
    host = new TestHost();
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  private static String sh(IsolationLayer layer, ContainerId id, String script) {
    ExecResult r = layer.exec(id, List.of("/bin/sh", "-c", script), T);
    assertEquals(0, r.exitCode(), script + ": " + r.stdout() + r.stderr());
    return r.stdout();
  }

  @Test
  void etcSaysWhatBerthGaveItAndKeepsTheContainersOwnLinesAcrossARestart() throws Exception {
    IsolationLayer layer = host.layer("a", c -> c.withDns(DNS));
    ContainerId id = host.newId("etc");
    NetworkAttachment net = host.bridged(31);
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), net);
    layer.start(id);

    String name = id.value();
    assertEquals(name + "\n", sh(layer, id, "cat /etc/hostname"));
    String hosts = sh(layer, id, "cat /etc/hosts");
    assertTrue(hosts.contains(net.address() + "\t" + name + "\t# berth\n"), hosts);
    assertTrue(hosts.startsWith("127.0.0.1"), "the template's own localhost line stays first: " + hosts);
    assertEquals("search berth.test # berth\nnameserver 198.18.0.53 # berth\n", sh(layer, id, "cat /etc/resolv.conf"));
    assertEquals("0 644\n", sh(layer, id, "stat -c '%u %a' /etc/hosts"), "the container's root owns what Berth wrote");
    assertFalse(sh(layer, id, "ls /etc").contains("berth-new"), "no temporary left behind");

    // The operator inside adds lines of their own, and makes /etc/hostname a link to a file the host has and the
    // container does not: Berth must neither follow it on the host nor replace the link.
    sh(layer, id, "echo '10.1.2.3 db' >> /etc/hosts; echo 'options ndots:2' >> /etc/resolv.conf; rm /etc/hostname; "
        + "ln -s /etc/berth-host-only /etc/hostname");
    Path hostOnly = Path.of("/etc/berth-host-only");
    Files.deleteIfExists(hostOnly);
    try {
      Files.writeString(hostOnly, "the host's\n");
      layer.stop(id, Duration.ofSeconds(5));
      layer.start(id);
      assertEquals("the host's\n", Files.readString(hostOnly), "the host's file is untouched");
      assertEquals("/etc/berth-host-only\n", sh(layer, id, "readlink /etc/hostname"), "the container's link is left as it made it");
    } finally {
      Files.deleteIfExists(hostOnly);
    }
    hosts = sh(layer, id, "cat /etc/hosts");
    assertTrue(hosts.contains("10.1.2.3 db\n"), hosts);
    assertEquals(1, hosts.lines().filter(l -> l.endsWith("# berth")).count(), "one line of Berth's after two starts: " + hosts);
    String resolv = sh(layer, id, "cat /etc/resolv.conf");
    assertEquals("options ndots:2\nsearch berth.test # berth\nnameserver 198.18.0.53 # berth\n", resolv);
    assertEquals(name + "\n", sh(layer, id, "hostname"), "the kernel's hostname is Berth's either way");
    layer.destroy(id);
  }
}
