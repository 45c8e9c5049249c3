package io.berth.protocol.directory;

import io.berth.protocol.directory.DirectoryEvent.*;
import io.berth.protocol.event.EventHashes;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.Limits;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The directory's state: every allocated container, by id (sorted, so it serializes the same every time), the
 * reservations not yet settled (at most one per container), the number of the last reservation made, and the
 * head of the directory's hash chain. The fold is pure, like the entities'.
 *
 * <p>What a container holds ({@link #held}) counts its reservation too, so capacity and addresses are never
 * given twice while a saga is under way: a create holds its share and address from the moment it is reserved,
 * a resize holds the larger of the old and new limits until the entity has settled which it has.
 */
public record DirectoryState(Map<ContainerId, Allocation> allocations, Map<ContainerId, Reservation> reservations,
    long lastReservation, String lastEventHash) implements io.berth.protocol.BerthMessage {

  public static final DirectoryState EMPTY = new DirectoryState(Map.of(), Map.of(), 0, "");

  public DirectoryState {
    allocations = Collections.unmodifiableMap(new TreeMap<>(allocations));
    reservations = Collections.unmodifiableMap(new TreeMap<>(reservations));
  }

  /** Whether {@code id} is known: allocated, or reserved by a create under way. */
  public boolean holds(ContainerId id) {
    return allocations.containsKey(id) || reservations.containsKey(id);
  }

  /** Where {@code id} runs or is being created; empty for a name the directory does not know. */
  public Optional<HostId> hostOf(ContainerId id) {
    Allocation a = allocations.get(id);
    if (a != null) return Optional.of(a.host());
    return Optional.ofNullable(reservations.get(id)).map(Reservation::host);
  }

  /** Every container the directory knows (allocated or being created), sorted. */
  public List<ContainerId> containers() {
    TreeMap<ContainerId, Boolean> all = new TreeMap<>();
    allocations.keySet().forEach(id -> all.put(id, true));
    reservations.keySet().forEach(id -> all.put(id, true));
    return List.copyOf(all.keySet());
  }

  /**
   * What each container holds on each host, reservations included: placement's fit and the address pool count
   * these. A resize under way holds the larger of each limit (its entity may end with either).
   */
  public List<Held> held() {
    List<Held> out = new ArrayList<>();
    for (Map.Entry<ContainerId, Allocation> e : allocations.entrySet()) {
      Allocation a = e.getValue();
      Reservation r = reservations.get(e.getKey());
      Limits limits = r != null && r.kind() == Reservation.Kind.RESIZE && r.host().equals(a.host()) ? larger(a.limits(), r.limits()) : a.limits();
      out.add(new Held(e.getKey(), a.host(), limits, a.antiAffinityGroup(), a.address()));
    }
    for (Map.Entry<ContainerId, Reservation> e : reservations.entrySet()) {
      Reservation r = e.getValue();
      if (r.kind() == Reservation.Kind.CREATE) out.add(new Held(e.getKey(), r.host(), r.limits(), r.antiAffinityGroup(), r.address()));
      // A move holds the share on the target too; the address is the container's own (it keeps it).
      if (r.kind() == Reservation.Kind.MIGRATE) out.add(new Held(e.getKey(), r.host(), r.limits(), r.antiAffinityGroup(), r.address()));
    }
    return out;
  }

  /** One container's share of one host, as {@link #held} counts it. */
  public record Held(ContainerId container, HostId host, Limits limits, String antiAffinityGroup, String address) {}

  public DirectoryState apply(DirectoryEvent event) {
    TreeMap<ContainerId, Allocation> next = new TreeMap<>(allocations);
    TreeMap<ContainerId, Reservation> pending = new TreeMap<>(reservations);
    long last = lastReservation;
    if (event instanceof ContainerAllocated e) {
      if (next.containsKey(e.container())) throw conflict(event, "it is allocated already");
      next.put(e.container(), new Allocation(e.host(), e.limits(), e.antiAffinityGroup(), e.address()));
    } else if (event instanceof AllocationResized e) {
      Allocation a = existing(e.container(), event);
      next.put(e.container(), new Allocation(a.host(), e.limits(), a.antiAffinityGroup(), a.address()));
    } else if (event instanceof AllocationMoved e) {
      Allocation a = existing(e.container(), event);
      next.put(e.container(), new Allocation(e.host(), a.limits(), a.antiAffinityGroup(), a.address()));
    } else if (event instanceof AllocationReleased e) {
      existing(e.container(), event);
      next.remove(e.container());
    } else if (event instanceof ContainerReserved e) {
      if (holds(e.container())) throw conflict(event, "container " + e.container() + " is allocated or reserved already");
      last = after(e.reservation(), event);
      pending.put(e.container(), new Reservation(e.reservation(), Reservation.Kind.CREATE, e.host(), e.limits(), e.antiAffinityGroup(),
          e.address(), e.decision(), e.meta().at(), e.meta().correlationId()));
    } else if (event instanceof ResizeReserved e) {
      Allocation a = existing(e.container(), event);
      if (reservations.containsKey(e.container())) throw conflict(event, "container " + e.container() + " has a reservation under way");
      last = after(e.reservation(), event);
      pending.put(e.container(), new Reservation(e.reservation(), Reservation.Kind.RESIZE, a.host(), e.limits(), a.antiAffinityGroup(),
          a.address(), "", e.meta().at(), e.meta().correlationId()));
    } else if (event instanceof MigrationReserved e) {
      Allocation a = existing(e.container(), event);
      if (reservations.containsKey(e.container())) throw conflict(event, "container " + e.container() + " has a reservation under way");
      if (a.host().equals(e.target())) throw conflict(event, "container " + e.container() + " is on " + e.target() + " already");
      last = after(e.reservation(), event);
      pending.put(e.container(), new Reservation(e.reservation(), Reservation.Kind.MIGRATE, e.target(), a.limits(), a.antiAffinityGroup(),
          a.address(), e.decision(), e.meta().at(), e.meta().correlationId()));
    } else if (event instanceof ReservationConfirmed e) {
      Reservation r = reservation(e.container(), e.reservation(), event);
      Allocation a = allocations.get(e.container());
      if (r.kind() == Reservation.Kind.CREATE) {
        next.put(e.container(), new Allocation(e.host(), e.limits(), r.antiAffinityGroup(), r.address()));
      } else {
        if (a == null) throw conflict(event, "container " + e.container() + " is not allocated");
        next.put(e.container(), new Allocation(e.host(), e.limits(), a.antiAffinityGroup(), a.address()));
      }
      pending.remove(e.container());
    } else if (event instanceof ReservationReleased e) {
      reservation(e.container(), e.reservation(), event);
      pending.remove(e.container());
    }
    return new DirectoryState(next, pending, last, EventHashes.hashOf(event));
  }

  private long after(long reservation, DirectoryEvent event) {
    if (reservation <= lastReservation) throw conflict(event, "reservation " + reservation + " is not after " + lastReservation);
    return reservation;
  }

  private Allocation existing(ContainerId id, DirectoryEvent event) {
    Allocation a = allocations.get(id);
    if (a == null) throw conflict(event, "container " + id + " is not allocated");
    return a;
  }

  private Reservation reservation(ContainerId id, long number, DirectoryEvent event) {
    Reservation r = reservations.get(id);
    if (r == null || r.number() != number) throw conflict(event, "container " + id + " has no reservation " + number);
    return r;
  }

  private static Limits larger(Limits a, Limits b) {
    return new Limits(Math.max(a.cpuMillis(), b.cpuMillis()), Math.max(a.memoryBytes(), b.memoryBytes()),
        Math.max(a.diskBytes(), b.diskBytes()), Math.max(a.pids(), b.pids()), Math.max(a.cpuWeight(), b.cpuWeight()),
        Math.max(a.cpuGuaranteeMillis(), b.cpuGuaranteeMillis()), Math.max(a.memoryGuaranteeBytes(), b.memoryGuaranteeBytes()));
  }

  private static IllegalStateException conflict(DirectoryEvent event, String why) {
    return new IllegalStateException("directory: cannot apply " + event.getClass().getSimpleName() + " (" + why + ")");
  }
}
