package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** Label maps (containers and hosts): validated keys and values, kept sorted so events serialize the same every time. */
public final class Labels {
  public static final int MAX_LABELS = 64;
  private static final Pattern KEY = Pattern.compile("[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?");
  private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9._:/@+-]{0,128}");

  private Labels() {}

  public static Map<String, String> check(String field, Map<String, String> labels) {
    if (labels == null) return Map.of();
    if (labels.size() > MAX_LABELS) throw new InvalidFieldException(field, "must have at most " + MAX_LABELS + " labels", labels.size());
    TreeMap<String, String> sorted = new TreeMap<>();
    labels.forEach((k, v) -> {
      if (k == null || !KEY.matcher(k).matches()) {
        throw new InvalidFieldException(field, "keys must be 1-63 characters of a-z, 0-9, '.', '_', '/' and '-'", k);
      }
      if (v == null || !VALUE.matcher(v).matches()) {
        throw new InvalidFieldException(field + "." + k, "must be at most 128 characters of letters, digits and ._:/@+-", v);
      }
      sorted.put(k, v);
    });
    return java.util.Collections.unmodifiableSortedMap(sorted);
  }

  /** Parses {@code k=v} as given on a command line. */
  public static Map.Entry<String, String> parsePair(String field, String text) {
    int eq = text == null ? -1 : text.indexOf('=');
    if (eq <= 0) throw new InvalidFieldException(field, "must be key=value", text);
    return Map.entry(text.substring(0, eq), text.substring(eq + 1));
  }
}
