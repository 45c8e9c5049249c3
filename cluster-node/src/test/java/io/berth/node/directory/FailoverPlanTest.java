package io.berth.node.directory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.node.placement.ClusterAllocation;
import io.berth.node.placement.ContainerShare;
import io.berth.node.placement.HostCandidate;
import io.berth.node.placement.PlacementPolicy;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.Storage;
import io.berth.protocol.spec.TemplateRef;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The failover decision, pure: who moves where, in which order, and who is lost and why. */
class FailoverPlanTest {
  private static final HostId DEAD = HostId.of("node-1");
  private static final HostId A = HostId.of("node-2");
  private static final HostId B = HostId.of("node-3");

  private static HostCandidate host(HostId id, long memory) {
    var info = new HostState.HostInfo(id, new HostCapacity(2000, memory, 4096), Map.of(), "198.18.0.2", Instant.EPOCH);
    return HostCandidate.of(new HostState.Active(info, false, false, ""), true).orElseThrow();
  }

  private static ContainerState running(String name, Storage storage, RestartPolicy restart, int priority, long memory, HostId on) {
    var spec = new ContainerSpec(ContainerId.of(name), TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"),
        new Limits(100, memory, 0, 64), restart, null, new PlacementConstraints(Optional.of(on), Map.of(), ""), false, storage, priority);
    EventMeta m = new EventMeta(Instant.EPOCH, "alice", "", "c", "");
    ContainerState s = ContainerState.empty(spec.id());
    for (ContainerEvent e : List.<ContainerEvent>of(new ContainerEvent.ContainerDefined(m, spec), new ContainerEvent.ContainerPlaced(m, on, "x"),
        new ContainerEvent.StartRequested(m), new ContainerEvent.ContainerStarted(m, on, 100))) {
      s = s.apply(e);
    }
    return s;
  }

  @Test
  void sharedContainersMoveHighestPriorityFirstAndTheRestAreLostWithTheirReason() {
    ClusterAllocation view = ClusterAllocation.of(List.of(host(A, 1L << 30), host(B, 1L << 30)));
    List<ContainerState> states = new ArrayList<>(List.of(
        running("low", Storage.SHARED, RestartPolicy.ALWAYS, 0, 256L << 20, DEAD),
        running("high", Storage.SHARED, RestartPolicy.ON_FAILURE, 900, 256L << 20, DEAD),
        running("local", Storage.LOCAL, RestartPolicy.ALWAYS, 1000, 256L << 20, DEAD),
        running("never", Storage.SHARED, RestartPolicy.NEVER, 0, 256L << 20, DEAD),
        running("elsewhere", Storage.SHARED, RestartPolicy.ALWAYS, 0, 256L << 20, A)));
    FailoverPlan plan = FailoverPlan.of(DEAD, states, view, PlacementPolicy.LEAST_ALLOCATED, "03:00:07Z");
    assertEquals(List.of("high", "low"), plan.moves().stream().map(m -> m.container().value()).toList(), plan.toString());
    // Least allocated spreads them: the second counts the first.
    assertTrue(!plan.moves().get(0).target().equals(plan.moves().get(1).target()), plan.toString());
    assertTrue(plan.moves().get(0).reason().contains("HA priority 900"), plan.moves().get(0).reason());
    assertEquals(List.of("local", "never"), plan.lost().stream().map(l -> l.container().value()).toList());
    assertTrue(plan.lost().get(0).reason().contains("local storage"), plan.lost().get(0).reason());
    assertTrue(plan.lost().get(1).reason().contains("restart never"), plan.lost().get(1).reason());
    assertEquals(1, plan.skipped().size(), "the container on another host is left alone: " + plan.skipped());
    assertTrue(plan.moves().stream().noneMatch(m -> m.target().equals(DEAD)), "never back to the fenced host");
  }

  @Test
  void aSharedContainerNoSurvivorCanTakeIsLostNamingTheShortfall() {
    ClusterAllocation view = ClusterAllocation.of(List.of(host(A, 512L << 20)))
        .withPlaced(A, ContainerId.of("big"), new ContainerShare(new Limits(100, 400L << 20, 0, 64), ""));
    FailoverPlan plan = FailoverPlan.of(DEAD, List.of(running("web", Storage.SHARED, RestartPolicy.ALWAYS, 0, 256L << 20, DEAD)), view,
        PlacementPolicy.LEAST_ALLOCATED, "03:00:07Z");
    assertTrue(plan.moves().isEmpty(), plan.toString());
    assertEquals(1, plan.lost().size());
    assertTrue(plan.lost().get(0).reason().contains("no survivor can take"), plan.lost().get(0).reason());
  }
}
