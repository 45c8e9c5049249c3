package io.berth.protocol.directory;

import io.berth.protocol.directory.DirectoryEvent.*;
import io.berth.protocol.event.EventHashes;
import io.berth.protocol.ids.ContainerId;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The directory's state: every allocated container, by id (sorted, so it serializes the same every time),
 * and the head of the directory's hash chain. The fold is pure, like the entities'.
 */
public record DirectoryState(Map<ContainerId, Allocation> allocations, String lastEventHash) implements io.berth.protocol.BerthMessage {

  public static final DirectoryState EMPTY = new DirectoryState(Map.of(), "");

  public DirectoryState {
    allocations = Collections.unmodifiableMap(new TreeMap<>(allocations));
  }

  public DirectoryState apply(DirectoryEvent event) {
    TreeMap<ContainerId, Allocation> next = new TreeMap<>(allocations);
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
    }
    return new DirectoryState(next, EventHashes.hashOf(event));
  }

  private Allocation existing(ContainerId id, DirectoryEvent event) {
    Allocation a = allocations.get(id);
    if (a == null) throw conflict(event, "container " + id + " is not allocated");
    return a;
  }

  private static IllegalStateException conflict(DirectoryEvent event, String why) {
    return new IllegalStateException("directory: cannot apply " + event.getClass().getSimpleName() + " (" + why + ")");
  }
}
