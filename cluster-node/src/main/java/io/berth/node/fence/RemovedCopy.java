package io.berth.node.fence;

import io.berth.protocol.ids.ContainerId;

/**
 * A copy this host's node removed because the log places its container elsewhere ({@code why}); {@code diskKept}:
 * its disk image was on shared storage and stays, its container's host's.
 */
public record RemovedCopy(ContainerId container, String why, boolean diskKept) {
  @Override
  public String toString() {
    return container + ": " + why + " (" + (diskKept ? "its shared disk image left to it" : "its local disk deleted") + ")";
  }
}
