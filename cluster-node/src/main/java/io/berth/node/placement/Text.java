package io.berth.node.placement;

import java.util.List;

/** Small helpers for the sentences placement writes. */
final class Text {
  private Text() {}

  /** {@code a}, {@code a and b}, {@code a, b and c}. */
  static String andList(List<String> parts) {
    if (parts.size() == 1) return parts.get(0);
    return String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
  }

  /** A fraction as a whole percentage; below 1% but above 0 says {@code <1%} rather than a misleading 0%. */
  static String percent(double fraction) {
    if (fraction > 0 && fraction < 0.005) return "<1%";
    return Math.round(fraction * 100) + "%";
  }

  static String plural(long n, String one, String many) {
    return n + " " + (n == 1 ? one : many);
  }
}
