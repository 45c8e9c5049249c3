package io.berth.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The invariants of design.md decided over what a run collected: the history, the event log, samples of every host's
 * kernel. Each is a pure function of its inputs (the run collects them, the unit tests make them by hand), and each
 * problem it reports names the container, the hosts and the times.
 */
final class Checkers {
  private Checkers() {}

  /** An event of the log as the audit API shows it. */
  /** One event of the log; {@code memory}: the memory cap it sets (a define's or a limits change's), else null. */
  record LogEvent(String kind, String entity, String type, String correlationId, Instant at, String memory) {
    LogEvent(String kind, String entity, String type, String correlationId, Instant at) {
      this(kind, entity, type, correlationId, at, null);
    }

    static LogEvent of(JsonNode entry) {
      JsonNode d = entry.path("details");
      JsonNode limits = d.has("limits") ? d.path("limits") : d.path("spec").path("limits");
      return new LogEvent(entry.path("entity").path("kind").asText(), entry.path("entity").path("id").asText(), entry.path("type").asText(),
          entry.path("correlationId").asText(null), Instant.parse(entry.path("at").asText()), limits.path("memory").asText(null));
    }
  }

  /** The operations whose ok says an event is durable (exec changes nothing, so it records nothing). */
  static final Set<String> CHANGES = Set.of("create", "start", "stop", "set", "migrate-live", "migrate-cold", "drain", "uncordon", "destroy");

  /** 1. Never two copies: no sampler of any container saw it running on two hosts at once. */
  static Verdict neverTwoCopies(List<CopySampler> samplers) {
    List<String> problems = new ArrayList<>();
    long samples = 0;
    for (CopySampler s : samplers) {
      samples += s.samples();
      if (s.overlap() != null) problems.add(s.overlap() + " (hosts running " + s.container() + " over time: " + s.transitions() + ")");
      else if (s.samples() < 20) problems.add("the sampler of " + s.container() + " ran only " + s.samples() + " times: it saw too little to tell");
    }
    // How many ran on more than one host over the run (moved or failed over) says whether the run tested anything.
    long moved = samplers.stream().filter(s -> s.hostsSeen().size() > 1).count();
    return Verdict.of("never-two-copies", problems, samplers.size() + " containers, " + samples + " kernel samples of every host; "
        + moved + " of them ran on more than one host over the run");
  }

  /**
   * 2. Nothing acknowledged is lost: every change that answered ok caused an event carrying its correlation id in the
   * log of the entity it named.
   */
  static Verdict acknowledgedInLog(History history, List<LogEvent> log) {
    Set<String> logged = new HashSet<>();
    for (LogEvent e : log) if (e.correlationId() != null) logged.add(e.entity() + "/" + e.correlationId());
    List<String> problems = new ArrayList<>();
    int oks = 0;
    int noOps = 0;
    for (History.Pair p : history.completed()) {
      if (p.completion().type() != History.Type.OK || "nemesis".equals(p.invoke().process()) || !CHANGES.contains(p.invoke().f())) continue;
      oks++;
      if (logged.contains(p.invoke().target() + "/" + p.invoke().correlationId())) continue;
      if (hostNoOp(p, log) || limitsNoOp(p, log)) {
        noOps++;
        continue;
      }
      {
        problems.add(p.invoke().f() + " " + p.invoke().target() + " by client " + p.invoke().process() + " answered ok at " + p.completion().at()
            + " (invoked " + p.invoke().at() + ", X-Correlation-Id " + p.invoke().correlationId() + ") but no event of " + p.invoke().target()
            + " in the log carries it" + hostsAt(history, p.invoke().at(), p.completion().at()));
      }
    }
    return Verdict.of("acknowledged-in-log", problems, oks + " acknowledged changes against " + log.size() + " events (" + noOps
        + " of them uncordons of uncordoned hosts, drains of draining ones or sets of the memory a container had, which change nothing)");
  }

  /**
   * An uncordon of a host that is not cordoned, or a drain of one already draining, answers ok and persists nothing
   * (HostEntity). Such an ok needs no event: it is one when the host's log, folded to the invoke or to any of its
   * events up to the answer, shows that state (the op took effect somewhere in between).
   */
  static boolean hostNoOp(History.Pair p, List<LogEvent> log) {
    String f = p.invoke().f();
    if (!f.equals("uncordon") && !f.equals("drain")) return false;
    List<LogEvent> events = log.stream().filter(e -> e.kind().equals("host") && e.entity().equals(p.invoke().target()))
        .sorted(java.util.Comparator.comparing(LogEvent::at)).toList();
    boolean cordoned = false;
    boolean draining = false;
    boolean checkedAtInvoke = false;
    for (LogEvent e : events) {
      if (e.at().isAfter(p.invoke().at()) && !checkedAtInvoke) {
        checkedAtInvoke = true;
        if (f.equals("uncordon") ? !cordoned : draining) return true;
      }
      if (e.at().isAfter(p.completion().at())) break;
      switch (e.type()) {
        case "HostCordoned" -> cordoned = true;
        case "DrainRequested" -> {
          cordoned = true;
          draining = true;
        }
        case "HostDrained" -> {
          cordoned = true;
          draining = false;
        }
        case "HostUncordoned", "HostRejoined", "HostRegistered", "HostFenced" -> {
          cordoned = false;
          draining = false;
        }
        default -> { }
      }
      if (checkedAtInvoke && (f.equals("uncordon") ? !cordoned : draining)) return true;
    }
    return f.equals("uncordon") ? !cordoned : draining;
  }

  /**
   * A set of the memory cap a container already has answers ok from its state and persists nothing (the API). Such
   * an ok needs no event: it is one when the container's log, folded to the invoke or to any of its events up to the
   * answer, shows that cap.
   */
  static boolean limitsNoOp(History.Pair p, List<LogEvent> log) {
    if (!p.invoke().f().equals("set")) return false;
    Object asked = p.invoke().args().get("memory");
    if (asked == null) return false;
    String memory = null;
    boolean checkedAtInvoke = false;
    for (LogEvent e : log.stream().filter(e -> e.kind().equals("container") && e.entity().equals(p.invoke().target()))
        .sorted(java.util.Comparator.comparing(LogEvent::at)).toList()) {
      if (e.at().isAfter(p.invoke().at()) && !checkedAtInvoke) {
        checkedAtInvoke = true;
        if (asked.toString().equals(memory)) return true;
      }
      if (e.at().isAfter(p.completion().at())) break;
      if (e.memory() != null) memory = e.memory();
      if (checkedAtInvoke && asked.toString().equals(memory)) return true;
    }
    return asked.toString().equals(memory);
  }

  /** The faults in place between two times, to say which hosts were under a fault when something went wrong. */
  static String hostsAt(History history, Instant from, Instant to) {
    List<String> faults = new ArrayList<>();
    Map<String, History.Op> open = new java.util.HashMap<>();
    for (History.Op op : history.ops()) {
      if (!"nemesis".equals(op.process())) continue;
      if (op.type() == History.Type.INVOKE) open.put(op.correlationId(), op);
      else {
        History.Op inv = open.remove(op.correlationId());
        if (inv != null && !inv.at().isAfter(to) && !op.at().isBefore(from)) faults.add(inv.f() + " " + inv.target() + " " + inv.at() + " to " + op.at());
      }
    }
    open.values().forEach(inv -> faults.add(inv.f() + " " + inv.target() + " from " + inv.at() + ", never healed"));
    return faults.isEmpty() ? "; no fault in place then" : "; faults in place then: " + String.join(", ", faults);
  }

  /** Where the log says a container is: its phase and host. */
  record Placed(String phase, String host) {}

  /**
   * 3. Convergence, one sample: what each host's kernel runs matches the log. A container the log says runs runs on
   * its host and nowhere else; one it says does not run (or that it does not know) runs nowhere. Empty when they match.
   */
  static List<String> mismatches(Map<String, Placed> log, Map<String, List<String>> kernel, Instant at) {
    List<String> out = new ArrayList<>();
    Set<String> names = new java.util.TreeSet<>(log.keySet());
    names.addAll(kernel.keySet());
    for (String ct : names) {
      Placed p = log.get(ct);
      List<String> on = kernel.getOrDefault(ct, List.of());
      if (p == null) {
        if (!on.isEmpty()) out.add(ct + " is not in the log (destroyed or never created) but runs on " + on + " at " + at);
      } else if ("running".equals(p.phase())) {
        if (!on.equals(List.of(p.host()))) out.add(ct + ": the log says running on " + p.host() + ", the kernels run it on " + on + " at " + at);
      } else if (!on.isEmpty()) {
        out.add(ct + ": the log says " + p.phase() + (p.host() != null ? " (host " + p.host() + ")" : "") + ", the kernels run it on " + on + " at " + at);
      } else if ("migrating".equals(p.phase())) {
        out.add(ct + " is still migrating (on " + p.host() + ") at " + at);
      }
    }
    return out;
  }

  /** 3. Convergence verdict: the last sample's mismatches, when the bound after the last heal ran out before they went. */
  static Verdict converged(List<String> lastMismatches, Instant lastHeal, java.time.Duration bound, java.time.Duration took) {
    List<String> problems = new ArrayList<>();
    for (String m : lastMismatches) problems.add("not converged " + bound.toSeconds() + " s after the last heal (" + lastHeal + "): " + m);
    return Verdict.of("convergence", problems, lastMismatches.isEmpty()
        ? "every host's kernel matched the log " + took.toMillis() + " ms after the last heal (bound " + bound.toSeconds() + " s)"
        : "bound " + bound.toSeconds() + " s after the last heal");
  }

  /** 4. No leaks: what the kernel sample still holds of any container after every one was destroyed. */
  static Verdict noLeaks(KernelSample sample) {
    return Verdict.of("no-leaks", sample.leaks(), "processes, mounts, loop devices, cgroups, veths, nft chains, directories on "
        + sample.hosts() + " at " + sample.at());
  }

  /** Fields of a container's view that are not its state: measurements and what is read beside the log. */
  static final List<String> NOT_STATE = List.of("used", "checkpoints");

  /**
   * 5. Audit: {@code audit verify} found every chain intact, and for each container the fold of its log (the API's
   * {@code ?at=}) equals what its live entity reports. {@code views} maps a container to [live, replayed].
   */
  static Verdict audit(JsonNode verify, Map<String, JsonNode[]> views) {
    List<String> problems = new ArrayList<>();
    if (!verify.path("intact").asBoolean(false)) problems.add("audit verify: not intact: " + verify);
    for (var e : views.entrySet()) {
      JsonNode live = strip(e.getValue()[0]);
      JsonNode replayed = strip(e.getValue()[1]);
      if (!live.equals(replayed)) problems.add(e.getKey() + " on " + live.path("host").asText() + ": the live entity reports " + diff(live, replayed));
    }
    return Verdict.of("audit", problems, "verify: " + verify.path("entitiesChecked").asText("?") + " entities, "
        + verify.path("eventsChecked").asText("?") + " events; " + views.size() + " containers replayed");
  }

  private static JsonNode strip(JsonNode view) {
    JsonNode copy = view.deepCopy();
    if (copy instanceof ObjectNode o) NOT_STATE.forEach(o::remove);
    return copy;
  }

  private static String diff(JsonNode live, JsonNode replayed) {
    List<String> d = new ArrayList<>();
    Set<String> fields = new java.util.TreeSet<>();
    live.fieldNames().forEachRemaining(fields::add);
    replayed.fieldNames().forEachRemaining(fields::add);
    for (String f : fields) if (!live.path(f).equals(replayed.path(f))) d.add(f + "=" + live.path(f) + ", its replayed log " + f + "=" + replayed.path(f));
    return String.join("; ", d);
  }

  /** One request of the fuzzer and what it got. */
  record Fuzzed(String request, int status, String answer) {}

  /** 6. Bad input: no fuzzed request got a 5xx (or no answer), and the state was the same after them as before. */
  static Verdict badInput(List<Fuzzed> fuzzed, JsonNode before, JsonNode after, List<String> eventsCaused) {
    List<String> problems = new ArrayList<>();
    eventsCaused.forEach(e -> problems.add("a fuzzed request caused an event: " + e));
    for (Fuzzed f : fuzzed) {
      if (f.status() >= 500 || f.status() == 0) problems.add(f.request() + " got " + (f.status() == 0 ? "no answer" : f.status()) + ": " + f.answer());
      // A read that ignores what it does not understand changes nothing; a change that takes bad input is a problem.
      else if (f.status() < 400 && !f.request().startsWith("GET ")) problems.add(f.request() + " was accepted (" + f.status() + "): " + f.answer());
    }
    if (!before.equals(after)) problems.add("the state changed under the fuzzer: before " + before + ", after " + after);
    return Verdict.of("bad-input", problems, fuzzed.size() + " malformed, oversized or rule-breaking requests");
  }

  static int countInvalid(List<Verdict> verdicts) {
    int n = 0;
    for (Iterator<Verdict> i = verdicts.iterator(); i.hasNext(); ) if (!i.next().valid()) n++;
    return n;
  }
}
