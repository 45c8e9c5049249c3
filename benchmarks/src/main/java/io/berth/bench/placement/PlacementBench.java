package io.berth.bench.placement;

import io.berth.bench.Results;
import io.berth.node.placement.ClusterAllocation;
import io.berth.node.placement.ContainerShare;
import io.berth.node.placement.HostCandidate;
import io.berth.node.placement.HostCondition;
import io.berth.node.placement.Placement;
import io.berth.node.placement.PlacementPolicy;
import io.berth.node.placement.Placer;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.TemplateRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.IntUnaryOperator;

/**
 * Placement decisions per second for 1,000 hosts holding 10,000 containers: the pure function
 * {@link Placer#place}, both policies, against a naive first-fit scan over the same hosts in the same
 * run, rounds interleaved so noise from other work on the machine hits both alike. A second baseline
 * applies the same filters to every host without choosing (no anti-affinity, score or sentence), so
 * the figures separate the cost of scanning all hosts from the cost of scoring them.
 *
 * <p>The cluster is built with a fixed seed: hosts of 16-64 cores and 32-256 GiB in four zones, half
 * with {@code disk=ssd}, 3% cordoned, 1% unreachable, 1% fenced; 10,000 containers placed by
 * {@code Placer} itself (so the load is what Berth would leave), 0.25-4 cores and 256M-8G each, a
 * fifth of them in one of 200 anti-affinity groups. Requests are drawn from the same mix, 30% with a
 * zone label, 20% with a group, 2% pinned. Decisions are not applied: every request sees the same
 * cluster, which is what "the pure function" measures.
 *
 * <p>Run: {@code mvn -q -o -pl benchmarks compile exec:java -Dexec.mainClass=io.berth.bench.placement.PlacementBench}
 * (optional arguments: rounds, decisions per round; defaults 30 and 2000).
 */
public final class PlacementBench {
  static final int HOSTS = 1_000;
  static final int CONTAINERS = 10_000;
  static final int REQUESTS = 4_096;

  private static long sink;

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
    if (rounds < 1 || rounds > 1_000 || perRound < 1 || perRound > 100_000) {
      throw new IllegalArgumentException("rounds must be 1-1000 and decisions per round 1-100000");
    }
    Random random = new Random(7);
    long t0 = System.nanoTime();
    ClusterAllocation cluster = cluster(random);
    ContainerSpec[] requests = new ContainerSpec[REQUESTS];
    for (int i = 0; i < REQUESTS; i++) requests[i] = request(random, "req-" + i, true);
    List<HostCandidate> hosts = cluster.hosts();
    System.out.printf(Locale.ROOT, "cluster: %d hosts, %d containers, built in %.1f s%n", hosts.size(), cluster.containerCount(),
        (System.nanoTime() - t0) / 1e9);
    summarize(cluster, requests, hosts);

    Subject least = new Subject("Placer least-allocated", i -> hash(Placer.place(cluster, requests[i], PlacementPolicy.LEAST_ALLOCATED)));
    Subject spread = new Subject("Placer spread", i -> hash(Placer.place(cluster, requests[i], PlacementPolicy.SPREAD)));
    Subject firstFit = new Subject("first-fit scan", i -> {
      HostId h = FirstFit.place(hosts, cluster, requests[i]);
      return h == null ? -1 : h.hashCode();
    });
    Subject fullScan = new Subject("filter-only full scan", i -> FirstFit.countFitting(hosts, cluster, requests[i]));
    Subject[] subjects = {least, spread, firstFit, fullScan};

    // Warm-up: enough calls for the JIT to compile the scan loops of all three (C2 after ~10k iterations).
    for (int w = 0; w < 5; w++) for (Subject s : subjects) s.round(Math.min(perRound, 2_000), w * 2_000, false);
    int offset = 0;
    for (int r = 0; r < rounds; r++) {
      for (Subject s : subjects) s.round(perRound, offset, true);
      offset += perRound;
    }

    Results results = new Results("placement");
    String scale = HOSTS + " hosts, " + CONTAINERS + " containers";
    for (Subject s : new Subject[] {least, spread}) {
      results.record(s.name + " decisions/s (" + scale + "; higher is better)", "decisions/s",
          Results.median(s.throughput()), Results.percentile(s.throughput(), 1), firstFit.name, Results.median(firstFit.throughput()));
      results.record(s.name + " decision latency (" + scale + ")", "us",
          Results.median(s.latencyMicros()), Results.percentile(s.latencyMicros(), 99), firstFit.name, Results.median(firstFit.latencyMicros()));
    }
    // The same median against the second baseline: what choosing among the fitting hosts costs over just finding them.
    results.record(least.name + " decision latency vs filtering every host (" + scale + ")", "us",
        Results.median(least.latencyMicros()), Results.percentile(least.latencyMicros(), 99), fullScan.name, Results.median(fullScan.latencyMicros()));
    for (Subject s : new Subject[] {firstFit, fullScan}) {
      System.out.printf(Locale.ROOT, "%s: %.0f decisions/s, latency median %.2f us p99 %.2f us%n", s.name,
          Results.median(s.throughput()), Results.median(s.latencyMicros()), Results.percentile(s.latencyMicros(), 99));
    }
    System.out.println("(for decisions/s the p99 column is the slowest 1% of rounds, i.e. the 1st percentile)");
    System.out.println("sink " + sink);
  }

  /** One thing measured: per-round throughput and every call's latency. */
  private static final class Subject {
    final String name;
    final IntUnaryOperator call;
    final List<Double> throughput = new ArrayList<>();
    final List<Double> latencies = new ArrayList<>();

    Subject(String name, IntUnaryOperator call) {
      this.name = name;
      this.call = call;
    }

    void round(int n, int offset, boolean record) {
      long acc = 0;
      double[] lat = new double[n];
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        long a = System.nanoTime();
        acc += call.applyAsInt((offset + i) & (REQUESTS - 1));
        lat[i] = (System.nanoTime() - a) / 1e3;
      }
      long elapsed = System.nanoTime() - start;
      sink += acc;
      if (!record) return;
      throughput.add(n / (elapsed / 1e9));
      for (double l : lat) latencies.add(l);
    }

    double[] throughput() {
      return throughput.stream().mapToDouble(Double::doubleValue).toArray();
    }

    double[] latencyMicros() {
      return latencies.stream().mapToDouble(Double::doubleValue).toArray();
    }
  }

  private static int hash(Placement p) {
    return p instanceof Placement.Decision d ? d.host().hashCode() + d.reason().length() : -1;
  }

  private static ClusterAllocation cluster(Random random) {
    List<HostCandidate> hosts = new ArrayList<>(HOSTS);
    for (int i = 0; i < HOSTS; i++) {
      HostCapacity capacity = new HostCapacity((16 + random.nextInt(49)) * 1000L, (32L + random.nextInt(225)) << 30, 32_768);
      Map<String, String> labels = random.nextBoolean()
          ? Map.of("zone", "z" + random.nextInt(4), "disk", "ssd") : Map.of("zone", "z" + random.nextInt(4));
      int roll = random.nextInt(100);
      HostCondition condition = roll < 3 ? HostCondition.CORDONED : roll < 4 ? HostCondition.UNREACHABLE
          : roll < 5 ? HostCondition.FENCED : HostCondition.READY;
      hosts.add(new HostCandidate(HostId.of(String.format(Locale.ROOT, "h-%04d", i)), capacity, labels, condition));
    }
    ClusterAllocation cluster = ClusterAllocation.of(hosts);
    for (int i = 0; i < CONTAINERS; i++) {
      ContainerSpec s = request(random, "ct-" + i, false);
      if (Placer.place(cluster, s) instanceof Placement.Decision d) {
        cluster = cluster.withPlaced(d.host(), s.id(), ContainerShare.of(s));
      } else {
        throw new IllegalStateException("benchmark cluster too small: container " + i + " did not fit");
      }
    }
    return cluster;
  }

  private static ContainerSpec request(Random random, String name, boolean mayPin) {
    Limits limits = new Limits(250L * (1 + random.nextInt(16)), (256L << 20) * (1 + random.nextInt(32)), 0, 128L << random.nextInt(4));
    Map<String, String> labels = random.nextInt(10) < 3 ? Map.of("zone", "z" + random.nextInt(4)) : Map.of();
    String group = random.nextInt(5) == 0 ? "g-" + random.nextInt(200) : "";
    Optional<HostId> pin = mayPin && random.nextInt(50) == 0
        ? Optional.of(HostId.of(String.format(Locale.ROOT, "h-%04d", random.nextInt(HOSTS)))) : Optional.empty();
    return new ContainerSpec(ContainerId.of(name), TemplateRef.of("busybox"), null, List.of(), limits, null, Map.of(),
        new PlacementConstraints(pin, labels, group));
  }

  /** Prints what the workload looks like, so the figures can be read: how many requests fit, how far first-fit scans. */
  private static void summarize(ClusterAllocation cluster, ContainerSpec[] requests, List<HostCandidate> hosts) {
    int refused = 0;
    int sameHost = 0;
    long scanned = 0;
    for (ContainerSpec s : requests) {
      Placement p = Placer.place(cluster, s);
      HostId ff = FirstFit.place(hosts, cluster, s);
      if (p instanceof Placement.Refusal) refused++;
      else if (((Placement.Decision) p).host().equals(ff)) sameHost++;
      if (ff != null) {
        for (HostCandidate h : hosts) {
          scanned++;
          if (h.id().equals(ff)) break;
        }
      }
    }
    double cpu = 0;
    double mem = 0;
    for (HostCandidate h : hosts) {
      cpu += (double) cluster.allocation(h.id()).cpuMillis() / h.capacity().cpuMillis();
      mem += (double) cluster.allocation(h.id()).memoryBytes() / h.capacity().memoryBytes();
    }
    System.out.printf(Locale.ROOT, "mean host load: cpu %.0f%%, memory %.0f%%; of %d requests %d refused, %d placed where first-fit would; "
        + "first-fit scans %.1f hosts on average%n", 100 * cpu / hosts.size(), 100 * mem / hosts.size(), requests.length, refused, sameHost,
        (double) scanned / (requests.length - refused));
    Placement sample = Placer.place(cluster, requests[0]);
    System.out.println("sample decision: " + sample);
  }
}
