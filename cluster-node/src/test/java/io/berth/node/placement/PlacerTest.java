package io.berth.node.placement;

import static io.berth.node.placement.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PlacerTest {
  private static final Limits SMALL = limits(500, 512, 128);

  private static ClusterAllocation three() {
    return ClusterAllocation.of(List.of(host("node-1"), host("node-2"), host("node-3")));
  }

  @Test
  void picksTheLeastAllocatedHostAndSaysWhy() {
    ClusterAllocation c = three();
    c = with(c, "node-1", "a", limits(2000, 1024, 64)); // after placing: cpu 62.5%, memory 37.5%: score 0.625
    c = with(c, "node-2", "b", limits(500, 512, 64)); //   after placing: cpu 25%, memory 25%: score 0.25
    c = with(c, "node-3", "c", limits(1000, 2048, 64)); // after placing: cpu 37.5%, memory 62.5%: score 0.625

    Placement.Decision d = decided(Placer.place(c, spec("web-1", SMALL)));

    assertEquals(id("node-2"), d.host());
    assertEquals("least loaded of 3 fitting hosts (node-2 after placing: cpu 25% reserved, 25% of caps at 1x; memory 25% reserved, 25% of limits at 1x)", d.reason());
  }

  @Test
  void theScoreIsTheFullerOfCpuAndMemory() {
    // node-1 is nearly idle on cpu but 75% full on memory; node-2 is half full on both: max(cpu, memory)
    // prefers node-2, where a sum or a cpu-only score would prefer node-1.
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1"), host("node-2")));
    c = with(c, "node-1", "a", limits(100, 2560, 1));
    c = with(c, "node-2", "b", limits(1500, 1536, 1));

    assertEquals(id("node-2"), decided(Placer.place(c, spec("web-1", SMALL))).host());
  }

  @Test
  void tiesGoToTheSmallestHostIdWhateverTheOrderGiven() {
    List<HostCandidate> hosts = new ArrayList<>(List.of(host("node-3"), host("node-1"), host("node-2")));
    ClusterAllocation a = ClusterAllocation.of(hosts);
    Collections.reverse(hosts);
    ClusterAllocation b = ClusterAllocation.of(hosts);

    assertEquals(id("node-1"), decided(Placer.place(a, spec("web-1", SMALL))).host());
    assertEquals(Placer.place(a, spec("web-1", SMALL)), Placer.place(b, spec("web-1", SMALL)));
  }

  @Test
  void isDeterministicOverARandomClusterBuiltInAnyOrder() {
    Random random = new Random(42);
    List<HostCandidate> hosts = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      hosts.add(host("h-" + i, 1000 + random.nextInt(8) * 1000, 1024 + random.nextInt(8) * 1024, 10_000,
          Map.of("zone", "z" + (i % 3))));
    }
    List<Object[]> placements = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      placements.add(new Object[] {"h-" + random.nextInt(50), "c-" + i, limits(1 + random.nextInt(500), 4 + random.nextInt(128), 10)});
    }
    ClusterAllocation forward = ClusterAllocation.of(hosts);
    for (Object[] p : placements) forward = with(forward, (String) p[0], (String) p[1], (Limits) p[2]);
    Collections.shuffle(hosts, random);
    Collections.shuffle(placements, random);
    ClusterAllocation shuffled = ClusterAllocation.of(hosts);
    for (Object[] p : placements) shuffled = with(shuffled, (String) p[0], (String) p[1], (Limits) p[2]);
    assertEquals(forward, shuffled);

    for (int i = 0; i < 50; i++) {
      ContainerSpec s = spec("new-" + i, limits(1 + random.nextInt(2000), 4 + random.nextInt(2048), 10),
          new PlacementConstraints(Optional.empty(), i % 2 == 0 ? Map.of("zone", "z1") : Map.of(), i % 3 == 0 ? "g" : ""));
      for (PlacementPolicy policy : PlacementPolicy.values()) {
        assertEquals(Placer.place(forward, s, policy), Placer.place(shuffled, s, policy), "placing " + s.id() + " " + policy);
      }
    }
  }

  @Test
  void skipsHostsThatAreNotReadyAndNamesThemWhenNothingFits() {
    ClusterAllocation c = ClusterAllocation.of(List.of(
        host("node-1").withCondition(HostCondition.CORDONED),
        host("node-2").withCondition(HostCondition.DRAINING),
        host("node-3").withCondition(HostCondition.UNREACHABLE),
        host("node-4").withCondition(HostCondition.FENCED),
        host("node-5")));
    assertEquals(id("node-5"), decided(Placer.place(c, spec("web-1", SMALL))).host());
    assertEquals("node-5 is the only fitting host of 5 (after placing: cpu 13% reserved, 13% of caps at 1x; memory 13% reserved, 13% of limits at 1x)",
        decided(Placer.place(c, spec("web-1", SMALL))).reason());

    c = c.withHost(host("node-5").withCondition(HostCondition.CORDONED));
    Rejection r = refused(Placer.place(c, spec("web-1", SMALL)));
    assertEquals(Code.NO_CAPACITY, r.code());
    assertEquals("host", r.field());
    assertEquals("no host can take container web-1 (cpu=0.5 memory=512M pids=128 cpu-guarantee=0.5 memory-guarantee=512M): node-1: cordoned; node-2: draining; "
        + "node-3: unreachable; node-4: fenced; node-5: cordoned", r.message());
  }

  @Test
  void eachResourceIsAFilterOnItsOwn() {
    ClusterAllocation c = ClusterAllocation.of(List.of(
        host("cpu-poor", 400, 4096, 4096),
        host("mem-poor", 4000, 256, 4096),
        host("pid-poor", 4000, 4096, 100),
        host("roomy", 4000, 4096, 4096)));
    // "roomy" is last by id and the most allocated after placing would not matter: it is the only fit.
    c = with(c, "roomy", "big", limits(3000, 3000, 10));
    assertEquals(id("roomy"), decided(Placer.place(c, spec("web-1", SMALL))).host());
  }

  @Test
  void aRefusalListsEveryHostsShortfall() {
    ClusterAllocation c = ClusterAllocation.of(List.of(
        host("node-1", 4000, 1024, 4096, Map.of("zone", "b")),
        host("node-2", 4000, 4096, 4096, Map.of("zone", "b")).withCondition(HostCondition.CORDONED),
        host("node-3", 4000, 4096, 4096, Map.of("zone", "a")),
        host("node-4", 4000, 4096, 4096, Map.of("zone", "b"))));
    c = with(c, "node-1", "db", limits(1000, 1024, 10));
    c = with(c, "node-4", "batch", limits(3800, 4096 - 64, 4096 - 100));

    Rejection r = refused(Placer.place(c, spec("web-1", limits(500, 512, 128), labels(Map.of("zone", "b")))));

    assertEquals(Code.NO_CAPACITY, r.code());
    assertEquals("limits", r.field());
    assertEquals("no host can take container web-1 (cpu=0.5 memory=512M pids=128 cpu-guarantee=0.5 memory-guarantee=512M) with host labels zone=b: "
        + "node-1: needs 512M more memory to guarantee (1G of 1G reserved); "
        + "node-2: cordoned; "
        + "node-3: lacks label zone=b (has zone=a); "
        + "node-4: needs 0.3 more cpu to guarantee (3.8 of 4 reserved) and 448M more memory to guarantee (4032M of 4G reserved)", r.message());
  }

  @Test
  void aLimitBeyondAHostsWholeCapacitySaysSo() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1", 2000, 2048, 4096)));
    Rejection r = refused(Placer.place(c, spec("big", limits(1000, 4096, 64))));
    assertEquals("no host can take container big (cpu=1 memory=4G pids=64 cpu-guarantee=1 memory-guarantee=4G): node-1: memory limit 4G is over its 2G",
        r.message());
  }

  @Test
  void aResourceThatExactlyFillsTheHostFits() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1", 1000, 1024, 200)));
    c = with(c, "node-1", "half", limits(500, 512, 100));
    assertEquals(id("node-1"), decided(Placer.place(c, spec("other-half", limits(500, 512, 100)))).host());
    assertInstanceOf(Placement.Refusal.class, Placer.place(c, spec("one-more", limits(501, 512, 100))));
  }

  @Test
  void pinnedHostIsChosenEvenWhenOthersAreLessAllocated() {
    ClusterAllocation c = with(three(), "node-3", "a", limits(2000, 2048, 10));
    Placement.Decision d = decided(Placer.place(c, spec("web-1", SMALL, pinned("node-3"))));
    assertEquals(id("node-3"), d.host());
    assertEquals("pinned by --host to node-3 (after placing: cpu 63% reserved, 63% of caps at 1x; memory 63% reserved, 63% of limits at 1x)", d.reason());
  }

  @Test
  void pinnedToACordonedHostIsRefusedNamingWhy() {
    ClusterAllocation c = three().withHost(host("node-2").withCondition(HostCondition.CORDONED));
    Rejection r = refused(Placer.place(c, spec("web-1", SMALL, pinned("node-2"))));
    assertEquals(Code.NO_CAPACITY, r.code());
    assertEquals("placement.pinnedHost", r.field());
    assertEquals("pinned host node-2 (--host) cannot take container web-1 (cpu=0.5 memory=512M pids=128 cpu-guarantee=0.5 memory-guarantee=512M): node-2: cordoned", r.message());
  }

  @Test
  void pinnedToAFullHostIsRefusedNamingTheShortfall() {
    ClusterAllocation c = with(three(), "node-2", "hog", limits(3800, 1024, 10));
    Rejection r = refused(Placer.place(c, spec("web-1", SMALL, pinned("node-2"))));
    assertEquals(Code.NO_CAPACITY, r.code());
    assertEquals("placement.pinnedHost", r.field());
    assertEquals("pinned host node-2 (--host) cannot take container web-1 (cpu=0.5 memory=512M pids=128 cpu-guarantee=0.5 memory-guarantee=512M): node-2: needs 0.3 more cpu to guarantee (3.8 of 4 reserved)",
        r.message());
  }

  @Test
  void pinnedToAnUnknownHostIsNotFound() {
    Rejection r = refused(Placer.place(three(), spec("web-1", SMALL, pinned("node-9"))));
    assertEquals(Code.NOT_FOUND, r.code());
    assertEquals("placement.pinnedHost", r.field());
    assertEquals("pinned host node-9 (--host) is not registered; registered hosts: node-1, node-2, node-3", r.message());
  }

  @Test
  void anEmptyClusterIsRefused() {
    Rejection r = refused(Placer.place(ClusterAllocation.empty(), spec("web-1", SMALL)));
    assertEquals(Code.NO_CAPACITY, r.code());
    assertEquals("no host is registered, so container web-1 has nowhere to run", r.message());
  }

  @Test
  void antiAffinitySpreadsAGroupOverThreeHostsBeforeDoublingUp() {
    ClusterAllocation c = three();
    // node-1 is the least allocated by far, so without the group every member would land there.
    c = with(c, "node-2", "x", limits(2000, 2048, 10));
    c = with(c, "node-3", "y", limits(2000, 2048, 10));
    List<HostId> chosen = new ArrayList<>();
    List<String> reasons = new ArrayList<>();
    for (int i = 1; i <= 6; i++) {
      ContainerSpec s = spec("web-" + i, SMALL, group("web"));
      Placement.Decision d = decided(Placer.place(c, s));
      chosen.add(d.host());
      reasons.add(d.reason());
      c = c.withPlaced(d.host(), s.id(), ContainerShare.of(s));
    }
    assertEquals(Set.of(id("node-1"), id("node-2"), id("node-3")), new HashSet<>(chosen.subList(0, 3)));
    assertEquals(Set.of(id("node-1"), id("node-2"), id("node-3")), new HashSet<>(chosen.subList(3, 6)));
    assertEquals(id("node-1"), chosen.get(0));
    for (String h : List.of("node-1", "node-2", "node-3")) assertEquals(2, c.allocation(id(h)).groupCount("web"), h);
    assertEquals("anti-affinity group web: all 3 fitting hosts have no member; least loaded of those "
        + "(node-1 after placing: cpu 13% reserved, 13% of caps at 1x; memory 13% reserved, 13% of limits at 1x)", reasons.get(0));
    assertEquals("anti-affinity group web spread: 2 of 3 fitting hosts have no member; least loaded of those "
        + "(node-2 after placing: cpu 63% reserved, 63% of caps at 1x; memory 63% reserved, 63% of limits at 1x)", reasons.get(1));
    assertEquals("anti-affinity group web spread: 1 of 3 fitting hosts has no member (node-3 after placing: cpu 63% reserved, 63% of caps at 1x; memory 63% reserved, 63% of limits at 1x)",
        reasons.get(2));
    assertEquals("anti-affinity group web: all 3 fitting hosts have 1 member; least loaded of those "
        + "(node-1 after placing: cpu 25% reserved, 25% of caps at 1x; memory 25% reserved, 25% of limits at 1x)", reasons.get(3));
  }

  @Test
  void antiAffinityNeverOverridesFit() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1"), host("node-2", 4000, 256, 4096)));
    c = c.withPlaced(id("node-1"), ContainerId.of("web-1"), new ContainerShare(SMALL, "web"));
    Placement.Decision d = decided(Placer.place(c, spec("web-2", SMALL, group("web"))));
    assertEquals(id("node-1"), d.host());
    assertEquals("anti-affinity group web: node-1 is the only fitting host of 2 and has 1 member (node-1 after placing: cpu 25% reserved, 25% of caps at 1x; memory 25% reserved, 25% of limits at 1x)",
        d.reason());
  }

  @Test
  void pinningOverridesAntiAffinityAndTheReasonSaysSo() {
    ClusterAllocation c = three().withPlaced(id("node-1"), ContainerId.of("web-1"), new ContainerShare(SMALL, "web"));
    Placement.Decision d = decided(Placer.place(c, spec("web-2", SMALL,
        new PlacementConstraints(Optional.of(id("node-1")), Map.of(), "web"))));
    assertEquals(id("node-1"), d.host());
    assertEquals("pinned by --host to node-1 (after placing: cpu 25% reserved, 25% of caps at 1x; memory 25% reserved, 25% of limits at 1x); anti-affinity group web: not spread, node-1 already has 1 member",
        d.reason());
  }

  @Test
  void hostLabelsMustAllMatch() {
    ClusterAllocation c = ClusterAllocation.of(List.of(
        host("node-1", 4000, 4096, 4096, Map.of("zone", "a", "disk", "ssd")),
        host("node-2", 4000, 4096, 4096, Map.of("zone", "b")),
        host("node-3", 4000, 4096, 4096, Map.of("zone", "b", "disk", "ssd"))));
    Placement.Decision d = decided(Placer.place(c, spec("db-1", SMALL, labels(Map.of("zone", "b", "disk", "ssd")))));
    assertEquals(id("node-3"), d.host());
    assertEquals("node-3 is the only fitting host of 3 (after placing: cpu 13% reserved, 13% of caps at 1x; memory 13% reserved, 13% of limits at 1x); host labels disk=ssd,zone=b", d.reason());

    Rejection r = refused(Placer.place(c, spec("db-1", SMALL, labels(Map.of("zone", "c", "gpu", "yes")))));
    assertEquals("placement.hostLabels", r.field());
    assertEquals("no host can take container db-1 (cpu=0.5 memory=512M pids=128 cpu-guarantee=0.5 memory-guarantee=512M) with host labels gpu=yes,zone=c: "
        + "node-1: lacks labels gpu=yes and zone=c (has zone=a); node-2: lacks labels gpu=yes and zone=c (has zone=b); "
        + "node-3: lacks labels gpu=yes and zone=c (has zone=b)", r.message());
  }

  @Test
  void spreadPrefersFewerContainersWhereLeastAllocatedPrefersHeadroom() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1"), host("node-2")));
    c = with(c, "node-1", "big", limits(2000, 2048, 10)); // one big container
    for (int i = 0; i < 3; i++) c = with(c, "node-2", "tiny-" + i, limits(10, 16, 10)); // three tiny ones
    ContainerSpec s = spec("web-1", SMALL);

    assertEquals(id("node-2"), decided(Placer.place(c, s, PlacementPolicy.LEAST_ALLOCATED)).host());
    Placement.Decision spread = decided(Placer.place(c, s, PlacementPolicy.SPREAD));
    assertEquals(id("node-1"), spread.host());
    assertEquals("fewest containers of 2 fitting hosts (node-1 after placing: 2 containers; cpu 63% reserved, 63% of caps at 1x; memory 63% reserved, 63% of limits at 1x)", spread.reason());
  }

  @Test
  void spreadBreaksTiesByLeastAllocatedThenId() {
    ClusterAllocation c = three();
    c = with(c, "node-1", "a", limits(2000, 2048, 10));
    c = with(c, "node-2", "b", limits(100, 128, 10));
    c = with(c, "node-3", "c", limits(100, 128, 10));
    assertEquals(id("node-2"), decided(Placer.place(c, spec("web-1", SMALL), PlacementPolicy.SPREAD)).host());
  }

  @Test
  void excludedHostsAreSkippedAndNamedWithTheCallersReason() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("node-1"), host("node-2")));
    Map<HostId, String> exclude = Map.of(id("node-1"), "the container's current host");
    assertEquals(id("node-2"), decided(Placer.place(c, spec("web-1", SMALL), PlacementPolicy.LEAST_ALLOCATED, exclude)).host());

    c = c.withHost(host("node-2").withCondition(HostCondition.FENCED));
    Rejection r = refused(Placer.place(c, spec("web-1", SMALL), PlacementPolicy.LEAST_ALLOCATED, exclude));
    assertEquals("no host can take container web-1 (cpu=0.5 memory=512M pids=128 cpu-guarantee=0.5 memory-guarantee=512M): node-1: excluded: the container's current host; "
        + "node-2: fenced", r.message());
  }

  @Test
  void aRefusalOverManyHostsNamesTheFirstHundredAndCountsTheRest() {
    List<HostCandidate> hosts = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      HostCandidate h = host(String.format("h-%03d", i), 1000, 1024, 100);
      hosts.add(i % 2 == 0 ? h.withCondition(HostCondition.CORDONED) : h);
    }
    Rejection r = refused(Placer.place(ClusterAllocation.of(hosts), spec("big", limits(2000, 512, 10))));
    String m = r.message();
    assertTrue(m.contains("h-000: cordoned; h-001: cpu cap 2 is over its 1 cores; "), m);
    assertTrue(m.contains("h-099: cpu cap 2 is over its 1 cores"), m);
    assertFalse(m.contains("h-100"), m);
    assertTrue(m.endsWith("; and 50 more hosts (25 cordoned, 25 short of resources)"), m);
    assertEquals(Placer.MAX_NAMED_HOSTS, Pattern.compile("h-\\d{3}: ").matcher(m).results().count(), "hosts named one by one");
  }

  @Test
  void aTinyAllocationIsShownAsBelowOnePercentNotZero() {
    ClusterAllocation c = ClusterAllocation.of(List.of(host("big", 1_000_000, 1 << 20, 1 << 20)));
    assertEquals("big is the only fitting host of 1 (after placing: cpu <1% reserved, <1% of caps at 1x; memory <1% reserved, <1% of limits at 1x)",
        decided(Placer.place(c, spec("tiny", limits(1, 4, 1)))).reason());
  }

  @Test
  void placingChangesNothingInTheView() {
    ClusterAllocation c = with(three(), "node-1", "a", SMALL);
    ClusterAllocation before = c;
    Placer.place(c, spec("web-1", SMALL));
    Placer.place(c, spec("web-2", limits(100_000, 4, 1)));
    assertEquals(before, c);
    assertEquals(1, c.containerCount());
  }
}
