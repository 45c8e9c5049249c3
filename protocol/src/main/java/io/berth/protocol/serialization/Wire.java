package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The guarded primitives every Berth codec is built from. Kryo's own {@code Input.readString} and
 * {@code readBytes(n)} allocate what a length prefix says before looking at the input, so a corrupt
 * length is an OutOfMemoryError; here every length and count is checked against the bytes actually
 * left and against a sane maximum <em>before</em> anything is allocated.
 *
 * <p>Encodings (frozen: stored events use them):
 * <ul>
 *   <li>string: varint (UTF-8 length + 1), then the UTF-8 bytes; 0 means null
 *   <li>count (lists, maps): varint (count + 1); 0 means null
 *   <li>long: Kryo's varlong, positive-optimised; int: varint, positive-optimised
 *   <li>instant at millisecond precision: varlong of the epoch millis (zig-zag, so pre-1970 stays small)
 * </ul>
 * Inputs are always byte-array backed (never a stream), so {@code limit - position} is what is left.
 */
public final class Wire {
  /** The longest string any Berth message holds (a command line is at most 64 KiB). */
  public static final int MAX_STRING_BYTES = 1 << 20;
  /** The most elements in any list or map. */
  public static final int MAX_COUNT = 1 << 16;

  private Wire() {}

  public static int remaining(Input in) {
    return in.limit() - in.position();
  }

  // --- strings ---------------------------------------------------------------------------------

  @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): the no-copy path for ASCII
  public static void writeString(Output out, String s) {
    if (s == null) {
      out.writeVarInt(0, true);
      return;
    }
    int n = s.length();
    if (isAscii(s)) {
      out.writeVarInt(n + 1, true);
      byte[] buffer = out.getBuffer();
      int pos = out.position();
      if (buffer.length - pos >= n) {
        // The common case (ids, hashes, names): copy the chars straight into Kryo's buffer.
        s.getBytes(0, n, buffer, pos);
        out.setPosition(pos + n);
      } else {
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
      }
      return;
    }
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    out.writeVarInt(utf8.length + 1, true);
    out.writeBytes(utf8);
  }

  private static boolean isAscii(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      if (s.charAt(i) >= 0x80) return false;
    }
    return true;
  }

  /** A string or null. */
  public static String readString(Input in, String field) {
    return readString(in, field, MAX_STRING_BYTES);
  }

  /** A string or null, at most {@code maxBytes} of UTF-8. */
  public static String readString(Input in, String field, int maxBytes) {
    int n = readLength(in, field, maxBytes);
    if (n < 0) return null;
    int pos = in.position();
    String s = new String(in.getBuffer(), pos, n, StandardCharsets.UTF_8);
    in.setPosition(pos + n);
    return s;
  }

  /** A string that must be there (stored events never hold a null where the type needs a value). */
  public static String readRequiredString(Input in, String field) {
    String s = readString(in, field);
    if (s == null) throw new WireFormatException(field, "must be given, found null");
    return s;
  }

  /**
   * A byte length written as varint (n + 1); -1 for null. Checked against what is left, so a
   * corrupt length can never make us allocate.
   */
  public static int readLength(Input in, String field, int max) {
    int raw = readVarInt(in, field);
    if (raw == 0) return -1;
    int n = raw - 1;
    if (raw < 0 || n > max) throw new WireFormatException(field, "length " + Integer.toUnsignedString(n) + " exceeds the maximum " + max);
    if (n > remaining(in)) throw new WireFormatException(field, "length " + n + " exceeds the " + remaining(in) + " bytes left (truncated or corrupt)");
    return n;
  }

  // --- counts ----------------------------------------------------------------------------------

  public static void writeCount(Output out, int count) {
    out.writeVarInt(count + 1, true);
  }

  /**
   * A list or map size written by {@link #writeCount}; -1 for null. Every element takes at least
   * {@code minBytesEach} bytes, so a count larger than what is left is corruption, found before any
   * collection is allocated.
   */
  public static int readCount(Input in, String field, int max, int minBytesEach) {
    int raw = readVarInt(in, field);
    if (raw == 0) return -1;
    int n = raw - 1;
    if (raw < 0 || n > max) throw new WireFormatException(field, "count " + Integer.toUnsignedString(n) + " exceeds the maximum " + max);
    if ((long) n * minBytesEach > remaining(in)) {
      throw new WireFormatException(field, "count " + n + " cannot fit in the " + remaining(in) + " bytes left (truncated or corrupt)");
    }
    return n;
  }

  public static int readRequiredCount(Input in, String field, int max, int minBytesEach) {
    int n = readCount(in, field, max, minBytesEach);
    if (n < 0) throw new WireFormatException(field, "must be given, found null");
    return n;
  }

  // --- numbers ---------------------------------------------------------------------------------

  public static void writeLong(Output out, long v) {
    out.writeVarLong(v, true);
  }

  public static long readLong(Input in, String field) {
    need(in, field, 1);
    try {
      return in.readVarLong(true);
    } catch (KryoException e) {
      throw truncated(field, e);
    }
  }

  /** A zig-zag varlong: small negative numbers stay small (transient messages). */
  public static long readSignedLong(Input in, String field) {
    need(in, field, 1);
    try {
      return in.readVarLong(false);
    } catch (KryoException e) {
      throw truncated(field, e);
    }
  }

  public static int readSignedInt(Input in, String field) {
    need(in, field, 1);
    try {
      return in.readVarInt(false);
    } catch (KryoException e) {
      throw truncated(field, e);
    }
  }

  public static void writeInt(Output out, int v) {
    out.writeVarInt(v, true);
  }

  public static int readInt(Input in, String field) {
    return readVarInt(in, field);
  }

  public static void writeBoolean(Output out, boolean v) {
    out.writeBoolean(v);
  }

  public static boolean readBoolean(Input in, String field) {
    need(in, field, 1);
    byte b = in.readByte();
    if (b != 0 && b != 1) throw new WireFormatException(field, "a boolean must be 0 or 1, found " + b);
    return b == 1;
  }

  /** A presence flag: 0 absent, 1 present; anything else is corruption. */
  public static boolean readPresent(Input in, String field) {
    return readBoolean(in, field);
  }

  private static int readVarInt(Input in, String field) {
    need(in, field, 1);
    try {
      return in.readVarInt(true);
    } catch (KryoException e) {
      throw truncated(field, e);
    }
  }

  private static WireFormatException truncated(String field, KryoException e) {
    return new WireFormatException(field, "a number runs past the end of the input (truncated)", e);
  }

  public static byte readByte(Input in, String field) {
    need(in, field, 1);
    return in.readByte();
  }

  public static void need(Input in, String field, int bytes) {
    if (remaining(in) < bytes) throw new WireFormatException(field, "needs " + bytes + " more bytes, " + remaining(in) + " left (truncated)");
  }

  // --- time ------------------------------------------------------------------------------------

  public static void writeInstantMillis(Output out, Instant at) {
    out.writeVarLong(at.toEpochMilli(), false);
  }

  public static Instant readInstantMillis(Input in, String field) {
    need(in, field, 1);
    long millis;
    try {
      millis = in.readVarLong(false);
    } catch (KryoException e) {
      throw truncated(field, e);
    }
    try {
      return Instant.ofEpochMilli(millis);
    } catch (RuntimeException e) {
      throw new WireFormatException(field, "epoch millis " + millis + " is not a valid instant", e);
    }
  }

  // --- enums -----------------------------------------------------------------------------------

  /** Stored enums go by name, so reordering or adding constants never changes what old bytes mean. */
  public static void writeEnumName(Output out, Enum<?> e) {
    writeString(out, e.name());
  }

  public static <E extends Enum<E>> E readEnumName(Input in, String field, Class<E> type) {
    String name = readRequiredString(in, field);
    try {
      return Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      throw new WireFormatException(field, "unknown " + type.getSimpleName() + " '" + shorten(name) + "'");
    }
  }

  // --- maps ------------------------------------------------------------------------------------

  /** A string map, sorted by key whatever its implementation, so the same map is the same bytes. */
  public static void writeStringMap(Output out, Map<String, String> map) {
    if (map == null) {
      writeCount(out, -1);
      return;
    }
    SortedMap<String, String> sorted =
        map instanceof SortedMap<String, String> s && s.comparator() == null ? s : new TreeMap<>(map);
    writeCount(out, sorted.size());
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      writeString(out, e.getKey());
      writeString(out, e.getValue());
    }
  }

  /** A string map or null; each entry takes at least two bytes (two string headers). */
  public static Map<String, String> readStringMap(Input in, String field, int max) {
    int n = readCount(in, field, max, 2);
    if (n < 0) return null;
    TreeMap<String, String> map = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      String k = readString(in, field);
      String v = readString(in, field);
      if (k == null) throw new WireFormatException(field, "a key must be given, found null");
      if (map.put(k, v) != null) throw new WireFormatException(field, "key '" + shorten(k) + "' appears twice");
    }
    return Collections.unmodifiableSortedMap(map);
  }

  static String shorten(String s) {
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }

  // --- hashes ----------------------------------------------------------------------------------

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /**
   * A lowercase hex SHA-256 (or empty) as 32 raw bytes after a flag byte: half the size of the text.
   * Anything else (not expected: the value types validate it) is written as a string behind flag 2.
   */
  public static void writeHash(Output out, String hex) {
    if (hex == null) {
      out.writeByte(3);
    } else if (hex.isEmpty()) {
      out.writeByte(0);
    } else if (hex.length() == 64 && isLowerHex(hex)) {
      out.writeByte(1);
      for (int i = 0; i < 64; i += 2) out.writeByte((nibble(hex.charAt(i)) << 4) | nibble(hex.charAt(i + 1)));
    } else {
      out.writeByte(2);
      writeString(out, hex);
    }
  }

  public static String readHash(Input in, String field) {
    byte flag = readByte(in, field);
    switch (flag) {
      case 0:
        return "";
      case 1: {
        need(in, field, 32);
        char[] c = new char[64];
        for (int i = 0; i < 32; i++) {
          int b = in.readByte() & 0xff;
          c[2 * i] = HEX[b >>> 4];
          c[2 * i + 1] = HEX[b & 0xf];
        }
        return new String(c);
      }
      case 2:
        return readRequiredString(in, field);
      case 3:
        return null;
      default:
        throw new WireFormatException(field, "unknown hash form " + flag);
    }
  }

  /** The value of a lowercase hex digit (checked by {@link #isLowerHex} first). */
  private static int nibble(char c) {
    return c <= '9' ? c - '0' : c - 'a' + 10;
  }

  private static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
  }
}
