package io.berth.isolation.fence;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the watchdog fenced, as it wrote it to {@code <dataRoot>/watchdog/fenced/<ms>.rec} (see the C program):
 * when, when it had last been fed and with which deadline, and per container whether its freezer cgroup
 * reached FROZEN, the pids it killed and how many were still there when its bound ran out. The node writes one of
 * the same form when it fences the host itself ({@link Watchdog#recordNodeFence}, {@code by node}).
 *
 * @param file the record's file; {@link Watchdog#acknowledge} deletes it once the node has recorded it in the log
 * @param by   {@code watchdog} or {@code node}: who fenced
 */
public record FenceRecord(Path file, String by, Instant fencedAt, Instant lastFedAt, Duration deadline, long watchdogPid,
    List<Fenced> containers, Duration took) {
  public static final String BY_WATCHDOG = "watchdog";
  public static final String BY_NODE = "node";


  /** One container cgroup the watchdog fenced (its name under the cgroup root is the container's id). */
  public record Fenced(String container, boolean frozen, List<Integer> pids, int remaining) {
    public Fenced {
      pids = List.copyOf(pids);
    }
  }

  public FenceRecord {
    containers = List.copyOf(containers);
  }

  /** True when every process of every container was gone before the watchdog's bound ran out. */
  public boolean complete() {
    return containers.stream().allMatch(c -> c.remaining() == 0);
  }

  /** The record's lines, as {@link #parse} reads them (the C watchdog writes the same, without {@code by}). */
  List<String> lines() {
    List<String> lines = new ArrayList<>(List.of("berth-watchdog-fence 1", "by " + by, "fenced_at_ms " + fencedAt.toEpochMilli(),
        "last_fed_at_ms " + lastFedAt.toEpochMilli(), "deadline_ms " + deadline.toMillis(), "watchdog_pid " + watchdogPid,
        "took_ms " + took.toMillis()));
    for (Fenced c : containers) {
      StringBuilder line = new StringBuilder("container " + c.container() + " frozen " + (c.frozen() ? "yes" : "no") + " pids");
      for (int p : c.pids()) line.append(' ').append(p);
      lines.add(line.toString());
      if (c.remaining() > 0) lines.add("remaining " + c.container() + " " + c.remaining());
    }
    return lines;
  }

  /** Parses the record's lines; throws {@link WatchdogException} naming the file and the line it cannot read. */
  static FenceRecord parse(Path file, List<String> lines) {
    if (lines.isEmpty() || !lines.get(0).equals("berth-watchdog-fence 1")) {
      throw new WatchdogException("fence record " + file + ": does not start with \"berth-watchdog-fence 1\"");
    }
    long fencedAt = -1, lastFed = -1, deadline = -1, pid = -1, took = -1;
    String by = BY_WATCHDOG;
    List<Fenced> containers = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(" ");
      try {
        switch (f[0]) {
          case "by" -> {
            if (!f[1].equals(BY_WATCHDOG) && !f[1].equals(BY_NODE)) throw new IllegalArgumentException("by must be watchdog or node");
            by = f[1];
          }
          case "fenced_at_ms" -> fencedAt = Long.parseLong(f[1]);
          case "last_fed_at_ms" -> lastFed = Long.parseLong(f[1]);
          case "deadline_ms" -> deadline = Long.parseLong(f[1]);
          case "watchdog_pid" -> pid = Long.parseLong(f[1]);
          case "took_ms" -> took = Long.parseLong(f[1]);
          case "container" -> {
            if (f.length < 5 || !f[2].equals("frozen") || !f[4].equals("pids")) throw new IllegalArgumentException("container line");
            List<Integer> pids = Arrays.stream(f, 5, f.length).map(Integer::parseInt).toList();
            containers.add(new Fenced(f[1], f[3].equals("yes"), pids, 0));
          }
          case "remaining" -> {
            int last = containers.size() - 1;
            if (last < 0 || !containers.get(last).container().equals(f[1])) throw new IllegalArgumentException("remaining before its container");
            Fenced c = containers.get(last);
            containers.set(last, new Fenced(c.container(), c.frozen(), c.pids(), Integer.parseInt(f[2])));
          }
          default -> throw new IllegalArgumentException("unknown key");
        }
      } catch (RuntimeException e) {
        throw new WatchdogException("fence record " + file + ": cannot read \"" + line + "\" (" + e.getMessage() + ")", e);
      }
    }
    if (fencedAt < 0 || lastFed < 0 || deadline < 0 || took < 0) {
      throw new WatchdogException("fence record " + file + ": fenced_at_ms, last_fed_at_ms, deadline_ms or took_ms is missing");
    }
    return new FenceRecord(file, by, Instant.ofEpochMilli(fencedAt), Instant.ofEpochMilli(lastFed), Duration.ofMillis(deadline), pid,
        containers, Duration.ofMillis(took));
  }
}
