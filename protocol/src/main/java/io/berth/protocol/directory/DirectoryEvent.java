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
 * <p>These types are stored: never edit one that has shipped. Add a new type and an upcaster.
 */
public sealed interface DirectoryEvent extends BerthEvent {

  record ContainerAllocated(EventMeta meta, ContainerId container, HostId host, Limits limits,
      String antiAffinityGroup, String address) implements DirectoryEvent {}

  record AllocationResized(EventMeta meta, ContainerId container, Limits limits) implements DirectoryEvent {}

  record AllocationMoved(EventMeta meta, ContainerId container, HostId host) implements DirectoryEvent {}

  record AllocationReleased(EventMeta meta, ContainerId container) implements DirectoryEvent {}
}
