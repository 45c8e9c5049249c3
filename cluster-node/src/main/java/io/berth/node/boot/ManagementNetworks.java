package io.berth.node.boot;

import io.berth.protocol.InvalidFieldException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code berth.network.management}: the control plane's own networks (IPv4 {@code a.b.c.d/n}), apart from
 * the containers' segment. The API, the cluster port and Cassandra listen there and nowhere a container
 * can reach; the isolation layer drops whatever a container sends to them through the host. The checks
 * run before anything starts: each a network address, none overlapping the containers' network, and every
 * literal address of the control plane in this node's settings inside one of them.
 */
final class ManagementNetworks {
  private static final String KEY = "berth.network.management";
  private static final String OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  private static final Pattern IPV4 = Pattern.compile(OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET);
  private static final Pattern CIDR = Pattern.compile("(" + IPV4.pattern() + ")/(3[0-2]|[12]?\\d)");

  private ManagementNetworks() {}

  /** One network: its base address as an unsigned 32-bit value and its prefix length. */
  record Net(String text, long base, int prefix) {
    long mask() {
      return prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
    }

    boolean contains(long address) {
      return (address & mask()) == base;
    }

    boolean overlaps(Net other) {
      int p = Math.min(prefix, other.prefix);
      long m = p == 0 ? 0 : (0xffffffffL << (32 - p)) & 0xffffffffL;
      return (base & m) == (other.base & m);
    }
  }

  /**
   * Parses and checks the list.
   *
   * @param containers the containers' network (the bridge's address and prefix)
   */
  static List<Net> parse(List<String> values, Net containers) {
    List<Net> nets = new ArrayList<>();
    for (String v : values) {
      Matcher m = CIDR.matcher(v == null ? "" : v.strip());
      if (!m.matches()) throw new InvalidFieldException(KEY, "each must be an IPv4 network a.b.c.d/n, e.g. 10.0.0.0/24", v);
      int prefix = Integer.parseInt(m.group(6));
      long address = address(m.group(1));
      Net n = new Net(v.strip(), address, prefix);
      if ((address & n.mask()) != address) {
        throw new InvalidFieldException(KEY, "each must be a network address (no host bits), e.g. " + format(address & n.mask()) + "/" + prefix, v);
      }
      if (n.overlaps(containers)) {
        throw new InvalidFieldException(KEY, "must not overlap the containers' network " + containers.text()
            + " (berth.network.bridge-address): no container bridge may carry the control plane", v);
      }
      for (Net other : nets) {
        if (n.overlaps(other)) throw new InvalidFieldException(KEY, "must not overlap one another (" + other.text() + ")", v);
      }
      nets.add(n);
    }
    return List.copyOf(nets);
  }

  /** The containers' network from the bridge's address and prefix (host bits cleared). */
  static Net containersNetwork(String bridgeAddress, int prefix) {
    if (!IPV4.matcher(bridgeAddress).matches()) {
      throw new InvalidFieldException("berth.network.bridge-address", "must be ADDRESS/PREFIX with an IPv4 address, e.g. 198.18.0.11/16", bridgeAddress);
    }
    if (prefix < 1 || prefix > 30) throw new InvalidFieldException("berth.network.bridge-address", "the prefix must be between 1 and 30", prefix);
    Net n = new Net(bridgeAddress + "/" + prefix, 0, prefix);
    long base = address(bridgeAddress) & n.mask();
    return new Net(format(base) + "/" + prefix, base, prefix);
  }

  /**
   * With management networks declared, {@code value} (an address, or {@code ADDRESS:PORT} when {@code withPort})
   * must lie inside one of them when it is an IPv4 literal; a name is left to the resolver. The wildcard
   * 0.0.0.0 is refused: it would listen on the container bridge too.
   */
  static void requireInside(List<Net> nets, String key, String value, boolean withPort) {
    if (nets.isEmpty()) return;
    String host = withPort && value.lastIndexOf(':') > 0 ? value.substring(0, value.lastIndexOf(':')) : value;
    if (!IPV4.matcher(host).matches()) return;
    if (host.equals("0.0.0.0")) {
      throw new InvalidFieldException(key, "must be an address on " + KEY + ", not 0.0.0.0 (every interface, the containers' bridge too)", value);
    }
    long a = address(host);
    if (nets.stream().noneMatch(n -> n.contains(a))) {
      throw new InvalidFieldException(key, "must lie in " + KEY + " " + nets.stream().map(Net::text).toList()
          + ": the control plane listens on the management network only", value);
    }
  }

  private static long address(String dotted) {
    long a = 0;
    for (String part : dotted.split("\\.")) a = (a << 8) | Integer.parseInt(part);
    return a;
  }

  private static String format(long a) {
    return ((a >> 24) & 255) + "." + ((a >> 16) & 255) + "." + ((a >> 8) & 255) + "." + (a & 255);
  }
}
