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
 * other end is {@code eth0} inside the container's net namespace, with the container's MAC and address,
 * loopback up and a default route via the bridge's own address. Each side is configured with one
 * {@code ip -batch} run, to keep process starts (the dominant cost) to two. What a container may send
 * is {@link Nftables}'s concern.
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

  /**
   * The container's MAC: derived from its id alone, so it is the same on every host the container
   * moves to (the anti-spoofing rules name it, and neighbours' ARP caches stay right after a move),
   * and CRIU, which records eth0's address in its images, restores it as it was. The first octet is
   * locally administered (bit 1 set) and unicast (bit 0 clear, IEEE 802 section 8.2.2); the other
   * 46 bits come from SHA-256 of the id, so two containers share one with odds of about n^2/2^47.
   */
  public static String macAddress(String containerId) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(("berth-mac/" + containerId).getBytes(StandardCharsets.UTF_8));
      h[0] = (byte) ((h[0] & 0xfc) | 0x02);
      return HexFormat.ofDelimiter(":").formatHex(h, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The MAC a bridge gets from its gateway address: {@code 02:be:} and the address's four octets in hex,
   * locally administered, and distinct for every host's bridge on one segment (each has its own gateway).
   */
  public static String bridgeMac(String gatewayAddress) {
    String[] o = gatewayAddress.split("\\.");
    if (o.length != 4) throw new IllegalArgumentException("not an IPv4 address: " + gatewayAddress);
    StringBuilder mac = new StringBuilder("02:be");
    for (String octet : o) mac.append(String.format(java.util.Locale.ROOT, ":%02x", Integer.parseInt(octet)));
    return mac.toString();
  }

  /**
   * Creates the bridge with {@code gatewayCidr} (e.g. 198.18.0.1/24) when it does not exist yet, with the MAC
   * {@link #bridgeMac} gives; an existing one keeps its MAC, set once more so that it is fixed. A bridge whose
   * MAC was never set takes the lowest of its ports' and changes as containers' veths come and go: each change
   * flushes the host's neighbour entries on it and leaves every container with a stale MAC for its gateway.
   */
  public void ensureBridge(String name, String gatewayCidr) {
    if (linkExists(name)) {
      pinAddress(name);
      return;
    }
    String batch = "link add " + name + " address " + bridgeMac(gatewayCidr.split("/")[0]) + " type bridge\n"
        + "addr add " + gatewayCidr + " dev " + name + "\n"
        + "link set " + name + " up\n";
    Commands.Result r = Commands.run(List.of(ip, "-batch", "-"), batch.getBytes(StandardCharsets.UTF_8), TIMEOUT);
    if (!r.ok()) {
      deleteLink(name);
      throw new NetworkException("create bridge " + name + ": " + r.describe());
    }
  }

  /** Sets a link's MAC to the one it has: the kernel then keeps it (addr_assign_type "set"). */
  private void pinAddress(String name) {
    Commands.Result shown = Commands.run(List.of(ip, "-o", "link", "show", "dev", name), null, TIMEOUT);
    if (!shown.ok()) throw new NetworkException("show link " + name + ": " + shown.describe());
    String[] w = shown.stdout().split("\\s+");
    for (int i = 0; i + 1 < w.length; i++) {
      if (w[i].equals("link/ether")) {
        Commands.Result set = Commands.run(List.of(ip, "link", "set", "dev", name, "address", w[i + 1]), null, TIMEOUT);
        if (!set.ok()) throw new NetworkException("fix bridge " + name + "'s MAC " + w[i + 1] + ": " + set.describe());
        return;
      }
    }
    throw new NetworkException("bridge " + name + " shows no link/ether address: " + shown.stdout().strip());
  }

  // Links are read from /proc/net/dev and iproute2, not /sys/class/net: sysfs shows the network
  // namespace of whoever mounted it, while /proc/net (a link to /proc/self/net) and netlink show this
  // process's own. A node of the local cluster runs in its host's network namespace without a sysfs of
  // its own (it must share the machine's mount namespace, where its containers' mounts live).

  public boolean linkExists(String name) {
    return links().contains(name);
  }

  /** True when {@code name} exists and is a bridge. */
  public boolean isBridge(String name) {
    Commands.Result r = Commands.run(List.of(ip, "-o", "link", "show", "type", "bridge"), null, TIMEOUT);
    if (!r.ok()) throw new NetworkException("list bridges: " + r.describe());
    for (String line : r.stdout().split("\n")) {
      if (linkName(line).equals(name)) return true;
    }
    return false;
  }

  /** The interfaces of this process's network namespace, from /proc/net/dev. */
  private static List<String> links() {
    try {
      List<String> names = new java.util.ArrayList<>();
      for (String line : Files.readAllLines(Path.of("/proc/net/dev"))) {
        int colon = line.indexOf(':');
        if (colon > 0) names.add(line.substring(0, colon).trim());
      }
      return names;
    } catch (java.io.IOException e) {
      throw new NetworkException("read /proc/net/dev: " + e.getMessage());
    }
  }

  /** "3: br0: <BROADCAST,...> ..." or "5: veth1@if2: ..." gives br0 or veth1. */
  private static String linkName(String ipOneLine) {
    String[] parts = ipOneLine.split(": ", 3);
    if (parts.length < 2) return "";
    String name = parts[1].trim();
    int at = name.indexOf('@');
    return at >= 0 ? name.substring(0, at) : name;
  }

  /**
   * Creates the veth pair with its container end ({@code eth0}, with {@code mac}) directly inside the
   * namespace at {@code netns}, enslaves the host end to the bridge; {@code onCreated} runs as soon as
   * the pair exists (the caller's undo), before anything else can fail.
   */
  public void attach(Path netns, io.berth.isolation.NetworkAttachment a, String veth, String mac, Runnable onCreated) {
    // The bridge was checked when the container was validated; if it went since, `master` below fails and says so.
    String host = "link add " + veth + " type veth peer name eth0 address " + mac + " netns " + netns + "\n"
        + "link set " + veth + " master " + a.bridge() + "\n"
        + "link set " + veth + " up\n";
    Commands.Result r = Commands.run(List.of(ip, "-batch", "-"), host.getBytes(StandardCharsets.UTF_8), TIMEOUT);
    if (linkExists(veth)) onCreated.run();
    if (!r.ok()) throw new NetworkException("create veth " + veth + " on bridge " + a.bridge() + ": " + r.describe());
    // With its broadcast address, as a distribution's own network manager would add it: systemd-networkd, enabled
    // inside, sees Berth's address as the one its unit asks for; without it, networkd asks the kernel again and
    // again to change a broadcast the kernel never changes on an existing address, and the link ends "failed".
    String inside = "link set lo up\n"
        + "addr add " + a.address() + "/" + a.prefixLength() + " brd + dev eth0\n"
        + "link set eth0 up\n"
        + "route add default via " + a.gateway() + " dev eth0\n";
    Commands.Result r2 = helper.inNetns(netns, List.of(ip, "-batch", "-"), inside.getBytes(StandardCharsets.UTF_8));
    if (!r2.ok()) throw new NetworkException("configure eth0 " + a.address() + " in " + netns + ": " + r2.describe());
  }

  /**
   * For a CRIU restore: a veth pair both of whose ends are in this (the host's) namespace, the host end
   * {@code veth} on {@code bridge}, the other named {@link #restorePeerName}. CRIU moves that end into the
   * namespace it restores and gives it back its name ({@code eth0}), MAC and addresses from the images
   * ({@code --external netdev[eth0]:PEER}); from inside a user namespace that move is all it can do, as
   * creating a cross-namespace veth needs privileges there it does not have.
   */
  public String createPairForRestore(String veth, String bridge, Runnable onCreated) {
    String peer = restorePeerName(veth);
    String batch = "link add " + veth + " type veth peer name " + peer + "\n"
        + "link set " + veth + " master " + bridge + "\n"
        + "link set " + veth + " up\n";
    Commands.Result r = Commands.run(List.of(ip, "-batch", "-"), batch.getBytes(StandardCharsets.UTF_8), TIMEOUT);
    if (linkExists(veth)) onCreated.run();
    if (!r.ok()) throw new NetworkException("create veth " + veth + " for a restore on bridge " + bridge + ": " + r.describe());
    return peer;
  }

  /** {@code bv...} gives {@code bc...}: the container end of a pair made for a restore. */
  public static String restorePeerName(String veth) {
    return "bc" + veth.substring(2);
  }

  /**
   * Announces the container's address from its own {@code eth0} (two gratuitous ARPs, a request and a reply,
   * sent by the helper inside {@code netns}): after a start, a restore or a resume, so every bridge on the
   * segment learns which port its MAC is behind now, and a neighbour that had its address under another MAC
   * (a destroyed container's) replaces it. Without it both stay stale until the container sends something,
   * and a container that only listens never does: new connections to it time out. Returns the helper's
   * "ok MAC ADDRESS".
   */
  public String announce(Path netns) {
    Commands.Result r = helper.announce(netns, "eth0");
    if (!r.ok()) throw new NetworkException("announce eth0's address in " + netns + ": " + r.describe());
    return r.stdout().strip();
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
    return links().stream().filter(n -> n.startsWith(prefix)).sorted().toList();
  }

  /** The bridge a link is enslaved to, or null. */
  public String masterOf(String link) {
    Commands.Result r = Commands.run(List.of(ip, "-o", "link", "show", "dev", link), null, TIMEOUT);
    if (!r.ok()) return null;
    String[] words = r.stdout().split("\\s+");
    for (int i = 0; i + 1 < words.length; i++) {
      if (words[i].equals("master")) return words[i + 1];
    }
    return null;
  }
}
