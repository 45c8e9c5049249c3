package io.berth.node.placement;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.spec.Limits;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster as placement sees it: the registered hosts and what is allocated on each. Immutable; the
 * caller keeps a running view by folding host and container events into it ({@link #withHost},
 * {@link #withPlaced}, {@link #withRemoved}). Which containers count is the caller's rule: Berth counts
 * every container placed on a host and not destroyed, running or stopped, so a stopped container's
 * resources are still there when it starts again.
 *
 * <p>Allocations are kept per host id independently of the host list, so a container event folded
 * before its host's registration is not lost; placement only ever considers registered hosts.
 *
 * <p>Each change copies the host table (a thousand entries cost microseconds) and only the changed
 * host's own container map, so a running view of 10,000 containers stays cheap to update.
 */
public final class ClusterAllocation {
  private static final ClusterAllocation EMPTY = new ClusterAllocation(new HostCandidate[0], Map.of(), Map.of(), Map.of());

  /** Sorted by host id: placement scans in this order, which makes ties go to the smallest id. */
  private final HostCandidate[] hosts;
  private final Map<HostId, HostCandidate> byId;
  /** Each host's position in {@link #hosts}. */
  private final Map<HostId, Integer> index;
  /** The allocation of {@code hosts[i]} at {@code aligned[i]}: placement reads it without a map lookup per host. */
  private final HostAllocation[] aligned;
  /** The source of truth, also for hosts not registered (yet); never holds an empty allocation. */
  private final Map<HostId, HostAllocation> allocations;

  private ClusterAllocation(HostCandidate[] hosts, Map<HostId, HostCandidate> byId, Map<HostId, Integer> index,
      Map<HostId, HostAllocation> allocations) {
    this(hosts, byId, index, align(hosts, allocations), allocations);
  }

  private ClusterAllocation(HostCandidate[] hosts, Map<HostId, HostCandidate> byId, Map<HostId, Integer> index, HostAllocation[] aligned,
      Map<HostId, HostAllocation> allocations) {
    this.hosts = hosts;
    this.byId = byId;
    this.index = index;
    this.aligned = aligned;
    this.allocations = allocations;
  }

  public static ClusterAllocation empty() {
    return EMPTY;
  }

  /** A cluster of {@code hosts} with nothing allocated. Two candidates with the same id are refused. */
  public static ClusterAllocation of(Collection<HostCandidate> hosts) {
    Map<HostId, HostCandidate> byId = new HashMap<>();
    for (HostCandidate h : hosts) {
      if (byId.put(h.id(), h) != null) throw new IllegalArgumentException("host " + h.id() + " is listed twice");
    }
    HostCandidate[] sorted = sorted(byId);
    return new ClusterAllocation(sorted, Collections.unmodifiableMap(byId), indexOf(sorted), Map.of());
  }

  /** Registers {@code host}, or replaces its capacity, labels and condition (cordon, fence, unreachable). */
  public ClusterAllocation withHost(HostCandidate host) {
    Map<HostId, HostCandidate> copy = new HashMap<>(byId);
    copy.put(host.id(), host);
    HostCandidate[] sorted = sorted(copy);
    return new ClusterAllocation(sorted, Collections.unmodifiableMap(copy), indexOf(sorted), allocations);
  }

  /**
   * {@code container} holds {@code limits} on {@code host} (placed, or its limits changed). A container
   * moving to another host is {@link #withRemoved} from the old one first; this does not look for it
   * elsewhere.
   */
  public ClusterAllocation withPlaced(HostId host, ContainerId container, ContainerShare share) {
    HostAllocation updated = allocation(host).with(container, share);
    Map<HostId, HostAllocation> copy = new HashMap<>(allocations);
    copy.put(host, updated);
    return new ClusterAllocation(hosts, byId, index, realign(host, updated), Collections.unmodifiableMap(copy));
  }

  /** {@code container} no longer holds anything on {@code host} (destroyed, or moved away). */
  public ClusterAllocation withRemoved(HostId host, ContainerId container) {
    HostAllocation current = allocation(host);
    HostAllocation updated = current.without(container);
    if (updated == current) return this;
    Map<HostId, HostAllocation> copy = new HashMap<>(allocations);
    if (updated.containerCount() == 0) copy.remove(host);
    else copy.put(host, updated);
    return new ClusterAllocation(hosts, byId, index, realign(host, updated), Collections.unmodifiableMap(copy));
  }

  /** The registered hosts, sorted by id. */
  public List<HostCandidate> hosts() {
    return List.of(hosts);
  }

  public Optional<HostCandidate> host(HostId id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** What is allocated on {@code host}; {@link HostAllocation#EMPTY} when nothing is. */
  public HostAllocation allocation(HostId host) {
    HostAllocation a = allocations.get(host);
    return a == null ? HostAllocation.EMPTY : a;
  }

  /** Containers placed across the cluster. */
  public int containerCount() {
    int n = 0;
    for (HostAllocation a : allocations.values()) n += a.containerCount();
    return n;
  }

  /**
   * Whether {@code container}, already on {@code host}, may hold {@code newLimits} there: its current
   * share is freed and the new one must fit (guarantees in the capacity, caps in capacity times overcommit). The host's condition does not
   * matter (a cordoned host keeps serving its containers); only resources do.
   */
  public boolean fitsOn(HostId host, ContainerId container, Limits newLimits) {
    return checkLimits(host, container, newLimits).isEmpty();
  }

  /**
   * The refusal for raising {@code container}'s limits on {@code host} to {@code newLimits}, or empty
   * when they fit: {@code NOT_FOUND} for an unregistered host, {@code NO_CAPACITY} naming what is
   * missing. Lowering limits always fits (unless the host is already overcommitted beyond that).
   */
  public Optional<Rejection> checkLimits(HostId host, ContainerId container, Limits newLimits) {
    HostCandidate h = byId.get(host);
    if (h == null) {
      return Optional.of(new Rejection(Rejection.Code.NOT_FOUND, "host", "host " + host + " is not registered"));
    }
    HostAllocation others = allocation(host).without(container);
    if (Fit.fits(h, others, newLimits)) return Optional.empty();
    return Optional.of(new Rejection(Rejection.Code.NO_CAPACITY, "limits", "host " + host + " cannot give container "
        + container + " " + newLimits + ": " + host + " " + Fit.shortfall(h, others, newLimits)));
  }

  /** For {@link Placer}: the sorted array itself, not copied on every decision. */
  HostCandidate[] hostArray() {
    return hosts;
  }

  /** For {@link Placer}: the allocation of {@code hostArray()[i]}. */
  HostAllocation allocationAt(int i) {
    return aligned[i];
  }

  private HostAllocation[] realign(HostId host, HostAllocation updated) {
    Integer i = index.get(host);
    if (i == null) return aligned;
    HostAllocation[] copy = aligned.clone();
    copy[i] = updated;
    return copy;
  }

  private static HostAllocation[] align(HostCandidate[] hosts, Map<HostId, HostAllocation> allocations) {
    HostAllocation[] a = new HostAllocation[hosts.length];
    for (int i = 0; i < hosts.length; i++) a[i] = allocations.getOrDefault(hosts[i].id(), HostAllocation.EMPTY);
    return a;
  }

  private static Map<HostId, Integer> indexOf(HostCandidate[] sorted) {
    Map<HostId, Integer> index = new HashMap<>();
    for (int i = 0; i < sorted.length; i++) index.put(sorted[i].id(), i);
    return Collections.unmodifiableMap(index);
  }

  private static HostCandidate[] sorted(Map<HostId, HostCandidate> byId) {
    HostCandidate[] a = byId.values().toArray(new HostCandidate[0]);
    Arrays.sort(a, (x, y) -> x.id().compareTo(y.id()));
    return a;
  }

  @Override
  public boolean equals(Object o) {
    // No empty allocation is ever stored (withRemoved drops it), so the maps compare directly.
    return o instanceof ClusterAllocation other && byId.equals(other.byId) && allocations.equals(other.allocations);
  }

  @Override
  public int hashCode() {
    return byId.hashCode() * 31 + allocations.hashCode();
  }

  @Override
  public String toString() {
    return "ClusterAllocation[" + hosts.length + " hosts, " + containerCount() + " containers]";
  }
}
