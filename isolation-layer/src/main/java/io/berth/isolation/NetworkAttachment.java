package io.berth.isolation;

import io.berth.protocol.InvalidFieldException;
import java.util.regex.Pattern;

/**
 * Where a container joins the host's network: its address (allocated by the cluster), the prefix
 * length, the gateway (the bridge's own address) and the bridge its veth is enslaved to.
 */
public record NetworkAttachment(String address, int prefixLength, String gateway, String bridge) {
  private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
  private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");

  public NetworkAttachment {
    if (address == null || !IPV4.matcher(address).matches()) throw new InvalidFieldException("network.address", "must be an IPv4 address", address);
    if (prefixLength < 1 || prefixLength > 30) throw new InvalidFieldException("network.prefixLength", "must be between 1 and 30", prefixLength);
    if (gateway == null || !IPV4.matcher(gateway).matches()) throw new InvalidFieldException("network.gateway", "must be an IPv4 address", gateway);
    if (gateway.equals(address)) throw new InvalidFieldException("network.gateway", "must differ from the container's address", gateway);
    if (bridge == null || !IFNAME.matcher(bridge).matches()) {
      throw new InvalidFieldException("network.bridge", "must be an interface name of 1-15 letters, digits, '_', '.', '-'", bridge);
    }
  }
}
