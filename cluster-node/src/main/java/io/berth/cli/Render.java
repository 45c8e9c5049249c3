package io.berth.cli;

import static io.berth.cli.Verb.obj;
import static io.berth.cli.Verb.str;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** How the API's JSON looks in tables and {@code show} listings. */
final class Render {
  private Render() {}

  @SuppressWarnings("unchecked")
  static List<Object> items(Map<String, Object> page) {
    Object items = page.get("items");
    return items instanceof List ? (List<Object>) items : List.of();
  }

  /** CPU and MEMORY: used/cap, "used" as its host last measured ("-" until then). */
  static void containers(PrintStream out, List<Object> items) {
    Table t = new Table("NAME", "PHASE", "HOST", "ADDRESS", "TEMPLATE", "CPU", "MEMORY", "PIDS", "PENDING");
    for (Object o : items) {
      Map<String, Object> c = obj(o);
      Map<String, Object> l = obj(c.get("limits"));
      Map<String, Object> u = obj(c.get("used"));
      Map<String, Object> p = obj(c.get("pending"));
      t.row(c.get("id"), c.get("phase"), c.get("host"), c.get("address"), c.get("template"), ratio(u.get("cpu"), l.get("cpu")),
          ratio(u.get("memory"), l.get("memory")), l.get("pids"), p.get("operation"));
    }
    t.print(out);
  }

  /** {@code every 30s; last #12 8s ago, frozen 81 ms; median frozen 84 ms of 2 kept}. */
  static String checkpoints(String every, Map<String, Object> cp) {
    StringBuilder b = new StringBuilder("every " + every);
    if (cp.get("lastSequence") == null) return b.append(cp.isEmpty() ? "" : "; none taken yet").toString();
    b.append("; last #").append(cp.get("lastSequence")).append(' ').append(cp.get("lastAgeSeconds")).append("s ago, frozen ")
        .append(cp.get("lastFrozenMs")).append(" ms");
    if (!"criu-stats".equals(cp.get("lastFrozenSource"))) b.append(" (wall clock)");
    return b.append("; median frozen ").append(cp.get("medianFrozenMs")).append(" ms of ").append(cp.get("kept")).append(" kept").toString();
  }

  static void container(PrintStream out, Map<String, Object> c) {
    Map<String, Object> l = obj(c.get("limits"));
    List<String[]> f = new ArrayList<>();
    f.add(new String[] {"name", str(c.get("id"))});
    f.add(new String[] {"phase", str(c.get("phase"))});
    f.add(new String[] {"host", str(c.get("host"))});
    f.add(new String[] {"address", str(c.get("address"))});
    f.add(new String[] {"template", str(c.get("template"))});
    f.add(new String[] {"hostname", str(c.get("hostname"))});
    Object cmd = c.get("command");
    f.add(new String[] {"command", cmd instanceof List<?> list && !list.isEmpty()
        ? list.stream().map(String::valueOf).collect(Collectors.joining(" ")) : "(template default)"});
    f.add(new String[] {"limits", "cpu " + l.get("cpu") + ", memory " + l.get("memory") + ", pids " + l.get("pids")
        + ("0".equals(str(l.get("disk"))) ? "" : ", disk " + l.get("disk"))});
    f.add(new String[] {"share", "cpu weight " + l.get("cpuWeight") + "; guaranteed cpu " + l.get("cpuGuarantee") + ", memory " + l.get("memoryGuarantee")});
    f.add(new String[] {"restart", str(c.get("restart"))});
    f.add(new String[] {"storage", str(c.get("storage")) + ("shared".equals(c.get("storage")) ? " (restarted elsewhere if its host dies"
        + ("never".equals(c.get("restart")) ? ": not with restart never)" : ")") : " (lost with its host)") + ", HA priority " + str(c.get("haPriority"))});
    if (c.get("checkpointEvery") != null && !"off".equals(c.get("checkpointEvery"))) {
      f.add(new String[] {"checkpoints", checkpoints(str(c.get("checkpointEvery")), obj(c.get("checkpoints")))});
    }
    Map<String, Object> cp = obj(c.get("checkpoints"));
    if (cp.get("lastError") != null) f.add(new String[] {"ckpt error", Times.show(cp.get("lastErrorAt")) + ": " + cp.get("lastError")});
    Map<String, Object> lost = obj(c.get("lost"));
    if (!lost.isEmpty()) f.add(new String[] {"lost", "since " + Times.show(lost.get("since")) + " with host " + lost.get("host") + ": " + lost.get("reason")});
    f.add(new String[] {"security", Boolean.TRUE.equals(c.get("privileged")) ? "PRIVILEGED (root inside is root on the host)"
        : "unprivileged (own user namespace)"});
    f.add(new String[] {"labels", pairs(obj(c.get("labels")))});
    Map<String, Object> pl = obj(c.get("placement"));
    List<String> placement = new ArrayList<>();
    if (pl.get("host") != null) placement.add("host " + pl.get("host"));
    if (!obj(pl.get("hostLabels")).isEmpty()) placement.add("host labels " + pairs(obj(pl.get("hostLabels"))));
    if (pl.get("antiAffinityGroup") != null && !"".equals(pl.get("antiAffinityGroup"))) placement.add("anti-affinity " + pl.get("antiAffinityGroup"));
    f.add(new String[] {"placement", placement.isEmpty() ? "-" : String.join(", ", placement)});
    if (c.get("pid") != null) f.add(new String[] {"pid", str(c.get("pid")) + " (since " + Times.show(c.get("runningSince")) + ")"});
    Map<String, Object> p = obj(c.get("pending"));
    if (!p.isEmpty()) f.add(new String[] {"pending", p.get("operation") + " since " + Times.show(p.get("since"))});
    Map<String, Object> m = obj(c.get("migration"));
    if (!m.isEmpty()) f.add(new String[] {"migration", m.get("mode") + " " + m.get("source") + " -> " + m.get("target") + ", step " + m.get("step")});
    Map<String, Object> e = obj(c.get("lastExit"));
    if (!e.isEmpty()) f.add(new String[] {"last exit", e.get("description") + " at " + Times.show(e.get("at"))});
    if (c.get("lastError") != null) f.add(new String[] {"last error", str(c.get("lastError"))});
    f.add(new String[] {"updated", Times.show(c.get("updatedAt"))});
    Table.fields(out, f);
  }

  /**
   * Per host, for cpu and memory: USED (measured) and RESERVED (guarantees) of its capacity, CAPS (the sum of the
   * containers' caps) of what the overcommit ratio allows.
   */
  static void hosts(PrintStream out, List<Object> items) {
    Table t = new Table("NAME", "PHASE", "CONTAINERS", "CPU-USED", "CPU-RESERVED", "CPU-CAPS", "MEM-USED", "MEM-RESERVED", "MEM-CAPS",
        "REACHABLE");
    for (Object o : items) {
      Map<String, Object> h = obj(o);
      Map<String, Object> cap = obj(h.get("capacity"));
      Map<String, Object> al = obj(h.get("allocated"));
      Map<String, Object> up = obj(h.get("allocatable"));
      Map<String, Object> rs = obj(h.get("reserved"));
      Map<String, Object> us = obj(h.get("used"));
      t.row(h.get("id"), h.get("phase"), h.get("containers"), ratio(us.get("cpu"), cap.get("cpu")), used(rs, cap, "cpu"), used(al, up, "cpu"),
          ratio(us.get("memory"), cap.get("memory")), used(rs, cap, "memory"), used(al, up, "memory"), yesNo(h.get("reachable")));
    }
    t.print(out);
  }

  static void host(PrintStream out, Map<String, Object> h) {
    Map<String, Object> cap = obj(h.get("capacity"));
    Map<String, Object> al = obj(h.get("allocated"));
    List<String[]> f = new ArrayList<>();
    f.add(new String[] {"name", str(h.get("id"))});
    f.add(new String[] {"phase", str(h.get("phase"))});
    f.add(new String[] {"address", str(h.get("address"))});
    f.add(new String[] {"labels", pairs(obj(h.get("labels")))});
    Map<String, Object> up = obj(h.get("allocatable"));
    Map<String, Object> rs = obj(h.get("reserved"));
    Map<String, Object> us = obj(h.get("used"));
    Map<String, Object> oc = obj(h.get("overcommit"));
    f.add(new String[] {"capacity", "cpu " + cap.get("cpu") + ", memory " + cap.get("memory") + ", pids " + cap.get("pids")});
    f.add(new String[] {"overcommit", "cpu " + oc.get("cpu") + "x, memory " + oc.get("memory") + "x (caps up to cpu " + up.get("cpu")
        + ", memory " + up.get("memory") + ")"});
    f.add(new String[] {"used", us.isEmpty() ? "not measured yet" : "cpu " + us.get("cpu") + ", memory " + us.get("memory") + " (at "
        + Times.show(us.get("at")) + ")"});
    f.add(new String[] {"reserved", "cpu " + rs.get("cpu") + ", memory " + rs.get("memory") + " (guarantees)"});
    f.add(new String[] {"caps", "cpu " + al.get("cpu") + ", memory " + al.get("memory") + ", pids " + al.get("pids")});
    f.add(new String[] {"containers", str(h.get("containers"))});
    f.add(new String[] {"reachable", yesNo(h.get("reachable"))});
    f.add(new String[] {"registered", Times.show(h.get("registeredAt"))});
    if (h.get("fencedBy") != null) f.add(new String[] {"fenced", "by " + h.get("fencedBy") + " since " + Times.show(h.get("fencedSince"))});
    if (h.get("fencedEvidence") != null) f.add(new String[] {"evidence", str(h.get("fencedEvidence"))});
    Table.fields(out, f);
  }

  /** {@code part/whole}; {@code -} when the part is not known (not measured yet). */
  private static String ratio(Object part, Object whole) {
    return part == null ? "-" : part + "/" + (whole == null ? "?" : whole);
  }

  /** {@code allocated/capacity}, or what is known of them. */
  private static String used(Map<String, Object> allocated, Map<String, Object> capacity, String key) {
    Object a = allocated.get(key);
    Object c = capacity.get(key);
    if (a == null && c == null) return null;
    return (a == null ? "?" : a) + "/" + (c == null ? "?" : c);
  }

  static void audit(PrintStream out, List<Object> items, boolean entityColumn) {
    Table t = entityColumn ? new Table("TIME", "ENTITY", "SEQ", "EVENT", "PRINCIPAL", "REASON", "DETAILS")
        : new Table("SEQ", "TIME", "EVENT", "PRINCIPAL", "REASON", "DETAILS");
    for (Object o : items) {
      Map<String, Object> e = obj(o);
      Map<String, Object> entity = obj(e.get("entity"));
      String details = details(obj(e.get("details")));
      String reason = str(e.get("reason"));
      if (reason != null && reason.isEmpty()) reason = null;
      if (entityColumn) {
        t.row(Times.show(e.get("at")), entity.get("kind") + " " + entity.get("id"), e.get("sequenceNr"), e.get("type"), e.get("principal"), reason, details);
      } else {
        t.row(e.get("sequenceNr"), Times.show(e.get("at")), e.get("type"), e.get("principal"), reason, details);
      }
    }
    t.print(out);
  }

  /** {@code k=v k=v}, nested objects flattened one level, long values cut, absent ones (null) left out. */
  static String details(Map<String, Object> d) {
    if (d.isEmpty()) return null;
    List<String> parts = new ArrayList<>();
    d.forEach((k, v) -> {
      if (v == null) return;
      String s = v instanceof Map<?, ?> ? "{" + pairs(obj(v)) + "}" : String.valueOf(v);
      if (s.length() > 60) s = s.substring(0, 57) + "...";
      parts.add(k + "=" + s);
    });
    return String.join(" ", parts);
  }

  static String pairs(Map<String, Object> m) {
    if (m.isEmpty()) return "-";
    return m.entrySet().stream().map(e -> e.getKey() + "=" + (e.getValue() instanceof Map<?, ?> ? "{" + pairs(obj(e.getValue())) + "}"
        : e.getValue())).collect(Collectors.joining(", "));
  }

  private static String yesNo(Object b) {
    return b == null ? null : Boolean.TRUE.equals(b) ? "yes" : "no";
  }
}
