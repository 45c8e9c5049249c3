package io.berth.node.placement;

import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Placement: the pure function from the cluster's allocation and a container's spec to a host and the
 * reason, or a refusal listing why each host cannot take it. No I/O, no clock, no randomness: the same
 * inputs give the same decision and the same sentence on every node.
 *
 * <p>The order:
 * <ol>
 *   <li><b>Filter</b>: the host is ready (not cordoned, draining, unreachable or fenced); it is the
 *       pinned host when {@code --host} was given; it carries every required host label; and the
 *       container fits ({@link Fit}): its guarantees in what the host's capacity leaves after the guarantees
 *       already there, its caps in what capacity times the overcommit ratio leaves after the caps there.</li>
 *   <li><b>Anti-affinity</b>: when the container names a group, only the fitting hosts holding the
 *       fewest members of that group stay in the running, so a group spreads over distinct hosts as
 *       long as there are hosts, then evenly.</li>
 *   <li><b>Score</b> per {@link PlacementPolicy}: least loaded (the smallest of the largest load fraction
 *       after placing: measured use, reservations and committed caps, of cpu and memory; {@link Fit.Load}) or
 *       spread (fewest containers, then least loaded). Ties go to the smallest host id.</li>
 * </ol>
 *
 * <p>The decision path builds no per-host strings: the sentences of a refusal are written only when
 * nothing fits, so a decision costs one pass of arithmetic over the hosts.
 */
public final class Placer {
  /** A refusal names at most this many hosts one by one, then counts the rest by reason. */
  public static final int MAX_NAMED_HOSTS = 100;

  private Placer() {}

  /** {@link #place(ClusterAllocation, ContainerSpec, PlacementPolicy, Map)} with the default policy and no exclusions. */
  public static Placement place(ClusterAllocation cluster, ContainerSpec spec) {
    return place(cluster, spec, PlacementPolicy.LEAST_ALLOCATED, Map.of());
  }

  /** {@link #place(ClusterAllocation, ContainerSpec, PlacementPolicy, Map)} with no exclusions. */
  public static Placement place(ClusterAllocation cluster, ContainerSpec spec, PlacementPolicy policy) {
    return place(cluster, spec, policy, Map.of());
  }

  /**
   * Chooses a host for {@code spec}.
   *
   * @param exclude hosts the caller rules out, each with the reason a refusal gives for it (a migration
   *                excludes the container's current host: "the container's current host")
   */
  public static Placement place(ClusterAllocation cluster, ContainerSpec spec, PlacementPolicy policy, Map<HostId, String> exclude) {
    return place(cluster, spec, policy, exclude, "--host");
  }

  /**
   * As above, with the option that pinned the host named so in decisions and refusals: {@code --host} at create,
   * {@code --to} for a migration's target.
   */
  public static Placement place(ClusterAllocation cluster, ContainerSpec spec, PlacementPolicy policy, Map<HostId, String> exclude,
      String pinOption) {
    Limits limits = spec.limits();
    PlacementConstraints constraints = spec.placement();
    HostCandidate[] candidates = cluster.hostArray();
    if (candidates.length == 0) {
      return refuse(Code.NO_CAPACITY, "host", "no host is registered, so container " + spec.id() + " has nowhere to run");
    }
    boolean pinned = constraints.pinnedHost().isPresent();
    if (pinned) {
      HostId pin = constraints.pinnedHost().get();
      HostCandidate h = cluster.host(pin).orElse(null);
      if (h == null) {
        return refuse(Code.NOT_FOUND, "placement.pinnedHost", "pinned host " + pin + " (" + pinOption + ") is not registered; registered hosts: "
            + names(candidates));
      }
      candidates = new HostCandidate[] {h};
    }
    Map<String, String> labels = constraints.hostLabels();
    String group = constraints.antiAffinityGroup();

    HostCandidate best = null;
    HostAllocation bestAllocation = null;
    double bestScore = 0;
    int fitting = 0;
    int fewestMembers = Integer.MAX_VALUE;
    int withFewest = 0;
    for (int i = 0; i < candidates.length; i++) {
      HostCandidate h = candidates[i];
      if (!h.condition().schedulable()) continue;
      if (!exclude.isEmpty() && exclude.containsKey(h.id())) continue;
      if (!labels.isEmpty() && !h.hasLabels(labels)) continue;
      HostAllocation a = pinned ? cluster.allocation(h.id()) : cluster.allocationAt(i);
      if (!Fit.fits(h, a, limits)) continue;
      fitting++;
      int members = a.groupCount(group);
      if (members > fewestMembers) continue;
      if (members < fewestMembers) {
        fewestMembers = members;
        withFewest = 0;
        best = null;
      }
      withFewest++;
      double score = Fit.loadAfter(h, a, limits).score();
      // Strictly better only: hosts come in id order, so on a tie the smaller id stays.
      if (best == null || better(policy, a.containerCount(), score, bestAllocation.containerCount(), bestScore)) {
        best = h;
        bestAllocation = a;
        bestScore = score;
      }
    }
    if (best == null) return noCapacity(spec, candidates, cluster, pinned, pinOption, exclude);
    return new Placement.Decision(best.id(),
        reason(spec, policy, best, bestAllocation, cluster.hostArray().length, fitting, fewestMembers, withFewest, pinned, pinOption));
  }

  private static boolean better(PlacementPolicy policy, int count, double score, int bestCount, double bestScore) {
    if (policy == PlacementPolicy.SPREAD && count != bestCount) return count < bestCount;
    return score < bestScore;
  }

  // ---- the decision's sentence ----

  private static String reason(ContainerSpec spec, PlacementPolicy policy, HostCandidate best, HostAllocation a,
      int registered, int fitting, int fewestMembers, int withFewest, boolean pinned, String pinOption) {
    Limits limits = spec.limits();
    String group = spec.placement().antiAffinityGroup();
    String stats = "after placing: " + (policy == PlacementPolicy.SPREAD ? Text.plural(a.containerCount() + 1L, "container", "containers") + "; " : "")
        + Fit.loadAfter(best, a, limits).text();
    List<String> parts = new ArrayList<>(3);
    if (pinned) {
      parts.add("pinned by " + pinOption + " to " + best.id() + " (" + stats + ")");
      if (!group.isEmpty()) {
        parts.add("anti-affinity group " + group + (fewestMembers == 0 ? ": no member there yet"
            : ": not spread, " + best.id() + " already has " + Text.plural(fewestMembers, "member", "members")));
      }
    } else {
      String chooser = policy == PlacementPolicy.SPREAD ? "fewest containers" : "least loaded";
      String of = "of " + registered;
      if (group.isEmpty()) {
        parts.add(fitting == 1
            ? best.id() + " is the only fitting host " + of + " (" + stats + ")"
            : chooser + " of " + fitting + " fitting hosts (" + best.id() + " " + stats + ")");
      } else {
        String members = fewestMembers == 0 ? "no member" : Text.plural(fewestMembers, "member", "members");
        String pool;
        if (fitting == 1) {
          pool = "anti-affinity group " + group + ": " + best.id() + " is the only fitting host " + of + " and has " + members;
        } else if (withFewest == fitting) {
          pool = "anti-affinity group " + group + ": all " + fitting + " fitting hosts have " + members;
        } else {
          pool = "anti-affinity group " + group + " spread: " + withFewest + " of " + fitting + " fitting hosts "
              + (withFewest == 1 ? "has " : "have ") + (fewestMembers == 0 ? "no member" : "the fewest members (" + fewestMembers + ")");
        }
        parts.add(withFewest == 1 ? pool + " (" + best.id() + " " + stats + ")"
            : pool + "; " + chooser + " of those (" + best.id() + " " + stats + ")");
      }
    }
    if (!spec.placement().hostLabels().isEmpty()) parts.add("host labels " + labelText(spec.placement().hostLabels()));
    return String.join("; ", parts);
  }

  // ---- the refusal ----

  private enum Why {
    CONDITION, EXCLUDED, LABELS, RESOURCES
  }

  private static Placement noCapacity(ContainerSpec spec, HostCandidate[] candidates, ClusterAllocation cluster, boolean pinned, String pinOption,
      Map<HostId, String> exclude) {
    Map<String, String> labels = spec.placement().hostLabels();
    List<String> named = new ArrayList<>();
    Map<String, Integer> unnamed = new TreeMap<>();
    int[] byWhy = new int[Why.values().length];
    for (HostCandidate h : candidates) {
      Why why;
      String text;
      String kind;
      if (!h.condition().schedulable()) {
        why = Why.CONDITION;
        text = h.condition().word();
        kind = text;
      } else if (exclude.containsKey(h.id())) {
        why = Why.EXCLUDED;
        text = "excluded: " + exclude.get(h.id());
        kind = "excluded";
      } else if (!h.hasLabels(labels)) {
        why = Why.LABELS;
        text = missingLabels(h, labels);
        kind = "lacking labels";
      } else {
        why = Why.RESOURCES;
        text = Fit.shortfall(h, cluster.allocation(h.id()), spec.limits());
        kind = "short of resources";
      }
      byWhy[why.ordinal()]++;
      if (named.size() < MAX_NAMED_HOSTS) named.add(h.id() + ": " + text);
      else unnamed.merge(kind, 1, Integer::sum);
    }
    StringBuilder m = new StringBuilder();
    if (pinned) {
      m.append("pinned host ").append(candidates[0].id()).append(" (").append(pinOption).append(") cannot take container ");
    } else {
      m.append("no host can take container ");
    }
    m.append(spec.id()).append(" (").append(spec.limits()).append(")");
    if (!labels.isEmpty()) m.append(" with host labels ").append(labelText(labels));
    m.append(": ").append(String.join("; ", named));
    if (!unnamed.isEmpty()) {
      int rest = unnamed.values().stream().mapToInt(Integer::intValue).sum();
      List<String> counts = new ArrayList<>();
      unnamed.forEach((kind, n) -> counts.add(n + " " + kind));
      m.append("; and ").append(Text.plural(rest, "more host", "more hosts")).append(" (").append(String.join(", ", counts)).append(")");
    }
    String field;
    if (pinned) field = "placement.pinnedHost";
    else if (byWhy[Why.RESOURCES.ordinal()] > 0) field = "limits";
    else if (byWhy[Why.LABELS.ordinal()] > 0) field = "placement.hostLabels";
    else field = "host";
    return refuse(Code.NO_CAPACITY, field, m.toString());
  }

  private static String missingLabels(HostCandidate h, Map<String, String> required) {
    List<String> missing = new ArrayList<>();
    List<String> has = new ArrayList<>();
    required.forEach((k, v) -> {
      String actual = h.labels().get(k);
      if (!v.equals(actual)) {
        missing.add(k + "=" + v);
        if (actual != null) has.add(k + "=" + actual);
      }
    });
    return "lacks " + (missing.size() == 1 ? "label " : "labels ") + Text.andList(missing)
        + (has.isEmpty() ? "" : " (has " + Text.andList(has) + ")");
  }

  private static String labelText(Map<String, String> labels) {
    List<String> pairs = new ArrayList<>();
    labels.forEach((k, v) -> pairs.add(k + "=" + v));
    return String.join(",", pairs);
  }

  private static String names(HostCandidate[] hosts) {
    StringBuilder b = new StringBuilder();
    int n = Math.min(hosts.length, 10);
    for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ", ").append(hosts[i].id());
    if (hosts.length > n) b.append(" and ").append(hosts.length - n).append(" more");
    return b.toString();
  }

  private static Placement refuse(Code code, String field, String message) {
    return new Placement.Refusal(new Rejection(code, field, message));
  }
}
