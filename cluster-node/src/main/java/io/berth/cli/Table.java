package io.berth.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Aligned columns for people: a header row in capitals, two spaces between columns, no trailing blanks. */
final class Table {
  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  Table(String... header) {
    this.columns = header.length;
    rows.add(header);
  }

  Table row(Object... cells) {
    String[] r = new String[columns];
    for (int k = 0; k < columns; k++) r[k] = k < cells.length && cells[k] != null ? cells[k].toString() : "-";
    rows.add(r);
    return this;
  }

  void print(PrintStream out) {
    int[] width = new int[columns];
    for (String[] r : rows) for (int k = 0; k < columns; k++) width[k] = Math.max(width[k], r[k].length());
    StringBuilder sb = new StringBuilder();
    for (String[] r : rows) {
      sb.setLength(0);
      for (int k = 0; k < columns; k++) {
        sb.append(r[k]);
        if (k < columns - 1) sb.append(" ".repeat(width[k] - r[k].length() + 2));
      }
      out.println(sb.toString().stripTrailing());
    }
  }

  /** {@code key: value} lines, keys aligned, for {@code show} verbs. */
  static void fields(PrintStream out, List<String[]> pairs) {
    int w = 0;
    for (String[] p : pairs) w = Math.max(w, p[0].length());
    for (String[] p : pairs) out.println(p[0] + ":" + " ".repeat(w - p[0].length() + 1) + (p[1] == null ? "-" : p[1]));
  }
}
