package io.berth.isolation.network;

import io.berth.isolation.process.Commands;
import io.berth.isolation.process.Helper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * Container networking with iproute2: a veth pair whose host end is enslaved to a bridge and whose
 * other end is {@code eth0} inside the container's net namespace, with the container's address,
 * loopback up and a default route via the bridge's own address. Each side is configured with one
 * {@code ip -batch} run, to keep process starts (the dominant cost) to two.
 */
public final class Network {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final List<String> IP_CANDIDATES = List.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip");

  private final String ip;
  private final Helper helper;

  public Network(Helper helper) {
    this.helper = helper;
    this.ip = IP_CANDIDATES.stream().filter(p -> Files.isExecutable(Path.of(p))).findFirst().orElse("ip");
  }

  /**
   * The host end's name for a container: {@code bv} and 12 hex digits of a hash of the id (and a
   * namespace salt, so two data roots on one machine do not collide): unique and within IFNAMSIZ
   * (15 characters).
   */
  public static String vethName(String salt, String containerId) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest((salt + "/" + containerId).getBytes(StandardCharsets.UTF_8));
      return "bv" + HexFormat.of().formatHex(h).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Creates the bridge with {@code gatewayCidr} (e.g. 198.18.0.1/24) when it does not exist yet. */
  public void ensureBridge(String name, String gatewayCidr) {
    if (linkExists(name)) return;
    String batch = "link add " + name + " type bridge\n"
        + "addr add " + gatewayCidr + " dev " + name + "\n"
        + "link set " + name + " up\n";
    Commands.Result r = Commands.run(List.of(ip, "-batch", "-"), batch.getBytes(StandardCharsets.UTF_8), TIMEOUT);
    if (!r.ok()) {
      deleteLink(name);
      throw new NetworkException("create bridge " + name + ": " + r.describe());
    }
  }

  public boolean linkExists(String name) {
    return Files.exists(Path.of("/sys/class/net", name));
  }

  /** True when {@code name} exists and is a bridge. */
  public boolean isBridge(String name) {
    return Files.isDirectory(Path.of("/sys/class/net", name, "bridge"));
  }

  /**
   * Creates the veth pair with its container end directly inside the namespace at {@code netns},
   * enslaves the host end to the bridge; {@code onCreated} runs as soon as the pair exists (the
   * caller's undo), before anything else can fail.
   */
  public void attach(Path netns, io.berth.isolation.NetworkAttachment a, String veth, Runnable onCreated) {
    if (!isBridge(a.bridge())) throw new NetworkException("attach " + veth + ": bridge " + a.bridge() + " does not exist");
    String host = "link add " + veth + " type veth peer name eth0 netns " + netns + "\n"
        + "link set " + veth + " master " + a.bridge() + "\n"
        + "link set " + veth + " up\n";
    Commands.Result r = Commands.run(List.of(ip, "-batch", "-"), host.getBytes(StandardCharsets.UTF_8), TIMEOUT);
    if (linkExists(veth)) onCreated.run();
    if (!r.ok()) throw new NetworkException("create veth " + veth + " on bridge " + a.bridge() + ": " + r.describe());
    String inside = "link set lo up\n"
        + "addr add " + a.address() + "/" + a.prefixLength() + " dev eth0\n"
        + "link set eth0 up\n"
        + "route add default via " + a.gateway() + " dev eth0\n";
    Commands.Result r2 = helper.inNetns(netns, List.of(ip, "-batch", "-"), inside.getBytes(StandardCharsets.UTF_8));
    if (!r2.ok()) throw new NetworkException("configure eth0 " + a.address() + " in " + netns + ": " + r2.describe());
  }

  /** Brings loopback up in a namespace that has no veth. */
  public void loopbackOnly(Path netns) {
    Commands.Result r = helper.inNetns(netns, List.of(ip, "link", "set", "lo", "up"), null);
    if (!r.ok()) throw new NetworkException("bring loopback up in " + netns + ": " + r.describe());
  }

  /** Deletes a link (deleting one end of a veth pair deletes both); nothing when it is absent. */
  public void deleteLink(String name) {
    if (!linkExists(name)) return;
    Commands.Result r = Commands.run(List.of(ip, "link", "del", name), null, TIMEOUT);
    if (!r.ok() && linkExists(name)) throw new NetworkException("delete link " + name + ": " + r.describe());
  }

  /** Every host link whose name starts with {@code prefix} (for sweeping leftovers). */
  public List<String> linksStartingWith(String prefix) {
    try (var s = Files.list(Path.of("/sys/class/net"))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
    } catch (java.io.IOException e) {
      throw new NetworkException("list /sys/class/net: " + e.getMessage());
    }
  }

  /** The bridge a link is enslaved to, or null. */
  public String masterOf(String link) {
    Path master = Path.of("/sys/class/net", link, "master");
    try {
      return Files.isSymbolicLink(master) ? Files.readSymbolicLink(master).getFileName().toString() : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }
}
