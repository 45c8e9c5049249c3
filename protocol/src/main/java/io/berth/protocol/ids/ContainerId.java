package io.berth.protocol.ids;

/** A container's name, unique in the cluster; also its shard id and persistence id suffix. */
public record ContainerId(String value) implements Comparable<ContainerId> {
  public ContainerId {
    DnsLabel.check("container", value);
  }

  public static ContainerId of(String value) {
    return new ContainerId(value);
  }

  @Override
  public int compareTo(ContainerId other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }
}
