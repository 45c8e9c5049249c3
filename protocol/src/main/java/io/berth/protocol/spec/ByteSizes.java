package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place where human sizes are parsed and printed. Suffixes are binary, as vzctl, incus and
 * the kernel's own cgroup files use them: {@code 512M} is 512 MiB. {@code K M G T}, optionally
 * followed by {@code i} and/or {@code B}, any case; a bare number is bytes.
 */
public final class ByteSizes {
  public static final String RULE = "must be a whole number of bytes, optionally with K, M, G or T (binary units)";
  private static final Pattern SIZE = Pattern.compile("(\\d{1,19})\\s*(?:([kmgt])i?b?|b)?");

  private ByteSizes() {}

  public static long parse(String field, String text) {
    if (text == null) throw new InvalidFieldException(field, RULE, null);
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) throw new InvalidFieldException(field, RULE, text);
    String unit = m.group(2) == null ? "" : m.group(2);
    int shift = switch (unit) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      case "t" -> 40;
      default -> 0;
    };
    long number;
    try {
      number = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new InvalidFieldException(field, "is too large", text);
    }
    if (shift > 0 && number > (Long.MAX_VALUE >> shift)) throw new InvalidFieldException(field, "is too large", text);
    return number << shift;
  }

  /** The shortest exact binary form: 536870912 becomes {@code 512M}, 1000 stays {@code 1000}. */
  public static String format(long bytes) {
    String[] units = {"", "K", "M", "G", "T"};
    int unit = 0;
    long value = bytes;
    while (unit < units.length - 1 && value != 0 && value % 1024 == 0) {
      value /= 1024;
      unit++;
    }
    return value + units[unit];
  }
}
