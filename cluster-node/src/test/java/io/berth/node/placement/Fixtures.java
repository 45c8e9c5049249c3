package io.berth.node.placement;

import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.TemplateRef;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Small builders shared by the placement tests. Sizes in MiB, cpu in millicores. */
final class Fixtures {
  private Fixtures() {}

  static HostId id(String name) {
    return HostId.of(name);
  }

  /** A ready host with {@code cpuMillis} cpu, {@code memoryMiB} memory and {@code pids} processes. */
  static HostCandidate host(String name, long cpuMillis, long memoryMiB, long pids, Map<String, String> labels) {
    return HostCandidate.ready(id(name), new HostCapacity(cpuMillis, memoryMiB << 20, pids), labels);
  }

  static HostCandidate host(String name, long cpuMillis, long memoryMiB, long pids) {
    return host(name, cpuMillis, memoryMiB, pids, Map.of());
  }

  /** Four cores, 4 GiB, 4096 pids. */
  static HostCandidate host(String name) {
    return host(name, 4000, 4096, 4096);
  }

  /** Caps that are also reserved (as every container's were before guarantees), so fit is plain arithmetic on capacity. */
  static Limits limits(long cpuMillis, long memoryMiB, long pids) {
    return Limits.reservingCaps(cpuMillis, memoryMiB << 20, 0, pids);
  }

  static ContainerSpec spec(String name, Limits limits, PlacementConstraints placement) {
    return new ContainerSpec(ContainerId.of(name), TemplateRef.of("busybox"), null, List.of(), limits, null, Map.of(), placement);
  }

  static ContainerSpec spec(String name, Limits limits) {
    return spec(name, limits, PlacementConstraints.NONE);
  }

  static PlacementConstraints pinned(String host) {
    return new PlacementConstraints(Optional.of(id(host)), Map.of(), "");
  }

  static PlacementConstraints labels(Map<String, String> labels) {
    return new PlacementConstraints(Optional.empty(), labels, "");
  }

  static PlacementConstraints group(String group) {
    return new PlacementConstraints(Optional.empty(), Map.of(), group);
  }

  /** {@code cluster} with {@code name} holding {@code limits} on {@code host}, in no anti-affinity group. */
  static ClusterAllocation with(ClusterAllocation cluster, String host, String name, Limits limits) {
    return cluster.withPlaced(id(host), ContainerId.of(name), new ContainerShare(limits, ""));
  }

  static Placement.Decision decided(Placement p) {
    if (p instanceof Placement.Decision d) return d;
    throw new AssertionError("expected a decision, got " + p);
  }

  static io.berth.protocol.reply.Rejection refused(Placement p) {
    if (p instanceof Placement.Refusal r) return r.rejection();
    throw new AssertionError("expected a refusal, got " + p);
  }
}
