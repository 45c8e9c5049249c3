package io.berth.node.placement;

import static io.berth.node.placement.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.Limits;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterAllocationTest {
  private static final ContainerId WEB_1 = ContainerId.of("web-1");
  private static final ContainerId WEB_2 = ContainerId.of("web-2");

  @Test
  void addingAndRemovingKeepsTheSumsAndGroupCounts() {
    ClusterAllocation empty = ClusterAllocation.of(List.of(host("node-1"), host("node-2")));
    ClusterAllocation c = empty
        .withPlaced(id("node-1"), WEB_1, new ContainerShare(limits(500, 512, 100), "web"))
        .withPlaced(id("node-1"), WEB_2, new ContainerShare(limits(250, 256, 50), "web"))
        .withPlaced(id("node-1"), ContainerId.of("db"), new ContainerShare(limits(1000, 1024, 10), ""));

    HostAllocation a = c.allocation(id("node-1"));
    assertEquals(1750, a.cpuMillis());
    assertEquals(1792L << 20, a.memoryBytes());
    assertEquals(1750, a.cpuGuaranteeMillis(), "caps reserved: the guarantees sum likewise");
    assertEquals(1792L << 20, a.memoryGuaranteeBytes());
    assertEquals(3, a.containerCount());
    assertEquals(2, a.groupCount("web"));
    assertEquals(0, a.groupCount("db"));
    assertEquals(0, a.groupCount(""));
    assertEquals(Map.of("web", 2), a.groups());
    assertSame(HostAllocation.EMPTY, c.allocation(id("node-2")));
    assertEquals(3, c.containerCount());

    c = c.withRemoved(id("node-1"), WEB_1);
    a = c.allocation(id("node-1"));
    assertEquals(1250, a.cpuMillis());
    assertEquals(1280L << 20, a.memoryBytes());
    assertEquals(1250, a.cpuGuaranteeMillis());
    assertEquals(1, a.groupCount("web"));

    c = c.withRemoved(id("node-1"), WEB_2).withRemoved(id("node-1"), ContainerId.of("db"));
    assertEquals(empty, c);
    assertEquals(Map.of(), c.allocation(id("node-1")).groups());
  }

  @Test
  void placingAgainReplacesTheShareInsteadOfCountingItTwice() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1")))
        .withPlaced(id("node-1"), WEB_1, new ContainerShare(limits(500, 512, 100), "web"))
        .withPlaced(id("node-1"), WEB_1, new ContainerShare(limits(2000, 1024, 100), "api"));
    HostAllocation a = c.allocation(id("node-1"));
    assertEquals(2000, a.cpuMillis());
    assertEquals(1024L << 20, a.memoryBytes());
    assertEquals(1, a.containerCount());
    assertEquals(Map.of("api", 1), a.groups());
  }

  @Test
  void removingWhatIsNotThereChangesNothing() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1"))).withPlaced(id("node-1"), WEB_1, new ContainerShare(limits(1, 4, 1), ""));
    assertSame(c, c.withRemoved(id("node-1"), WEB_2));
    assertSame(c, c.withRemoved(id("node-9"), WEB_1));
  }

  @Test
  void theViewIsImmutable() {
    ClusterAllocation before = ClusterAllocation.of(List.of(host("node-1")));
    ClusterAllocation after = before.withPlaced(id("node-1"), WEB_1, new ContainerShare(limits(1, 4, 1), ""));
    assertEquals(0, before.containerCount());
    assertEquals(1, after.containerCount());
    assertThrows(UnsupportedOperationException.class, () -> after.hosts().clear());
    assertThrows(UnsupportedOperationException.class, () -> after.allocation(id("node-1")).containers().clear());
  }

  @Test
  void aHostIsUpdatedInPlaceAndListedInIdOrder() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-2"), host("node-1")))
        .withHost(host("node-0"))
        .withHost(host("node-2").withCondition(HostCondition.CORDONED));
    assertEquals(List.of(id("node-0"), id("node-1"), id("node-2")), c.hosts().stream().map(HostCandidate::id).toList());
    assertEquals(HostCondition.CORDONED, c.host(id("node-2")).orElseThrow().condition());
  }

  @Test
  void aHostListedTwiceIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterAllocation.of(List.of(host("node-1"), host("node-1"))));
    assertEquals("host node-1 is listed twice", e.getMessage());
  }

  @Test
  void raisingLimitsFreesTheContainersOwnShareFirst() {
    // node-1: 1 core, 1 GiB, 200 pids; web-1 holds half of everything and another container a quarter.
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1", 1000, 1024, 200)))
        .withPlaced(id("node-1"), WEB_1, new ContainerShare(limits(500, 512, 100), ""))
        .withPlaced(id("node-1"), WEB_2, new ContainerShare(limits(250, 256, 50), ""));

    assertTrue(c.fitsOn(id("node-1"), WEB_1, limits(750, 768, 150)), "raise to exactly what is left");
    assertTrue(c.fitsOn(id("node-1"), WEB_1, limits(100, 64, 10)), "lowering");
    assertFalse(c.fitsOn(id("node-1"), WEB_1, limits(751, 768, 150)));

    Rejection r = c.checkLimits(id("node-1"), WEB_1, limits(500, 1024, 100)).orElseThrow();
    assertEquals(Code.NO_CAPACITY, r.code());
    assertEquals("limits", r.field());
    assertEquals("host node-1 cannot give container web-1 cpu=0.5 memory=1G pids=100 cpu-guarantee=0.5 memory-guarantee=1G: node-1 needs 256M more memory to guarantee (256M of 1G reserved)", r.message());
    assertTrue(c.checkLimits(id("node-1"), WEB_1, limits(750, 768, 150)).isEmpty());
  }

  @Test
  void aContainerNotYetOnTheHostNeedsItsWholeLimits() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1", 1000, 1024, 200)))
        .withPlaced(id("node-1"), WEB_1, new ContainerShare(limits(500, 512, 100), ""));
    assertTrue(c.fitsOn(id("node-1"), WEB_2, limits(500, 512, 100)));
    assertFalse(c.fitsOn(id("node-1"), WEB_2, limits(500, 513, 100)));
    assertTrue(c.fitsOn(id("node-1"), WEB_2, limits(500, 512, 200)), "pids caps are not summed: each only within the host's");
    assertFalse(c.fitsOn(id("node-1"), WEB_2, limits(500, 512, 201)));
  }

  @Test
  void checkingLimitsOnAnUnknownHostIsNotFound() {
    Rejection r = ClusterAllocation.empty().checkLimits(id("node-9"), WEB_1, Limits.DEFAULT).orElseThrow();
    assertEquals(Code.NOT_FOUND, r.code());
    assertEquals("host", r.field());
    assertEquals("host node-9 is not registered", r.message());
  }

  @Test
  void aCordonedHostStillLetsItsContainersGrow() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1").withCondition(HostCondition.CORDONED)))
        .withPlaced(id("node-1"), WEB_1, new ContainerShare(limits(500, 512, 100), ""));
    assertTrue(c.fitsOn(id("node-1"), WEB_1, limits(1000, 1024, 100)));
  }

  @Test
  void aBadGroupIsRefusedNamingTheField() {
    InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> new ContainerShare(Limits.DEFAULT, "Not_A_Label"));
    assertEquals("placement.antiAffinityGroup", e.field());
  }
}
