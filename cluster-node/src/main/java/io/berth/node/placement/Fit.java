package io.berth.node.placement;

import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostUsage;
import io.berth.protocol.host.Overcommit;
import io.berth.protocol.spec.ByteSizes;
import io.berth.protocol.spec.CpuAmounts;
import io.berth.protocol.spec.Limits;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether one container's limits fit on one host, and how loaded the host would be (PLACEMENT.md, "The model"):
 * <ul>
 *   <li>guarantees are reservations: the host's guarantees, this one's included, stay within its capacity;</li>
 *   <li>caps are commitments: the host's cpu caps stay within its cores times the cpu overcommit ratio, and its
 *       memory limits within its memory times the memory ratio; no single cap exceeds the whole host;</li>
 *   <li>pids: a container's cap stays within the host's; the sum is not counted (a process costs nothing until it
 *       exists, and the kernel's own pid_max bounds the host).</li>
 * </ul>
 * Disk is not placed: hosts register no disk capacity, and the writable layer's size is enforced by the isolation
 * layer on the host that runs it.
 */
final class Fit {
  private Fit() {}

  static boolean fits(HostCandidate h, HostAllocation a, Limits l) {
    HostCapacity c = h.capacity();
    Overcommit o = h.overcommit();
    return l.cpuMillis() <= c.cpuMillis() && l.memoryBytes() <= c.memoryBytes() && l.pids() <= c.pids()
        && l.cpuGuaranteeMillis() <= c.cpuMillis() - a.cpuGuaranteeMillis()
        && l.memoryGuaranteeBytes() <= c.memoryBytes() - a.memoryGuaranteeBytes()
        && l.cpuMillis() <= o.cpu(c.cpuMillis()) - a.cpuMillis()
        && l.memoryBytes() <= o.memory(c.memoryBytes()) - a.memoryBytes();
  }

  /**
   * What is missing, as a phrase: {@code needs 0.5 more cpu guarantee and 512M more memory limit room}. A cap over
   * the whole host says so, since no amount of freeing would help there.
   */
  static String shortfall(HostCandidate h, HostAllocation a, Limits l) {
    HostCapacity c = h.capacity();
    Overcommit o = h.overcommit();
    List<String> over = new ArrayList<>(3);
    if (l.cpuMillis() > c.cpuMillis()) over.add("cpu cap " + CpuAmounts.format(l.cpuMillis()) + " is over its " + CpuAmounts.format(c.cpuMillis()) + " cores");
    if (l.memoryBytes() > c.memoryBytes()) over.add("memory limit " + ByteSizes.format(l.memoryBytes()) + " is over its " + ByteSizes.format(c.memoryBytes()));
    if (l.pids() > c.pids()) over.add("pids cap " + l.pids() + " is over its " + c.pids());
    if (!over.isEmpty()) return Text.andList(over);
    // One phrase per resource: what binds, the guarantee (capacity) or the caps (capacity times the ratio).
    List<String> parts = new ArrayList<>(2);
    long cpuGuarantee = l.cpuGuaranteeMillis() - (c.cpuMillis() - a.cpuGuaranteeMillis());
    long cpuCaps = l.cpuMillis() - (o.cpu(c.cpuMillis()) - a.cpuMillis());
    if (cpuGuarantee > 0 && cpuGuarantee >= cpuCaps) {
      parts.add(CpuAmounts.format(cpuGuarantee) + " more cpu to guarantee (" + CpuAmounts.format(a.cpuGuaranteeMillis()) + " of "
          + CpuAmounts.format(c.cpuMillis()) + " reserved)");
    } else if (cpuCaps > 0) {
      parts.add(CpuAmounts.format(cpuCaps) + " more cpu of caps (" + CpuAmounts.format(a.cpuMillis()) + " of " + CpuAmounts.format(o.cpu(c.cpuMillis()))
          + " at " + Overcommit.format(o.cpuHundredths()) + "x)");
    }
    long memoryGuarantee = l.memoryGuaranteeBytes() - (c.memoryBytes() - a.memoryGuaranteeBytes());
    long memoryLimits = l.memoryBytes() - (o.memory(c.memoryBytes()) - a.memoryBytes());
    if (memoryGuarantee > 0 && memoryGuarantee >= memoryLimits) {
      parts.add(ByteSizes.format(memoryGuarantee) + " more memory to guarantee (" + ByteSizes.format(a.memoryGuaranteeBytes()) + " of "
          + ByteSizes.format(c.memoryBytes()) + " reserved)");
    } else if (memoryLimits > 0) {
      parts.add(ByteSizes.format(memoryLimits) + " more memory of limits (" + ByteSizes.format(a.memoryBytes()) + " of "
          + ByteSizes.format(o.memory(c.memoryBytes())) + " at " + Overcommit.format(o.memoryHundredths()) + "x)");
    }
    if (parts.isEmpty()) return "";
    return "needs " + Text.andList(parts);
  }

  /** The host's load once {@code l} is placed: the fullest of {@link Load}'s fractions decides. */
  static Load loadAfter(HostCandidate h, HostAllocation a, Limits l) {
    HostCapacity c = h.capacity();
    Overcommit o = h.overcommit();
    HostUsage u = h.usage();
    double cpuReserved = (double) (a.cpuGuaranteeMillis() + l.cpuGuaranteeMillis()) / c.cpuMillis();
    double memoryReserved = (double) (a.memoryGuaranteeBytes() + l.memoryGuaranteeBytes()) / c.memoryBytes();
    // What is measured, plus what this container is promised (it will use at least that, and it is not measured yet).
    double cpuUsed = u.known() ? (double) (u.cpuMillis() + l.cpuGuaranteeMillis()) / c.cpuMillis() : Double.NaN;
    double memoryUsed = u.known() ? (double) (u.memoryBytes() + l.memoryGuaranteeBytes()) / c.memoryBytes() : Double.NaN;
    double cpuCaps = (double) (a.cpuMillis() + l.cpuMillis()) / o.cpu(c.cpuMillis());
    double memoryLimits = (double) (a.memoryBytes() + l.memoryBytes()) / o.memory(c.memoryBytes());
    return new Load(cpuUsed, cpuReserved, cpuCaps, memoryUsed, memoryReserved, memoryLimits, o);
  }

  /**
   * A host's load as fractions: of its capacity used (measured; NaN when not known) and reserved (guarantees), and of
   * its capacity times the overcommit ratio committed in caps. The score is the largest: the scarcest resource
   * decides, and the caps make a burst of creates spread before the measurements catch up with it.
   */
  record Load(double cpuUsed, double cpuReserved, double cpuCaps, double memoryUsed, double memoryReserved, double memoryLimits,
      Overcommit overcommit) {
    double score() {
      double s = Math.max(Math.max(cpuReserved, cpuCaps), Math.max(memoryReserved, memoryLimits));
      if (!Double.isNaN(cpuUsed)) s = Math.max(s, cpuUsed);
      if (!Double.isNaN(memoryUsed)) s = Math.max(s, memoryUsed);
      return s;
    }

    /**
     * {@code cpu 12% used, 5% reserved, 3% of caps at 256x; memory 30% used, 10% reserved, 8% of limits at 4x}; "used"
     * only once the host's node has measured it.
     */
    String text() {
      return "cpu " + used(cpuUsed) + Text.percent(cpuReserved) + " reserved, " + Text.percent(cpuCaps) + " of caps at "
          + Overcommit.format(overcommit.cpuHundredths()) + "x; memory " + used(memoryUsed) + Text.percent(memoryReserved) + " reserved, "
          + Text.percent(memoryLimits) + " of limits at " + Overcommit.format(overcommit.memoryHundredths()) + "x";
    }

    private static String used(double fraction) {
      return Double.isNaN(fraction) ? "" : Text.percent(fraction) + " used, ";
    }
  }
}
