package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place where human durations (a checkpoint schedule) are parsed and printed: a whole number with one unit,
 * {@code s}, {@code m}, {@code h} or {@code d} ({@code 30s}, {@code 5m}); {@code off} or {@code 0} is
 * {@link Duration#ZERO}. One unit only, as {@code sleep(1)} and systemd timers read them, so the form a person
 * writes is the form shown back.
 */
public final class Durations {
  public static final String RULE = "must be off, or a whole number with s, m, h or d (30s, 5m)";
  private static final Pattern FORM = Pattern.compile("(\\d{1,9})\\s*([smhd])");

  private Durations() {}

  public static Duration parse(String field, String text) {
    if (text == null) throw new InvalidFieldException(field, RULE, null);
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("off") || t.equals("0")) return Duration.ZERO;
    Matcher m = FORM.matcher(t);
    if (!m.matches()) throw new InvalidFieldException(field, RULE, text);
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /** The shortest exact form: 30 s is {@code 30s}, 300 s {@code 5m}, zero {@code off}; below a second, {@code 250ms}. */
  public static String format(Duration d) {
    if (d.isZero()) return "off";
    if (d.isNegative() || d.getNano() % 1_000_000 != 0) return d.toString();
    long ms = d.toMillis();
    if (ms % 1000 != 0) return ms + "ms";
    long s = ms / 1000;
    if (s % 86_400 == 0) return s / 86_400 + "d";
    if (s % 3600 == 0) return s / 3600 + "h";
    if (s % 60 == 0) return s / 60 + "m";
    return s + "s";
  }
}
