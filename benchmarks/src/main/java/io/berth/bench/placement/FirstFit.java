package io.berth.bench.placement;

import io.berth.node.placement.ClusterAllocation;
import io.berth.node.placement.HostAllocation;
import io.berth.node.placement.HostCandidate;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.util.List;

/**
 * The baseline: the naive scheduler every cluster manager starts with. Same filters as placement
 * (ready, pinned host, host labels, cpu/memory/pids fit) but no anti-affinity, no score, no reason:
 * it takes the first host in id order that fits and stops scanning there. The difference to
 * {@code Placer} is the cost of scoring every host and writing the reason.
 */
final class FirstFit {
  private FirstFit() {}

  /** The first fitting host, or null when none fits (a refusal without the sentence). */
  static HostId place(List<HostCandidate> hosts, ClusterAllocation cluster, ContainerSpec spec) {
    for (HostCandidate h : hosts) {
      if (fits(h, cluster, spec)) return h.id();
    }
    return null;
  }

  /**
   * The second baseline: the same filters over every host, counting the fitting ones, with no
   * anti-affinity, score or sentence. Placement minus this is the cost of choosing among them.
   */
  static int countFitting(List<HostCandidate> hosts, ClusterAllocation cluster, ContainerSpec spec) {
    int n = 0;
    for (HostCandidate h : hosts) {
      if (fits(h, cluster, spec)) n++;
    }
    return n;
  }

  private static boolean fits(HostCandidate h, ClusterAllocation cluster, ContainerSpec spec) {
    Limits l = spec.limits();
    if (!h.condition().schedulable()) return false;
    HostId pin = spec.placement().pinnedHost().orElse(null);
    if (pin != null && !pin.equals(h.id())) return false;
    if (!h.hasLabels(spec.placement().hostLabels())) return false;
    HostAllocation a = cluster.allocation(h.id());
    // The same rule as placement's (PLACEMENT.md), written out plainly: guarantees in capacity, caps in capacity x ratio.
    var c = h.capacity();
    var o = h.overcommit();
    return l.cpuMillis() <= c.cpuMillis() && l.memoryBytes() <= c.memoryBytes() && l.pids() <= c.pids()
        && l.cpuGuaranteeMillis() <= c.cpuMillis() - a.cpuGuaranteeMillis()
        && l.memoryGuaranteeBytes() <= c.memoryBytes() - a.memoryGuaranteeBytes()
        && l.cpuMillis() <= o.cpu(c.cpuMillis()) - a.cpuMillis()
        && l.memoryBytes() <= o.memory(c.memoryBytes()) - a.memoryBytes();
  }
}
