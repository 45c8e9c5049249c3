package io.berth.isolation.cgroup;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** The kernel's cpu list format ({@code 0-3,6,8-9}; cpuset(7) "List format"), read and written. */
public final class CpuList {
  private CpuList() {}

  /** The cpus, ascending; an empty text is the empty list. */
  public static List<Integer> parse(String text) {
    TreeSet<Integer> cpus = new TreeSet<>();
    String t = text == null ? "" : text.strip();
    if (t.isEmpty()) return List.of();
    for (String part : t.split(",")) {
      String p = part.strip();
      int dash = p.indexOf('-');
      try {
        if (dash < 0) {
          cpus.add(Integer.parseInt(p));
        } else {
          int lo = Integer.parseInt(p.substring(0, dash));
          int hi = Integer.parseInt(p.substring(dash + 1));
          if (hi < lo) throw new CgroupException("cpu list " + text + ": range " + p + " runs backwards");
          for (int c = lo; c <= hi; c++) cpus.add(c);
        }
      } catch (NumberFormatException e) {
        throw new CgroupException("cpu list " + text + ": " + p + " is not a cpu or a range", e);
      }
    }
    return List.copyOf(cpus);
  }

  /** Ascending, consecutive cpus as ranges: [0, 1, 2, 5] is {@code 0-2,5}. */
  public static String format(List<Integer> cpus) {
    List<Integer> sorted = new ArrayList<>(new TreeSet<>(cpus));
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < sorted.size(); ) {
      int j = i;
      while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) j++;
      if (b.length() > 0) b.append(',');
      b.append(sorted.get(i));
      if (j > i) b.append('-').append(sorted.get(j));
      i = j + 1;
    }
    return b.toString();
  }
}
