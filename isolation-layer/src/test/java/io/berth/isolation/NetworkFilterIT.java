package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.network.Network;
import io.berth.isolation.network.Nftables;
import io.berth.isolation.process.Commands;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The network filter against root inside a container: each attack is run from inside a running container
 * (its own tools, as its root), first from a privileged one, which has no anti-spoofing rules, to show it
 * works, then from an ordinary one, where the kernel's filter must stop it. What arrives is read from the
 * victim's kernel (its ICMP counters, the host's neighbour table, a listener's accept count), never from
 * the attacker's own view.
 */
class NetworkFilterIT {
  private static final Duration EXEC = Duration.ofSeconds(15);

  private TestHost host;
  private IsolationLayer layer;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("nf");
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  private ContainerId run(String name, int hostPart, boolean privileged) {
    ContainerId id = host.newId(name);
    layer.prepare(new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), Limits.DEFAULT, null, null, null,
        privileged), host.bridged(hostPart));
    layer.start(id);
    return id;
  }

  private String address(ContainerId id) {
    return layer.inspect(id).network().orElseThrow().address();
  }

  private ExecResult sh(ContainerId id, String script) {
    return layer.exec(id, List.of("sh", "-c", script), EXEC);
  }

  private void mustSucceed(ContainerId id, String script) {
    ExecResult r = sh(id, script);
    assertEquals(0, r.exitCode(), "in " + id + ": " + script + ": " + r.stdout() + r.stderr());
  }

  /** Echo requests the container's kernel has received ({@code Icmp: InEchos} of its net namespace). */
  private long inEchos(ContainerId id) throws IOException {
    List<String> lines = Files.readAllLines(Path.of("/proc", Integer.toString(layer.inspect(id).initPid()), "net/snmp"));
    for (int i = 0; i + 1 < lines.size(); i++) {
      if (lines.get(i).startsWith("Icmp:") && lines.get(i + 1).startsWith("Icmp:")) {
        List<String> names = Arrays.asList(lines.get(i).split("\\s+"));
        return Long.parseLong(lines.get(i + 1).split("\\s+")[names.indexOf("InEchos")]);
      }
    }
    throw new AssertionError("no Icmp counters in /proc/PID/net/snmp of " + id);
  }

  private static void hostPings(String address) {
    Commands.Result r = Commands.run(List.of("busybox", "ping", "-c", "1", "-W", "2", address), null, Duration.ofSeconds(10));
    assertTrue(r.ok() && r.stdout().contains("1 packets received"), "the host pings " + address + ": " + r.describe());
  }

  @Test
  void sendingFromAnotherAddressArrivesOnlyFromAPrivilegedContainer() throws Exception {
    ContainerId victim = run("ip-v", 20, false);
    ContainerId privileged = run("ip-p", 21, true);
    ContainerId confined = run("ip-u", 22, false);
    String v = address(victim);
    String subnet = v.substring(0, v.lastIndexOf('.') + 1);

    for (ContainerId attacker : List.of(privileged, confined)) {
      boolean isPrivileged = attacker.equals(privileged);
      String spoofed = subnet + (isPrivileged ? "98" : "99");
      // A legitimate ping first: both neighbour caches are warm, so what follows is one IPv4 packet each.
      mustSucceed(attacker, "ping -c 1 -W 2 " + v);
      mustSucceed(attacker, "ip addr add " + spoofed + "/24 dev eth0");
      long before = inEchos(victim);
      sh(attacker, "ping -c 3 -W 1 -I " + spoofed + " " + v);
      long arrived = inEchos(victim) - before;
      if (isPrivileged) {
        assertTrue(arrived >= 1, "the privileged container's echo requests from " + spoofed + " reach the victim (so the test can fail)");
      } else {
        assertEquals(0, arrived, "no echo request from the spoofed " + spoofed + " reaches the victim");
      }
    }
    // The confined container still sends from its own address.
    mustSucceed(confined, "ping -c 1 -W 2 " + v);
  }

  @Test
  void sendingFromAnotherMacArrivesOnlyFromAPrivilegedContainer() throws Exception {
    ContainerId victim = run("mac-v", 30, false);
    ContainerId privileged = run("mac-p", 31, true);
    ContainerId confined = run("mac-u", 32, false);
    String v = address(victim);
    String victimMac = layer.inspect(victim).mac().orElseThrow();

    for (ContainerId attacker : List.of(privileged, confined)) {
      boolean isPrivileged = attacker.equals(privileged);
      String forged = isPrivileged ? "02:00:00:00:be:01" : "02:00:00:00:be:02";
      // A permanent neighbour entry: the echo requests go out at once, from the forged MAC, with no ARP first.
      mustSucceed(attacker, "ip link set dev eth0 down && ip link set dev eth0 address " + forged + " && ip link set dev eth0 up"
          + " && arp -i eth0 -s " + v + " " + victimMac);
      assertTrue(sh(attacker, "ip -o link show eth0").stdout().contains(forged), "eth0 of " + attacker + " carries " + forged);
      long before = inEchos(victim);
      sh(attacker, "ping -c 3 -W 1 " + v);
      long arrived = inEchos(victim) - before;
      if (isPrivileged) {
        assertTrue(arrived >= 1, "the privileged container's frames from " + forged + " reach the victim (so the test can fail)");
      } else {
        assertEquals(0, arrived, "no frame from the forged " + forged + " reaches the victim");
      }
    }
  }

  /** Echo requests over IPv6 the container's kernel has received ({@code Icmp6InEchos}). */
  private long inEchos6(ContainerId id) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(layer.inspect(id).initPid()), "net/snmp6"))) {
      String[] w = line.trim().split("\\s+");
      if (w.length == 2 && w[0].equals("Icmp6InEchos")) return Long.parseLong(w[1]);
    }
    throw new AssertionError("no Icmp6InEchos in /proc/PID/net/snmp6 of " + id);
  }

  /** The EUI-64 link-local address the kernel gives an interface with {@code mac} (RFC 4291 appendix A). */
  private static String linkLocal(String mac) {
    String[] b = mac.split(":");
    int first = Integer.parseInt(b[0], 16) ^ 0x02;
    return String.format("fe80::%02x%s:%sff:fe%s:%s%s", first, b[1], b[2], b[3], b[4], b[5]);
  }

  @Test
  void ipv6LeavesOnlyAPrivilegedContainer() throws Exception {
    // Berth assigns no IPv6, so nothing of it may leave a confined container, link-local and neighbour
    // discovery included. The victim is privileged so its own neighbour advertisements get out.
    ContainerId victim = run("v6-v", 80, true);
    ContainerId privileged = run("v6-p", 81, true);
    ContainerId confined = run("v6-u", 82, false);
    String target = linkLocal(layer.inspect(victim).mac().orElseThrow());
    String ping = "ping6 -c 1 -W 1 -I eth0 " + target;
    // Duplicate address detection keeps new link-local addresses tentative for about a second: retry, bounded.
    long before = inEchos6(victim);
    HostTests.await("the privileged container's echo request over IPv6 reaches the victim (so the test can fail)", Duration.ofSeconds(10),
        () -> sh(privileged, ping).exitCode() == 0);
    assertTrue(inEchos6(victim) > before);
    HostTests.await("the confined container's link-local address is usable (past duplicate address detection)", Duration.ofSeconds(10), () -> {
      String a = sh(confined, "ip -6 addr show dev eth0").stdout();
      return a.contains("fe80::") && !a.contains("tentative");
    });
    long beforeConfined = inEchos6(victim);
    for (int i = 0; i < 3; i++) sh(confined, ping);
    assertEquals(beforeConfined, inEchos6(victim), "no IPv6 from the confined container reaches the victim");
  }

  @Test
  void arpNamingAnotherAddressPoisonsTheHostOnlyFromAPrivilegedContainer() throws Exception {
    for (boolean isPrivileged : List.of(true, false)) {
      ContainerId victim = run(isPrivileged ? "arp-v1" : "arp-v2", isPrivileged ? 40 : 41, false);
      ContainerId attacker = run(isPrivileged ? "arp-p" : "arp-u", isPrivileged ? 42 : 43, isPrivileged);
      String v = address(victim);
      String victimMac = layer.inspect(victim).mac().orElseThrow();
      String attackerMac = layer.inspect(attacker).mac().orElseThrow();
      hostPings(v);
      assertEquals(victimMac, host.neighbourMac(v), "the host has learnt the victim's MAC");
      // The attacker claims the victim's address: an ARP request to the gateway naming it as the sender.
      mustSucceed(attacker, "ip addr add " + v + "/32 dev eth0");
      sh(attacker, "arping -c 2 -w 3 -I eth0 -s " + v + " " + host.gateway);
      if (isPrivileged) {
        assertEquals(attackerMac, host.neighbourMac(v), "the privileged container poisons the host's entry for " + v + " (so the test can fail)");
      } else {
        assertEquals(victimMac, host.neighbourMac(v), "the host's entry for " + v + " still names the victim");
      }
    }
  }

  @Test
  void arpNamingAnotherMacPoisonsTheHostOnlyFromAPrivilegedContainer() throws Exception {
    // busybox cannot forge ARP's sender MAC apart from the frame's, so this one frame is written with a
    // packet socket on eth0 from inside the container's net namespace (as its root would, CAP_NET_RAW there).
    for (boolean isPrivileged : List.of(true, false)) {
      ContainerId attacker = run(isPrivileged ? "arpm-p" : "arpm-u", isPrivileged ? 50 : 51, isPrivileged);
      String a = address(attacker);
      String mac = layer.inspect(attacker).mac().orElseThrow();
      String forged = isPrivileged ? "02:00:00:00:ee:01" : "02:00:00:00:ee:02";
      hostPings(a);
      assertEquals(mac, host.neighbourMac(a));
      Path netns = layer.config().dataRoot().resolve("containers").resolve(attacker.value()).resolve("netns");
      String py = String.join("\n",
          "import socket, struct",
          "mac = bytes.fromhex('" + mac.replace(":", "") + "'); forged = bytes.fromhex('" + forged.replace(":", "") + "')",
          "arp = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + forged + socket.inet_aton('" + a + "') + bytes(6) + socket.inet_aton('" + host.gateway + "')",
          "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('eth0', 0))",
          "for _ in range(2): s.send(b'\\xff' * 6 + mac + b'\\x08\\x06' + arp)");
      Commands.Result r = Commands.run(List.of("nsenter", "--net=" + netns, "/usr/bin/python3", "-c", py), null, Duration.ofSeconds(10));
      assertTrue(r.ok(), r.describe());
      if (isPrivileged) {
        HostTests.await("the host's entry for " + a + " names the forged " + forged, Duration.ofSeconds(2), () -> forged.equals(host.neighbourMac(a)));
      } else {
        Thread.sleep(500);
        assertEquals(mac, host.neighbourMac(a), "the host's entry for " + a + " still names the container's own MAC");
      }
    }
  }

  @Test
  void noContainerConnectsToTheHostButContainersAndTheHostReachThem() throws Exception {
    ContainerId confined = run("gw-u", 60, false);
    ContainerId privileged = run("gw-p", 61, true);
    ContainerId server = host.newId("gw-s");
    layer.prepare(TestHost.spec(server, Limits.DEFAULT, "/bin/sh", "-c",
        "mkdir -p /tmp/www && echo hello-from-server > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"), host.bridged(62));
    layer.start(server);
    String s = address(server);

    AtomicInteger accepted = new AtomicInteger();
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress(InetAddress.getByName(host.gateway), 0));
      int port = listener.getLocalPort();
      listener.setSoTimeout(200);
      Thread acceptor = new Thread(() -> {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!listener.isClosed() && System.nanoTime() < end) {
          try (Socket c = listener.accept()) {
            accepted.incrementAndGet();
          } catch (SocketTimeoutException e) {
            // poll again until closed or the test's bound
          } catch (IOException e) {
            return;
          }
        }
      }, "gateway-listener");
      acceptor.setDaemon(true);
      acceptor.start();
      String connect = "echo x | nc -w 2 " + host.gateway + " " + port;

      // Baseline: the listener answers the host, and, without the layer's inet table, a container too.
      try (Socket c = new Socket()) {
        c.connect(new InetSocketAddress(host.gateway, port), 2000);
      }
      HostTests.await("the host's own connection is accepted", Duration.ofSeconds(2), () -> accepted.get() == 1);
      Commands.Result del = Commands.run(List.of("nft", "delete", "table", "inet", Nftables.tableName(layer.config().dataRoot())), null,
          Duration.ofSeconds(5));
      assertTrue(del.ok(), del.describe());
      sh(confined, connect);
      HostTests.await("without the filter, the container's connection is accepted (so the test can fail)", Duration.ofSeconds(2),
          () -> accepted.get() == 2);

      // With the host's protection (installed again, as the node does at start): refused to both, in 2 s.
      layer.ensureBridge(host.bridge, host.gateway + "/24");
      for (ContainerId attacker : List.of(confined, privileged)) {
        long t0 = System.nanoTime();
        ExecResult r = sh(attacker, connect);
        assertNotEquals(0, r.exitCode(), attacker + " must not connect to " + host.gateway + ":" + port + ": " + r.stdout() + r.stderr());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "the attempt is bounded");
      }
      Thread.sleep(200);
      assertEquals(2, accepted.get(), "no container's connection reached the gateway's listener");
    }
    // The gateway routes, it does not serve: not even ping.
    assertNotEquals(0, sh(confined, "ping -c 1 -W 2 " + host.gateway).exitCode(), "the gateway does not answer a container's ping");

    // What stays: containers reach each other (ICMP and TCP), and the host reaches them.
    mustSucceed(confined, "ping -c 1 -W 2 " + s);
    // (busybox-static's wget crashes in its resolver here; nc speaks HTTP well enough.)
    ExecResult page = sh(confined, "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 " + s + " 8080");
    assertTrue(page.stdout().contains("hello-from-server"), "a container fetches from another: exit " + page.exitCode() + " " + page.stdout() + page.stderr());
    hostPings(address(confined));
    try (Socket c = new Socket()) {
      c.connect(new InetSocketAddress(s, 8080), 2000);
      c.setSoTimeout(2000);
      c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes());
      String reply = new String(c.getInputStream().readAllBytes());
      assertTrue(reply.contains("hello-from-server"), "the host connects to a container's listener: " + reply);
    }
  }

  @Test
  void rulesComeWithPrepareAndGoWithDestroyOrAFailedPrepare() throws Exception {
    ContainerId id = host.newId("rules");
    NetworkAttachment net = host.bridged(70);
    String veth = TestHost.vethOf(layer, id);
    String mac = Network.macAddress(id.value());
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), net);
    layer.start(id);
    String rules = HostTests.bridgeTable(layer);
    assertTrue(rules.contains("\"" + veth + "\" : jump " + Nftables.chainName(veth)), "the port map sends " + veth + " to its chain:\n" + rules);
    assertTrue(rules.contains("ether saddr != " + mac + " drop"), rules);
    assertTrue(rules.contains("ip saddr " + net.address() + " accept"), rules);
    assertTrue(rules.contains("arp saddr ether " + mac + " arp saddr ip " + net.address() + " accept"), rules);
    assertTrue(HostTests.inetTable(layer).contains("\"" + host.bridge + "\""), "the host is protected from " + host.bridge);
    assertEquals(Optional.of(mac), layer.inspect(id).mac(), "inspect shows the MAC");
    assertTrue(sh(id, "ip -o link show eth0").stdout().contains("link/ether " + mac), "eth0 carries the MAC");

    // Another data root (a move to another host) gives the container the same MAC.
    IsolationLayer other = host.layer("nf2");
    ContainerId same = id;
    other.prepare(TestHost.spec(same, Limits.DEFAULT, "/bin/sleep", "1000"), host.bridged(71));
    assertEquals(Optional.of(mac), other.inspect(same).mac(), "the MAC depends on the id alone");
    other.destroy(same);
    assertFalse(HostTests.bridgeTable(other).contains(TestHost.vethOf(other, same)), "the other data root's rules are gone");
    assertTrue(HostTests.bridgeTable(layer).contains(veth), "removing one container's rules left the other's");

    // A privileged container gets no chain.
    ContainerId p = run("rules-p", 72, true);
    assertFalse(HostTests.bridgeTable(layer).contains(TestHost.vethOf(layer, p)), "no anti-spoofing chain for a privileged container");

    int pid = layer.inspect(id).initPid();
    Path dir = layer.config().dataRoot().resolve("containers").resolve(id.value());
    layer.destroy(id);
    HostTests.assertNothingLeft(layer, dir, id, veth, pid);
    layer.destroy(id); // idempotent, rules included

    // A prepare failing at its last step (the gateway is off the container's subnet) leaves no rule.
    NetworkAttachment offLink = new NetworkAttachment(net.address(), 24, "198.19.254.1", net.bridge());
    IsolationException failed = assertThrows(IsolationException.class, () -> layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sh"), offLink));
    assertTrue(failed.getMessage().contains("attach veth"), failed.getMessage());
    HostTests.assertNothingLeft(layer, dir, id, veth, 0);
  }
}
