package io.berth.node.directory;

import io.berth.protocol.InvalidFieldException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The containers' addresses: a range of IPv4 addresses inside the cluster's layer-2 segment (from
 * 198.18.0.0/15, benchmarking space that never routes out). The lowest free address is handed out, so the
 * choice is deterministic and replays the same.
 *
 * @param first        the first address containers may get
 * @param last         the last one
 * @param prefixLength the segment's prefix length, which containers are configured with
 */
public record AddressPool(int first, int last, int prefixLength) {

  public AddressPool {
    if (Integer.compareUnsigned(first, last) > 0) throw new InvalidFieldException("network.containers", "first address must not be after the last", format(first) + "-" + format(last));
    if (prefixLength < 8 || prefixLength > 30) throw new InvalidFieldException("network.prefix-length", "must be between 8 and 30", prefixLength);
  }

  /** {@code 198.18.1.1-198.18.255.254/16}. */
  public static AddressPool parse(String field, String range, int prefixLength) {
    String[] ends = range.split("-");
    if (ends.length != 2) throw new InvalidFieldException(field, "must be FIRST-LAST, e.g. 198.18.1.1-198.18.255.254", range);
    return new AddressPool(parseIpv4(field, ends[0].trim()), parseIpv4(field, ends[1].trim()), prefixLength);
  }

  /** The lowest address of the pool not in {@code used}. */
  public Optional<String> lowestFree(Collection<String> used) {
    Set<Integer> taken = new HashSet<>();
    for (String u : used) {
      if (!u.isEmpty()) taken.add(parseIpv4("address", u));
    }
    for (long a = Integer.toUnsignedLong(first); a <= Integer.toUnsignedLong(last); a++) {
      if (!taken.contains((int) a)) return Optional.of(format((int) a));
    }
    return Optional.empty();
  }

  public long size() {
    return Integer.toUnsignedLong(last) - Integer.toUnsignedLong(first) + 1;
  }

  static int parseIpv4(String field, String text) {
    String[] parts = text.split("\\.");
    if (parts.length != 4) throw new InvalidFieldException(field, "must be an IPv4 address", text);
    int value = 0;
    for (String p : parts) {
      int octet;
      try {
        octet = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        throw new InvalidFieldException(field, "must be an IPv4 address", text);
      }
      if (octet < 0 || octet > 255 || p.length() > 3) throw new InvalidFieldException(field, "must be an IPv4 address", text);
      value = value << 8 | octet;
    }
    return value;
  }

  static String format(int address) {
    return (address >>> 24) + "." + (address >>> 16 & 255) + "." + (address >>> 8 & 255) + "." + (address & 255);
  }
}
