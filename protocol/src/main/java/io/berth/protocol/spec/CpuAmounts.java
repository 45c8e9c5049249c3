package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import java.math.BigDecimal;
import java.math.RoundingMode;

/** CPU amounts: people write cores ({@code 0.5}, {@code 2}) or millicores ({@code 500m}); Berth stores millicores. */
public final class CpuAmounts {
  public static final String RULE = "must be a number of cores such as 0.5 or 2, or millicores such as 500m";

  private CpuAmounts() {}

  public static long parseMillis(String field, String text) {
    if (text == null || text.isBlank()) throw new InvalidFieldException(field, RULE, text);
    String t = text.trim();
    try {
      if (t.endsWith("m")) {
        return Long.parseLong(t.substring(0, t.length() - 1));
      }
      BigDecimal cores = new BigDecimal(t);
      if (cores.scale() > 3) throw new InvalidFieldException(field, "must have at most 3 decimals (1 millicore)", text);
      return cores.movePointRight(3).setScale(0, RoundingMode.UNNECESSARY).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new InvalidFieldException(field, RULE, text);
    }
  }

  /** {@code 500} becomes {@code 0.5}, {@code 2000} becomes {@code 2}. */
  public static String format(long millis) {
    return BigDecimal.valueOf(millis).movePointLeft(3).stripTrailingZeros().toPlainString();
  }
}
