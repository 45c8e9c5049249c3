package io.berth.node.placement;

import static io.berth.node.placement.Fixtures.decided;
import static io.berth.node.placement.Fixtures.id;
import static io.berth.node.placement.Fixtures.refused;
import static io.berth.node.placement.Fixtures.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostUsage;
import io.berth.protocol.host.Overcommit;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The resource model: guarantees are reserved within capacity, caps committed within capacity times the ratio. */
class OvercommitTest {
  private static final HostCapacity TWO_CORES_24G = new HostCapacity(2000, 24L << 30, 32768);

  private static HostCandidate host(String name, Overcommit o, HostUsage usage) {
    return new HostCandidate(id(name), TWO_CORES_24G, o, usage, Map.of(), HostCondition.READY);
  }

  private static ClusterAllocation fill(ClusterAllocation c, String host, int n, Limits l) {
    for (int i = 0; i < n; i++) c = c.withPlaced(id(host), ContainerId.of(host + "-ct-" + i), new ContainerShare(l, ""));
    return c;
  }

  @Test
  void aTwoCoreHostTakesHundredsOfContainersCreatedWithoutLimits() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1", Overcommit.DEFAULT, HostUsage.UNKNOWN)));
    int placed = 0;
    while (Placer.place(c, spec("ct-" + placed, Limits.DEFAULT)) instanceof Placement.Decision d) {
      c = c.withPlaced(d.host(), ContainerId.of("ct-" + placed), new ContainerShare(Limits.DEFAULT, ""));
      placed++;
    }
    // 256M limits within 24G x 4 = 96G: 384; the 16M guarantees (6G) and the 1-core caps (384 of 512) fit.
    assertEquals(384, placed);
    assertEquals("no host can take container ct-384 (cpu=1 memory=256M pids=512 memory-guarantee=16M): node-1: needs 256M more memory "
        + "of limits (96G of 96G at 4x)", refused(Placer.place(c, spec("ct-384", Limits.DEFAULT))).message());
  }

  @Test
  void guaranteesAreNeverOvercommittedWhateverTheRatio() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1", new Overcommit(100_000, 100_000), HostUsage.UNKNOWN)));
    Limits half = new Limits(1000, 1L << 30, 0, 64, 100, 500, 1L << 30);
    c = fill(c, "node-1", 4, half); // 2 of 2 cores guaranteed
    var r = refused(Placer.place(c, spec("one-more", half)));
    assertEquals("limits", r.field());
    assertEquals("no host can take container one-more (cpu=1 memory=1G pids=64 cpu-guarantee=0.5 memory-guarantee=1G): node-1: needs 0.5 more "
        + "cpu to guarantee (2 of 2 reserved)", r.message());
    // Without a cpu guarantee it fits: only caps, and they are overcommitted.
    assertInstanceOf(Placement.Decision.class, Placer.place(c, spec("one-more", half.withCpuGuaranteeMillis(0))));
  }

  @Test
  void aCapBeyondTheWholeHostIsRefusedEvenWithRoomToOvercommit() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1", Overcommit.DEFAULT, HostUsage.UNKNOWN)));
    var r = refused(Placer.place(c, spec("wide", Limits.DEFAULT.withCpuMillis(4000))));
    assertEquals("no host can take container wide (cpu=4 memory=256M pids=512 memory-guarantee=16M): node-1: cpu cap 4 is over its 2 cores",
        r.message());
  }

  @Test
  void theScoreCountsWhatIsMeasuredAndTheDecisionSaysSo() {
    Instant at = Instant.parse("2026-12-02T03:00:00Z");
    // node-1 is busy (1.6 of 2 cores used), node-2 idle; both have the same allocations.
    ClusterAllocation c = ClusterAllocation.of(List.of(
        host("node-1", Overcommit.DEFAULT, new HostUsage(1600, 2L << 30, Map.of(), at)),
        host("node-2", Overcommit.DEFAULT, new HostUsage(100, 2L << 30, Map.of(), at))));
    c = fill(fill(c, "node-1", 10, Limits.DEFAULT), "node-2", 10, Limits.DEFAULT);
    Placement.Decision d = decided(Placer.place(c, spec("web", Limits.DEFAULT)));
    assertEquals(id("node-2"), d.host());
    assertEquals("least loaded of 2 fitting hosts (node-2 after placing: cpu 5% used, 0% reserved, 2% of caps at 256x; memory 8% used, "
        + "1% reserved, 3% of limits at 4x)", d.reason());
  }

  @Test
  void aBurstSpreadsBeforeTheMeasurementsCatchUp() {
    // Same measured use everywhere and no cpu reserved: the caps committed by each placement move the score.
    Instant at = Instant.parse("2026-12-02T03:00:00Z");
    ClusterAllocation c = ClusterAllocation.of(List.of(
        host("node-1", new Overcommit(200, 400), new HostUsage(0, 0, Map.of(), at)),
        host("node-2", new Overcommit(200, 400), new HostUsage(0, 0, Map.of(), at)),
        host("node-3", new Overcommit(200, 400), new HostUsage(0, 0, Map.of(), at))));
    Limits l = new Limits(1000, 256L << 20, 0, 64, 100, 0, 0);
    int[] perHost = new int[3];
    for (int i = 0; i < 9; i++) {
      Placement.Decision d = decided(Placer.place(c, spec("b-" + i, l)));
      c = c.withPlaced(d.host(), ContainerId.of("b-" + i), new ContainerShare(l, ""));
      perHost[Integer.parseInt(d.host().value().substring(5)) - 1]++;
    }
    assertEquals(List.of(3, 3, 3), List.of(perHost[0], perHost[1], perHost[2]));
  }
}
