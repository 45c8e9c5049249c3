package io.berth.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Times and durations as people type them on a command line. */
final class Times {
  private static final Pattern AGO = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
  static final String TIME_RULE = "must be an ISO-8601 time (2025-01-31T12:00:00Z, 2025-01-31T12:00, 2025-01-31) or an age such as 10m, 2h, 1d";

  private Times() {}

  /** An instant: ISO with zone, local date-time or date (this machine's zone), or an age ({@code 10m} = ten minutes ago). */
  static Instant instant(String option, String text, Instant now) {
    String t = text.trim();
    Matcher m = AGO.matcher(t);
    if (m.matches()) return now.minus(duration(m));
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException ignored) {
      // try the local forms
    }
    try {
      return LocalDateTime.parse(t).atZone(ZoneId.systemDefault()).toInstant();
    } catch (DateTimeParseException ignored) {
      // try a date
    }
    try {
      return LocalDate.parse(t).atStartOfDay(ZoneId.systemDefault()).toInstant();
    } catch (DateTimeParseException e) {
      throw CliFailure.usage(option + ": " + TIME_RULE + " (got \"" + text + "\")");
    }
  }

  /** {@code 10} (seconds), {@code 10s}, {@code 500ms}, {@code 2m}. */
  static Duration duration(String option, String text) {
    String t = text.trim();
    if (t.matches("\\d{1,9}")) return Duration.ofSeconds(Long.parseLong(t));
    Matcher m = AGO.matcher(t);
    if (!m.matches()) throw CliFailure.usage(option + ": must be a duration such as 10 (seconds), 10s, 500ms or 2m (got \"" + text + "\")");
    return duration(m);
  }

  private static Duration duration(Matcher m) {
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /** {@code 2025-01-31T12:00:00.123Z} as {@code 2025-01-31 12:00:00} in this machine's zone, for tables. */
  static String show(Object iso) {
    if (iso == null) return null;
    try {
      LocalDateTime t = LocalDateTime.ofInstant(Instant.parse(iso.toString()), ZoneId.systemDefault());
      return t.toLocalDate() + " " + t.toLocalTime().withNano(0);
    } catch (DateTimeParseException e) {
      return iso.toString();
    }
  }
}
