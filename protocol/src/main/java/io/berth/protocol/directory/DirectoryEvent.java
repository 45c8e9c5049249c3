package io.berth.protocol.directory;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.Limits;

/**
 * The cluster directory's log (persistence id {@code directory|cluster}): which container is allocated to
 * which host with which limits and address. Placement decides against this strongly consistent view (one
 * writer, the directory singleton), so two concurrent creates can never both take the last capacity or the
 * same address. Each change carries the correlation id of the container operation it belongs to; the
 * container's own log records the same decision ({@code ContainerPlaced}, {@code AddressAssigned}).
 *
 * <p>Create and resize are sagas whose steps are these events and the container's own: reserved here,
 * carried out by the container's entity ({@code ReservationAccepted} there), then confirmed here, or released
 * here once the entity has answered that it did not and will not carry it out ({@code ReservationDeclined}).
 *
 * <p>These types are stored: never edit one that has shipped. Add a new type and an upcaster.
 */
public sealed interface DirectoryEvent extends BerthEvent {

  /** Written before create was a saga: allocated at once. Replayed, never written any more. */
  record ContainerAllocated(EventMeta meta, ContainerId container, HostId host, Limits limits,
      String antiAffinityGroup, String address) implements DirectoryEvent {}

  /** Written before resize was a saga: resized at once. Replayed, never written any more. */
  record AllocationResized(EventMeta meta, ContainerId container, Limits limits) implements DirectoryEvent {}

  record AllocationMoved(EventMeta meta, ContainerId container, HostId host) implements DirectoryEvent {}

  /** The container was destroyed: its share and address are free. */
  record AllocationReleased(EventMeta meta, ContainerId container) implements DirectoryEvent {}

  /**
   * Create, step 1: placement chose {@code host} (saying why), and the container's name, its capacity there
   * and {@code address} are held under {@code reservation} until its entity settles it.
   */
  record ContainerReserved(EventMeta meta, long reservation, ContainerId container, HostId host, Limits limits,
      String antiAffinityGroup, String address, String decision) implements DirectoryEvent {}

  /** Resize, step 1: the container's host holds the larger of its current and these limits until settled. */
  record ResizeReserved(EventMeta meta, long reservation, ContainerId container, Limits limits) implements DirectoryEvent {}

  /**
   * The container's entity holds what {@code reservation} asked for: its allocation is now {@code host} and
   * {@code limits}, as the entity recorded them.
   */
  record ReservationConfirmed(EventMeta meta, long reservation, ContainerId container, HostId host, Limits limits)
      implements DirectoryEvent {}

  /**
   * The container's entity answered that it did not and will not carry out {@code reservation} (or the container
   * is gone): what it held is free again (a create's name, capacity and address; a resize's extra capacity).
   */
  record ReservationReleased(EventMeta meta, long reservation, ContainerId container, String reason) implements DirectoryEvent {}

  /**
   * Migration, step 1: the container's share is held on {@code target} as well as on its own host, under
   * {@code reservation}, until its entity settles the move: confirmed on the target (the allocation moves there),
   * or released (it stays where it was).
   */
  record MigrationReserved(EventMeta meta, long reservation, ContainerId container, HostId target, String decision)
      implements DirectoryEvent {}
}
