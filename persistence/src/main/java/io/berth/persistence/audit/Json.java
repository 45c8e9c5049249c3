package io.berth.persistence.audit;

import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Just enough JSON for the audit export: events are records of strings, numbers, booleans, instants, enums, nested
 * records, lists and maps. A record with a single component {@code value} (an id) is written as that value.
 * Map keys are sorted, so an export is the same bytes every time.
 */
final class Json {
  private Json() {}

  static void recordWithout(StringBuilder b, Record r, String skipped) {
    b.append('{');
    boolean first = true;
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      if (c.getName().equals(skipped)) continue;
      if (!first) b.append(',');
      first = false;
      string(b, c.getName());
      b.append(':');
      value(b, component(r, c));
    }
    b.append('}');
  }

  static void value(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof String s) {
      string(b, s);
    } else if (v instanceof Number || v instanceof Boolean) {
      b.append(v);
    } else if (v instanceof Instant || v instanceof Duration || v instanceof Enum<?> || v instanceof Character) {
      string(b, v.toString());
    } else if (v instanceof Optional<?> o) {
      value(b, o.orElse(null));
    } else if (v instanceof Map<?, ?> m) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<String, Object> e : sorted(m).entrySet()) {
        if (!first) b.append(',');
        first = false;
        string(b, e.getKey());
        b.append(':');
        value(b, e.getValue());
      }
      b.append('}');
    } else if (v instanceof Collection<?> list) {
      b.append('[');
      boolean first = true;
      for (Object o : list) {
        if (!first) b.append(',');
        first = false;
        value(b, o);
      }
      b.append(']');
    } else if (v instanceof Record r) {
      RecordComponent[] cs = r.getClass().getRecordComponents();
      if (cs.length == 1 && cs[0].getName().equals("value")) {
        value(b, component(r, cs[0]));
      } else {
        recordWithout(b, r, null);
      }
    } else {
      string(b, v.toString());
    }
  }

  static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    b.append('"');
  }

  private static TreeMap<String, Object> sorted(Map<?, ?> m) {
    TreeMap<String, Object> t = new TreeMap<>();
    m.forEach((k, v) -> t.put(String.valueOf(k), v));
    return t;
  }

  private static Object component(Record r, RecordComponent c) {
    try {
      var accessor = c.getAccessor();
      accessor.setAccessible(true);
      return accessor.invoke(r);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("read " + r.getClass().getSimpleName() + "." + c.getName() + " for the audit export", e);
    }
  }
}
