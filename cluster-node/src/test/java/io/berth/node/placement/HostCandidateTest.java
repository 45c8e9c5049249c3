package io.berth.node.placement;

import static io.berth.node.placement.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostState;
import io.berth.protocol.host.HostState.HostInfo;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HostCandidateTest {
  private static final HostInfo INFO = new HostInfo(id("node-1"), new HostCapacity(2000, 1L << 30, 1000), Map.of("zone", "a"),
      "198.18.0.1", Instant.EPOCH);

  @Test
  void theConditionFollowsTheHostsPhaseAndReachability() {
    assertEquals(HostCondition.READY, condition(new HostState.Active(INFO, false, false, ""), true));
    assertEquals(HostCondition.CORDONED, condition(new HostState.Active(INFO, true, false, ""), true));
    assertEquals(HostCondition.DRAINING, condition(new HostState.Active(INFO, true, true, ""), true));
    assertEquals(HostCondition.UNREACHABLE, condition(new HostState.Active(INFO, true, false, ""), false));
    assertEquals(HostCondition.FENCED, condition(new HostState.Fenced(INFO, "node-2", "", Instant.EPOCH, ""), false));
    assertTrue(HostCandidate.of(HostState.empty(id("node-1")), true).isEmpty(), "an unregistered host has no capacity to offer");
  }

  @Test
  void theCandidateCarriesTheRegisteredCapacityAndLabels() {
    HostCandidate c = HostCandidate.of(new HostState.Active(INFO, false, false, ""), true).orElseThrow();
    assertEquals(id("node-1"), c.id());
    assertEquals(INFO.capacity(), c.capacity());
    assertEquals(Map.of("zone", "a"), c.labels());
  }

  @Test
  void labelsMatchOnlyWithTheSameValue() {
    HostCandidate h = host("node-1", 1000, 1024, 100, Map.of("zone", "a", "disk", "ssd"));
    assertTrue(h.hasLabels(Map.of()));
    assertTrue(h.hasLabels(Map.of("zone", "a")));
    assertTrue(h.hasLabels(Map.of("zone", "a", "disk", "ssd")));
    assertFalse(h.hasLabels(Map.of("zone", "b")));
    assertFalse(h.hasLabels(Map.of("gpu", "yes")));
  }

  @Test
  void policiesParseFromTheirWordsAndRefuseOthers() {
    assertEquals(PlacementPolicy.LEAST_ALLOCATED, PlacementPolicy.parse("placement.policy", "least-allocated"));
    assertEquals(PlacementPolicy.SPREAD, PlacementPolicy.parse("placement.policy", " Spread "));
    InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> PlacementPolicy.parse("placement.policy", "random"));
    assertEquals("placement.policy", e.field());
    assertEquals("placement.policy: must be least-allocated or spread (got \"random\")", e.getMessage());
  }

  private static HostCondition condition(HostState state, boolean reachable) {
    return HostCandidate.of(state, reachable).orElseThrow().condition();
  }
}
