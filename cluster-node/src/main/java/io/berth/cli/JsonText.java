package io.berth.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader and writer, enough for the API's answers and the CLI's requests. The CLI keeps its own
 * instead of Jackson so its classpath stays picocli alone and it starts fast (CLI.md). Objects read as
 * {@link LinkedHashMap}, arrays as {@link ArrayList}, numbers as {@link Long} when whole, {@link Double} otherwise.
 */
final class JsonText {
  private final String s;
  private int i;

  private JsonText(String s) {
    this.s = s;
  }

  static Object parse(String text) {
    JsonText p = new JsonText(text);
    p.ws();
    Object v = p.value();
    p.ws();
    if (p.i != p.s.length()) throw p.error("trailing characters");
    return v;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> object(String text) {
    Object v = parse(text);
    if (!(v instanceof Map)) throw new IllegalArgumentException("expected a JSON object from the API");
    return (Map<String, Object>) v;
  }

  private Object value() {
    if (i >= s.length()) throw error("unexpected end");
    char c = s.charAt(i);
    switch (c) {
      case '{': return obj();
      case '[': return arr();
      case '"': return str();
      case 't': return lit("true", Boolean.TRUE);
      case 'f': return lit("false", Boolean.FALSE);
      case 'n': return lit("null", null);
      default: return num();
    }
  }

  private Map<String, Object> obj() {
    Map<String, Object> m = new LinkedHashMap<>();
    i++;
    ws();
    if (peek('}')) return m;
    while (true) {
      ws();
      String k = str();
      ws();
      expect(':');
      ws();
      m.put(k, value());
      ws();
      if (peek('}')) return m;
      expect(',');
    }
  }

  private List<Object> arr() {
    List<Object> l = new ArrayList<>();
    i++;
    ws();
    if (peek(']')) return l;
    while (true) {
      ws();
      l.add(value());
      ws();
      if (peek(']')) return l;
      expect(',');
    }
  }

  private String str() {
    expect('"');
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (i >= s.length()) throw error("unterminated string");
      char c = s.charAt(i++);
      if (c == '"') return sb.toString();
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = s.charAt(i++);
      switch (e) {
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'u' -> {
          sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          i += 4;
        }
        default -> sb.append(e);
      }
    }
  }

  private Object num() {
    int start = i;
    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
    String t = s.substring(start, i);
    if (t.isEmpty()) throw error("unexpected character '" + s.charAt(start) + "'");
    try {
      return t.contains(".") || t.contains("e") || t.contains("E") ? (Object) Double.parseDouble(t) : (Object) Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw error("bad number " + t);
    }
  }

  private Object lit(String word, Object v) {
    if (!s.startsWith(word, i)) throw error("unexpected literal");
    i += word.length();
    return v;
  }

  private boolean peek(char c) {
    if (i < s.length() && s.charAt(i) == c) {
      i++;
      return true;
    }
    return false;
  }

  private void expect(char c) {
    if (!peek(c)) throw error("expected '" + c + "'");
  }

  private void ws() {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("unreadable JSON from the API: " + what + " at " + i);
  }

  // --- writing -----------------------------------------------------------------------------------

  static String write(Object v) {
    StringBuilder sb = new StringBuilder();
    write(sb, v, -1, 0);
    return sb.toString();
  }

  /** Indented, for people reading {@code --output json} of a composed answer. */
  static String pretty(Object v) {
    StringBuilder sb = new StringBuilder();
    write(sb, v, 2, 0);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v, int indent, int depth) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String str) {
      quote(sb, str);
    } else if (v instanceof Number || v instanceof Boolean) {
      sb.append(v);
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) sb.append(',');
        first = false;
        newline(sb, indent, depth + 1);
        quote(sb, String.valueOf(e.getKey()));
        sb.append(indent < 0 ? ":" : ": ");
        write(sb, e.getValue(), indent, depth + 1);
      }
      if (!m.isEmpty()) newline(sb, indent, depth);
      sb.append('}');
    } else if (v instanceof List<?> l) {
      sb.append('[');
      for (int k = 0; k < l.size(); k++) {
        if (k > 0) sb.append(',');
        newline(sb, indent, depth + 1);
        write(sb, l.get(k), indent, depth + 1);
      }
      if (!l.isEmpty()) newline(sb, indent, depth);
      sb.append(']');
    } else {
      quote(sb, v.toString());
    }
  }

  private static void newline(StringBuilder sb, int indent, int depth) {
    if (indent < 0) return;
    sb.append('\n');
    for (int k = 0; k < indent * depth; k++) sb.append(' ');
  }

  private static void quote(StringBuilder sb, String str) {
    sb.append('"');
    for (int k = 0; k < str.length(); k++) {
      char c = str.charAt(k);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    sb.append('"');
  }
}
