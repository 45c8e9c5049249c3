package io.berth.node.placement;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What is allocated on one host: the share of each container placed there, the sums of their caps and of
 * their guarantees, and the
 * anti-affinity groups present with their counts. Immutable; {@link #with} and {@link #without} return
 * a new value. The sums are kept, not recomputed, because placement reads them for every host on
 * every decision.
 */
public final class HostAllocation {
  public static final HostAllocation EMPTY = new HostAllocation(Map.of(), 0, 0, 0, 0, Map.of());

  private final Map<ContainerId, ContainerShare> containers;
  private final long cpuMillis;
  private final long memoryBytes;
  private final long cpuGuaranteeMillis;
  private final long memoryGuaranteeBytes;
  private final Map<String, Integer> groups;

  private HostAllocation(Map<ContainerId, ContainerShare> containers, long cpuMillis, long memoryBytes, long cpuGuaranteeMillis,
      long memoryGuaranteeBytes, Map<String, Integer> groups) {
    this.containers = containers;
    this.cpuMillis = cpuMillis;
    this.memoryBytes = memoryBytes;
    this.cpuGuaranteeMillis = cpuGuaranteeMillis;
    this.memoryGuaranteeBytes = memoryGuaranteeBytes;
    this.groups = groups;
  }

  /** This host's allocation with {@code container} holding {@code share}, replacing what it held before. */
  public HostAllocation with(ContainerId container, ContainerShare share) {
    Objects.requireNonNull(container, "container");
    Objects.requireNonNull(share, "share");
    HostAllocation base = without(container);
    Map<ContainerId, ContainerShare> c = new HashMap<>(base.containers);
    c.put(container, share);
    Map<String, Integer> g = base.groups;
    if (!share.group().isEmpty()) {
      g = new HashMap<>(base.groups);
      g.merge(share.group(), 1, Integer::sum);
      g = Collections.unmodifiableMap(g);
    }
    Limits l = share.limits();
    // addExact: the sums come from limits that each passed placement against a real capacity, so an
    // overflow means a corrupt view, which must fail loudly rather than wrap to a small number.
    return new HostAllocation(Collections.unmodifiableMap(c), Math.addExact(base.cpuMillis, l.cpuMillis()),
        Math.addExact(base.memoryBytes, l.memoryBytes()), Math.addExact(base.cpuGuaranteeMillis, l.cpuGuaranteeMillis()),
        Math.addExact(base.memoryGuaranteeBytes, l.memoryGuaranteeBytes()), g);
  }

  /** This host's allocation without {@code container}; the same value when it holds nothing here. */
  public HostAllocation without(ContainerId container) {
    ContainerShare old = containers.get(container);
    if (old == null) return this;
    if (containers.size() == 1) return EMPTY;
    Map<ContainerId, ContainerShare> c = new HashMap<>(containers);
    c.remove(container);
    Map<String, Integer> g = groups;
    if (!old.group().isEmpty()) {
      Map<String, Integer> copy = new HashMap<>(groups);
      copy.computeIfPresent(old.group(), (k, n) -> n == 1 ? null : n - 1);
      g = Collections.unmodifiableMap(copy);
    }
    Limits l = old.limits();
    return new HostAllocation(Collections.unmodifiableMap(c), cpuMillis - l.cpuMillis(), memoryBytes - l.memoryBytes(),
        cpuGuaranteeMillis - l.cpuGuaranteeMillis(), memoryGuaranteeBytes - l.memoryGuaranteeBytes(), g);
  }

  /** Sum of the containers' cpu caps, in millicores. */
  public long cpuMillis() {
    return cpuMillis;
  }

  /** Sum of the containers' memory limits, in bytes. */
  public long memoryBytes() {
    return memoryBytes;
  }

  /** Sum of the containers' cpu guarantees (reserved), in millicores. */
  public long cpuGuaranteeMillis() {
    return cpuGuaranteeMillis;
  }

  /** Sum of the containers' memory guarantees (reserved), in bytes. */
  public long memoryGuaranteeBytes() {
    return memoryGuaranteeBytes;
  }

  public int containerCount() {
    return containers.size();
  }

  /** How many containers of anti-affinity group {@code group} are here (0 for {@code ""}). */
  public int groupCount(String group) {
    if (group.isEmpty()) return 0;
    Integer n = groups.get(group);
    return n == null ? 0 : n;
  }

  /** The anti-affinity groups present here, with their member counts. */
  public Map<String, Integer> groups() {
    return groups;
  }

  public Map<ContainerId, ContainerShare> containers() {
    return containers;
  }

  public Optional<ContainerShare> share(ContainerId container) {
    return Optional.ofNullable(containers.get(container));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HostAllocation other && containers.equals(other.containers);
  }

  @Override
  public int hashCode() {
    return containers.hashCode();
  }

  @Override
  public String toString() {
    return containers.size() + " containers, caps cpu=" + cpuMillis + "m memory=" + memoryBytes + ", guaranteed cpu=" + cpuGuaranteeMillis
        + "m memory=" + memoryGuaranteeBytes + ", groups=" + groups;
  }
}
