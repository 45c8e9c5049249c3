package io.berth.protocol.ids;

/** A host's name: one Linux server running one Berth node. */
public record HostId(String value) implements Comparable<HostId> {
  public HostId {
    DnsLabel.check("host", value);
  }

  public static HostId of(String value) {
    return new HostId(value);
  }

  @Override
  public int compareTo(HostId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
