package io.berth.node.placement;

import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostState;
import io.berth.protocol.host.HostUsage;
import io.berth.protocol.host.Overcommit;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.Labels;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A host as placement sees it: what it offers, how far it lets caps exceed that, what it uses now, its labels,
 * and whether it takes new containers.
 *
 * @param id         the host
 * @param capacity   what it registered (cpu, memory, pids): guarantees fit within it
 * @param overcommit its ratios: caps fit within capacity times them
 * @param usage      what its containers use, as its node last measured ({@link HostUsage#UNKNOWN} when not yet)
 * @param labels     the host's labels, matched against a container's {@code placement.hostLabels}
 * @param condition  ready, or why not
 */
public record HostCandidate(HostId id, HostCapacity capacity, Overcommit overcommit, HostUsage usage, Map<String, String> labels,
    HostCondition condition) {
  public HostCandidate {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(capacity, "capacity");
    Objects.requireNonNull(overcommit, "overcommit");
    Objects.requireNonNull(usage, "usage");
    Objects.requireNonNull(condition, "condition");
    labels = Labels.check("labels", labels);
  }

  /** A host that lets caps reach no further than its capacity, usage not measured. */
  public HostCandidate(HostId id, HostCapacity capacity, Map<String, String> labels, HostCondition condition) {
    this(id, capacity, Overcommit.NONE, HostUsage.UNKNOWN, labels, condition);
  }

  public static HostCandidate ready(HostId id, HostCapacity capacity, Map<String, String> labels) {
    return new HostCandidate(id, capacity, labels, HostCondition.READY);
  }

  /**
   * The candidate for a host entity's state. An unregistered host is no candidate (it has no capacity
   * yet). Fenced outranks unreachable, which outranks draining and cordoned: the reason a refusal gives
   * is the one that would still hold after the others were lifted.
   *
   * @param reachable whether the cluster can reach the host's member now (failure detector's view)
   */
  public static Optional<HostCandidate> of(HostState state, boolean reachable) {
    return of(state, HostUsage.UNKNOWN, reachable);
  }

  /** As {@link #of(HostState, boolean)}, with what the host's node last measured. */
  public static Optional<HostCandidate> of(HostState state, HostUsage usage, boolean reachable) {
    if (state instanceof HostState.Fenced f) {
      return Optional.of(new HostCandidate(f.id(), f.info().capacity(), f.info().overcommit(), HostUsage.UNKNOWN, f.info().labels(),
          HostCondition.FENCED));
    }
    if (state instanceof HostState.Active a) {
      HostCondition condition = !reachable ? HostCondition.UNREACHABLE
          : a.draining() ? HostCondition.DRAINING
          : a.cordoned() ? HostCondition.CORDONED
          : HostCondition.READY;
      return Optional.of(new HostCandidate(a.id(), a.info().capacity(), a.info().overcommit(), usage, a.info().labels(), condition));
    }
    return Optional.empty();
  }

  public HostCandidate withCondition(HostCondition newCondition) {
    return new HostCandidate(id, capacity, overcommit, usage, labels, newCondition);
  }

  /** Whether this host carries every one of {@code required} with the same value. */
  public boolean hasLabels(Map<String, String> required) {
    for (Map.Entry<String, String> e : required.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) return false;
    }
    return true;
  }
}
