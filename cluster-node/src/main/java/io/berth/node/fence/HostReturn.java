package io.berth.node.fence;

import io.berth.isolation.ContainerInfo;
import io.berth.isolation.IsolationLayer;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A host that comes back after the survivors fenced it: before its node arms the watchdog, rejoins or wakes any
 * entity, it removes every copy the log no longer places here (restarted elsewhere from shared storage, or
 * recovered elsewhere on a new disk). Those copies are dead already (the watchdog or the node's own fence killed
 * them); what is left of them (mounts, cgroups, directories) goes. A shared disk image stays where it is: it
 * belongs to the host that runs the container now. A local one is deleted: the container runs on a new disk.
 * What the log still places here (a container marked lost) stays: its entity adopts it or runs it again.
 */
public final class HostReturn {
  private static final Logger log = LoggerFactory.getLogger(HostReturn.class);

  private HostReturn() {}

  /** Returns the copies removed. */
  public static List<RemovedCopy> removeStaleCopies(IsolationLayer layer, DirectoryState directory, HostId me, Optional<Path> sharedRoot) {
    List<RemovedCopy> removed = new ArrayList<>();
    for (ContainerInfo c : layer.list()) {
      ContainerId id = c.id();
      Optional<HostId> placed = directory.hostOf(id);
      if (placed.map(me::equals).orElse(false)) continue;
      if (directory.reservations().containsKey(id)) {
        // A create, resize or move is under way (a migration to or from here): its saga decides what stays.
        log.info("container {}: a reservation is under way ({}); left to its saga", id, directory.reservations().get(id));
        continue;
      }
      String why = placed.map(h -> "the log places it on " + h + " now").orElse("the log holds no such container any more");
      try {
        removed.add(new RemovedCopy(id, why, removeCopy(layer, id, sharedRoot)));
      } catch (RuntimeException e) {
        log.error("container {}: cannot remove the stale copy on this returning host ({}): {}", id, why, e.getMessage());
        throw new IllegalStateException("host " + me + " came back fenced but cannot remove its stale copy of container " + id + ": "
            + e.getMessage(), e);
      }
    }
    if (!removed.isEmpty()) log.warn("host {} came back fenced: removed {} stale copies: {}", me, removed.size(), removed);
    return removed;
  }

  /**
   * Removes this host's copy of a container the log places elsewhere: a shared disk image stays (the container's
   * host may be writing it), a local one is deleted (the container runs on another disk). Returns whether the disk stayed.
   */
  static boolean removeCopy(IsolationLayer layer, ContainerId id, Optional<Path> sharedRoot) {
    boolean shared = sharedRoot.isPresent() && layer.diskImage(id).startsWith(sharedRoot.get());
    if (shared) layer.forget(id);
    else layer.destroy(id);
    return shared;
  }
}
