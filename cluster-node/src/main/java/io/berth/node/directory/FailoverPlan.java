package io.berth.node.directory;

import io.berth.node.placement.ClusterAllocation;
import io.berth.node.placement.ContainerShare;
import io.berth.node.placement.Placement;
import io.berth.node.placement.PlacementPolicy;
import io.berth.node.placement.Placer;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.PlacementConstraints;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What becomes of a fenced host's containers, decided at once and in a fixed order (pure, so it is tested on its own):
 * those that fail over ({@link ContainerSpec#failsOver()}: shared storage and a restart policy) are placed on the
 * survivors, highest HA priority first (then by name), each decision counting the ones before it; the others, and
 * those no survivor can take, are marked lost with the reason.
 */
public record FailoverPlan(List<Move> moves, List<Lost> lost, List<String> skipped) {
  // lost: the containers that do not fail over, and those no survivor can take. The directory marks the former
  // only once the host's watchdog has ended them too (the long bound); the latter are dead already.

  /** {@code container} goes to {@code target}, for {@code reason} (placement's, with the priority). */
  public record Move(ContainerId container, HostId target, String reason) {}

  /** {@code failsOver}: a shared-storage container no survivor could take (dead already), not one of the host's own disk. */
  public record Lost(ContainerId container, boolean failsOver, String reason) {}

  /**
   * @param fenced the fenced host
   * @param states the entities' states of the containers the directory holds on it (without a reservation)
   * @param view   the survivors as placement sees them, with everything the directory holds
   */
  public static FailoverPlan of(HostId fenced, List<ContainerState> states, ClusterAllocation view, PlacementPolicy policy, String fencedAt) {
    List<ContainerState.Live> live = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (ContainerState s : states) {
      if (!(s instanceof ContainerState.Live l) || s instanceof ContainerState.Destroyed) continue;
      boolean onIt = l.data().host().map(fenced::equals).orElse(false);
      if (!onIt || s instanceof ContainerState.Lost || s instanceof ContainerState.Migrating || l.data().pending().isPresent()) {
        skipped.add(s.id() + " (" + s.phase() + (onIt ? "" : " on " + l.data().host().map(HostId::value).orElse("no host")) + ")");
        continue;
      }
      live.add(l);
    }
    live.sort(Comparator.<ContainerState.Live>comparingInt(l -> -l.data().spec().haPriority()).thenComparing(l -> l.id().value()));
    List<Move> moves = new ArrayList<>();
    List<Lost> lost = new ArrayList<>();
    ClusterAllocation v = view;
    for (ContainerState.Live l : live) {
      ContainerSpec spec = l.data().spec();
      if (!spec.failsOver()) {
        lost.add(new Lost(l.id(), false, "host " + fenced + " was fenced at " + fencedAt + " and holds the container's only disk ("
            + spec.storage().wireName() + " storage, restart " + spec.restart().wireName() + "): bring it back, or berth ct recover " + l.id() + " --empty"));
        continue;
      }
      // The dead host's pin cannot be honoured: placement chooses among the survivors, by the other constraints.
      PlacementConstraints free = new PlacementConstraints(Optional.empty(), spec.placement().hostLabels(), spec.placement().antiAffinityGroup());
      Placement p = Placer.place(v.withRemoved(fenced, l.id()), spec.withPlacement(free), policy, Map.of(fenced, "fenced"), "--host");
      if (p instanceof Placement.Decision d) {
        moves.add(new Move(l.id(), d.host(), "failover from fenced host " + fenced + " (HA priority " + spec.haPriority() + "): " + d.reason()));
        v = v.withPlaced(d.host(), l.id(), new ContainerShare(spec.limits(), spec.placement().antiAffinityGroup()));
      } else {
        lost.add(new Lost(l.id(), true, "host " + fenced + " was fenced at " + fencedAt + " and no survivor can take the container: "
            + ((Placement.Refusal) p).rejection().message()));
      }
    }
    return new FailoverPlan(List.copyOf(moves), List.copyOf(lost), List.copyOf(skipped));
  }
}
