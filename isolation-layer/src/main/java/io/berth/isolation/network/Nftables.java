package io.berth.isolation.network;

import io.berth.isolation.process.Commands;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What containers may send, and what they may reach on the host, as nftables rules in this process's
 * network namespace (the host's; a node's own namespace in the local cluster). Each change is one
 * {@code nft -f -} run, which the kernel applies as one transaction: a packet sees the rules before
 * or after it, never half of it. Every script is idempotent ({@code add} of what exists is a no-op, a
 * chain is flushed before it is filled, a removal adds what it deletes first), so a retried or
 * repeated step converges.
 *
 * <p>Two tables per data root, both named {@code berth_} and 12 hex digits of a hash of the data root
 * (two data roots on one machine, as in the tests, never touch each other's):
 *
 * <ul>
 *   <li>{@code bridge TABLE}: anti-spoofing (what Incus calls {@code security.mac_filtering},
 *       {@code ipv4_filtering} and {@code ipv6_filtering}). One base chain on the bridge {@code
 *       prerouting} hook, which sees every frame a bridge port receives, whether it is forwarded to
 *       another port or delivered to the host, dispatches through the verdict map {@code ports} (host
 *       veth name to chain) to one chain per container, {@code c_VETH}: frames from any MAC but the
 *       container's are dropped; ARP passes only as Ethernet/IPv4 ARP naming the container's MAC and
 *       address as its sender; IPv4 passes only from the container's address (no 0.0.0.0: there is no
 *       DHCP); everything else (IPv6, which Berth does not assign, VLAN tags, other ethertypes) is
 *       dropped. Adding or removing a container touches its own chain and map element only.
 *   <li>{@code inet TABLE}: the host. {@code input}: from a container bridge (the set {@code bridges})
 *       only replies to what the host started (conntrack {@code established,related}, which covers ICMP
 *       errors) and IPv6 neighbour discovery are accepted; no new connection, and no ping, reaches any
 *       of the host's addresses, whatever interface holds them (Linux accepts a packet for any local
 *       address on any interface). {@code forward}: nothing from a container bridge to the control
 *       plane's networks (the set {@code control_plane}), should the host forward at all.
 * </ul>
 *
 * <p>Rules name interfaces by {@code iifname} (a string compared per packet), not by index, so they
 * can be installed before the veth exists (no window in which a container sends unfiltered) and they
 * still hold when CRIU restore re-creates the veth under the same name.
 */
public final class Nftables {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final List<String> NFT_CANDIDATES = List.of("/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft");
  private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
  private static final Pattern MAC = Pattern.compile("[0-9a-f]{2}(:[0-9a-f]{2}){5}");
  private static final String OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  private static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
  private static final Pattern IPV4_CIDR = Pattern.compile(OCTET + "(\\." + OCTET + "){3}/(3[0-2]|[12]?\\d)");

  private final String table;
  private final String nft;

  public Nftables(Path dataRoot) {
    this.table = tableName(dataRoot);
    this.nft = NFT_CANDIDATES.stream().filter(p -> Files.isExecutable(Path.of(p))).findFirst().orElse(null);
  }

  /** {@code berth_} and 12 hex digits of SHA-256 of the data root: the name of both tables. */
  public static String tableName(Path dataRoot) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(("nft/" + dataRoot).getBytes(StandardCharsets.UTF_8));
      return "berth_" + HexFormat.of().formatHex(h).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The per-container chain's name in the bridge table. */
  public static String chainName(String veth) {
    return "c_" + veth;
  }

  public String table() {
    return table;
  }

  /**
   * Protects the host from what is on {@code bridge} (the input rule) and declares the control plane's
   * networks ({@code a.b.c.d/n}), replacing the ones declared before: the forward rule drops what a
   * container sends there.
   */
  public void protectHost(String bridge, List<String> controlPlaneNetworks) {
    apply(protectHostScript(table, bridge, controlPlaneNetworks), "protect the host from bridge " + bridge);
  }

  /**
   * Installs the anti-spoofing chain of the container behind host veth {@code veth} (it may send from
   * {@code mac} and {@code address} only) and protects the host from {@code bridge}.
   */
  public void guard(String bridge, String veth, String mac, String address) {
    apply(guardScript(table, bridge, veth, mac, address), "install the anti-spoofing rules of veth " + veth + " (" + mac + ", " + address + ")");
  }

  /** A container without anti-spoofing (privileged): only the host's protection from its bridge. */
  public void protectHostOnly(String bridge) {
    apply(baseScript(table) + bridgeElement(table, bridge), "protect the host from bridge " + bridge);
  }

  /** Removes the container's chain and map element; nothing when they are absent. */
  public void unguard(String veth) {
    apply(unguardScript(table, veth), "remove the anti-spoofing rules of veth " + veth);
  }

  /** Removes both tables (a test run's or a host's teardown); nothing when they are absent. */
  public void removeTables() {
    apply(removeTablesScript(table), "remove tables " + table);
  }

  private void apply(String script, String what) {
    if (nft == null) {
      throw new NetworkException(what + ": no nft binary in " + NFT_CANDIDATES + ": install Debian's nftables package (bin/setup-host)");
    }
    Commands.Result r = Commands.run(List.of(nft, "-f", "-"), script.getBytes(StandardCharsets.UTF_8), TIMEOUT);
    if (!r.ok()) throw new NetworkException(what + " (tables " + table + "): " + r.describe());
  }

  // ---- the scripts (pure, so they can be read and unit-tested) ----------------------------------

  /** Both tables, their sets, map and base chains; the base chains' rules are written anew each time. */
  static String baseScript(String table) {
    String b = "bridge " + table;
    String i = "inet " + table;
    return "add table " + b + "\n"
        + "add map " + b + " ports { type ifname : verdict ; }\n"
        // filter priority (-200) in the bridge family: before br_netfilter (0) hands the frame to the inet hooks.
        + "add chain " + b + " prerouting { type filter hook prerouting priority -200 ; policy accept ; }\n"
        + "flush chain " + b + " prerouting\n"
        + "add rule " + b + " prerouting iifname vmap @ports\n"
        + "add table " + i + "\n"
        + "add set " + i + " bridges { type ifname ; }\n"
        + "add set " + i + " control_plane { type ipv4_addr ; flags interval ; }\n"
        + "add chain " + i + " input { type filter hook input priority 0 ; policy accept ; }\n"
        + "flush chain " + i + " input\n"
        + "add rule " + i + " input iifname @bridges ct state established,related accept\n"
        // Neighbour discovery is no connection, and the host resolving a (privileged) container's v6 neighbour needs it.
        + "add rule " + i + " input iifname @bridges icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
        + "add rule " + i + " input iifname @bridges drop\n"
        + "add chain " + i + " forward { type filter hook forward priority 0 ; policy accept ; }\n"
        + "flush chain " + i + " forward\n"
        + "add rule " + i + " forward iifname @bridges ip daddr @control_plane drop\n";
  }

  static String protectHostScript(String table, String bridge, List<String> controlPlaneNetworks) {
    StringBuilder s = new StringBuilder(baseScript(table)).append(bridgeElement(table, bridge));
    s.append("flush set inet ").append(table).append(" control_plane\n");
    if (!controlPlaneNetworks.isEmpty()) {
      for (String n : controlPlaneNetworks) {
        if (n == null || !IPV4_CIDR.matcher(n).matches()) throw new IllegalArgumentException("control-plane network must be a.b.c.d/n: " + n);
      }
      s.append("add element inet ").append(table).append(" control_plane { ").append(String.join(", ", controlPlaneNetworks)).append(" }\n");
    }
    return s.toString();
  }

  static String guardScript(String table, String bridge, String veth, String mac, String address) {
    checkName(veth);
    if (!MAC.matcher(mac).matches()) throw new IllegalArgumentException("MAC must be six lower-case hex pairs: " + mac);
    if (!IPV4.matcher(address).matches()) throw new IllegalArgumentException("address must be IPv4: " + address);
    String b = "bridge " + table;
    String c = b + " " + chainName(veth);
    return baseScript(table)
        + "add chain " + c + "\n"
        + "flush chain " + c + "\n"
        + "add rule " + c + " ether saddr != " + mac + " drop\n"
        + "add rule " + c + " arp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ether " + mac + " arp saddr ip " + address + " accept\n"
        + "add rule " + c + " ip saddr " + address + " accept\n"
        + "add rule " + c + " drop\n"
        + "add element " + b + " ports { \"" + veth + "\" : jump " + chainName(veth) + " }\n"
        + bridgeElement(table, bridge);
  }

  static String unguardScript(String table, String veth) {
    checkName(veth);
    String b = "bridge " + table;
    String c = b + " " + chainName(veth);
    // Each object is added before it is deleted, so the transaction holds whether it existed or not.
    return "add table " + b + "\n"
        + "add map " + b + " ports { type ifname : verdict ; }\n"
        + "add chain " + c + "\n"
        + "add element " + b + " ports { \"" + veth + "\" : jump " + chainName(veth) + " }\n"
        + "delete element " + b + " ports { \"" + veth + "\" }\n"
        + "flush chain " + c + "\n"
        + "delete chain " + c + "\n";
  }

  static String removeTablesScript(String table) {
    return "add table bridge " + table + "\ndelete table bridge " + table + "\n"
        + "add table inet " + table + "\ndelete table inet " + table + "\n";
  }

  private static String bridgeElement(String table, String bridge) {
    checkName(bridge);
    return "add element inet " + table + " bridges { \"" + bridge + "\" }\n";
  }

  private static void checkName(String ifname) {
    if (ifname == null || !IFNAME.matcher(ifname).matches()) throw new IllegalArgumentException("interface name must be 1-15 of [A-Za-z0-9_.-]: " + ifname);
  }
}
