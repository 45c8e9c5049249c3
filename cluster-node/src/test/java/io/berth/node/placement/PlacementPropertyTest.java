package io.berth.node.placement;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostUsage;
import io.berth.protocol.host.Overcommit;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.Limits;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Placement over random clusters and random requests (fixed seeds, so a failure names one to replay): whatever
 * is placed, no host ever holds guarantees beyond its capacity or caps beyond capacity times its ratios, no cap
 * exceeds its host, and a refusal happens only when no ready host could have taken the container.
 */
class PlacementPropertyTest {
  private static final int CLUSTERS = 200;
  private static final int REQUESTS = 400;

  @Test
  void noHostIsEverOvercommittedBeyondItsPolicyAndRefusalsAreReal() {
    int placed = 0;
    int refused = 0;
    for (int seed = 1; seed <= CLUSTERS; seed++) {
      Random r = new Random(seed);
      List<HostCandidate> hosts = new ArrayList<>();
      int n = 1 + r.nextInt(6);
      for (int h = 0; h < n; h++) {
        HostCapacity cap = new HostCapacity(1000L * (1 + r.nextInt(16)), (1L << 30) * (1 + r.nextInt(64)), 1024L * (1 + r.nextInt(64)));
        Overcommit o = new Overcommit(Overcommit.MIN + r.nextInt(2000), Overcommit.MIN + r.nextInt(800));
        HostUsage u = r.nextBoolean() ? HostUsage.UNKNOWN
            : new HostUsage(r.nextInt((int) cap.cpuMillis()), (long) (r.nextDouble() * cap.memoryBytes()), Map.of(), Instant.EPOCH.plusSeconds(1));
        HostCondition condition = r.nextInt(8) == 0 ? HostCondition.CORDONED : HostCondition.READY;
        hosts.add(new HostCandidate(HostId.of("h-" + h), cap, o, u, Map.of(), condition));
      }
      ClusterAllocation c = ClusterAllocation.of(hosts);
      for (int i = 0; i < REQUESTS; i++) {
        Limits l = randomLimits(r);
        String name = "ct-" + i;
        Placement p = Placer.place(c, Fixtures.spec(name, l));
        if (p instanceof Placement.Decision d) {
          c = c.withPlaced(d.host(), ContainerId.of(name), new ContainerShare(l, ""));
          check(seed, c, d.host());
          placed++;
        } else {
          refused++;
          for (HostCandidate h : c.hosts()) {
            if (h.condition().schedulable() && Fit.fits(h, c.allocation(h.id()), l)) {
              fail("seed " + seed + ": " + name + " " + l + " was refused although " + h.id() + " could take it: " + p);
            }
          }
        }
        // Now and then a container goes, as in a real cluster.
        if (r.nextInt(5) == 0 && c.containerCount() > 0) {
          HostCandidate h = c.hosts().get(r.nextInt(c.hosts().size()));
          var held = c.allocation(h.id()).containers().keySet().stream().findFirst();
          if (held.isPresent()) c = c.withRemoved(h.id(), held.get());
        }
      }
    }
    // The random requests must reach both outcomes in numbers, or the properties above were never put to the test.
    assertTrue(placed > CLUSTERS * 20 && refused > CLUSTERS * 20, "placed " + placed + ", refused " + refused);
  }

  private static void check(int seed, ClusterAllocation c, HostId host) {
    HostCandidate h = c.host(host).orElseThrow();
    HostAllocation a = c.allocation(host);
    HostCapacity cap = h.capacity();
    String where = "seed " + seed + ", " + host + " (" + cap + ", " + h.overcommit() + "): " + a;
    assertTrue(a.cpuGuaranteeMillis() <= cap.cpuMillis(), "cpu guarantees beyond capacity: " + where);
    assertTrue(a.memoryGuaranteeBytes() <= cap.memoryBytes(), "memory guarantees beyond capacity: " + where);
    assertTrue(a.cpuMillis() <= h.overcommit().cpu(cap.cpuMillis()), "cpu caps beyond capacity times the ratio: " + where);
    assertTrue(a.memoryBytes() <= h.overcommit().memory(cap.memoryBytes()), "memory limits beyond capacity times the ratio: " + where);
    for (ContainerShare s : a.containers().values()) {
      assertTrue(s.limits().cpuMillis() <= cap.cpuMillis() && s.limits().memoryBytes() <= cap.memoryBytes() && s.limits().pids() <= cap.pids(),
          "a cap beyond the whole host: " + s + " on " + where);
    }
    assertTrue(h.condition().schedulable(), "placed on a host that takes no new containers: " + where);
  }

  private static Limits randomLimits(Random r) {
    long cpu = 1 + r.nextInt(8000);
    long memory = Limits.MIN_MEMORY + (long) (r.nextDouble() * (16L << 30));
    long pids = 1 + r.nextInt(8192);
    long cpuGuarantee = r.nextInt(3) == 0 ? 0 : (long) (r.nextDouble() * cpu);
    long memoryGuarantee = r.nextInt(3) == 0 ? 0 : (long) (r.nextDouble() * memory);
    return new Limits(cpu, memory, 0, pids, 1 + r.nextInt(Limits.MAX_CPU_WEIGHT), cpuGuarantee, memoryGuarantee);
  }
}
