package io.berth.protocol.host;

import io.berth.protocol.InvalidFieldException;

/**
 * How far a host lets the caps of its containers exceed what it has: placement fits the sum of the cpu caps
 * within {@code cpu} times its cores and the sum of the memory limits within {@code memory} times its memory.
 * Guarantees are never overcommitted. Kept in hundredths, so what is stored and shown is exact.
 *
 * @param cpuHundredths    cpu ratio ×100 (25600 = 256: caps may add up to 256 times the cores)
 * @param memoryHundredths memory ratio ×100 (400 = 4)
 */
public record Overcommit(long cpuHundredths, long memoryHundredths) {
  public static final long MIN = 10; // 0.1: a host may also keep part of itself out of reach
  public static final long MAX = 100_000; // 1000
  /** Caps as reservations, as before overcommit existed (what hosts registered before then are read as). */
  public static final Overcommit NONE = new Overcommit(100, 100);
  /**
   * The defaults, chosen so that a 2-core 24G host takes hundreds of containers created without limits (one core
   * and 256M each: 512 by cpu caps, 384 by memory limits) while the guarantees keep what is promised; see
   * cluster-node/PLACEMENT.md for the trade-off.
   */
  public static final Overcommit DEFAULT = new Overcommit(25_600, 400);

  public Overcommit {
    check("overcommit.cpu", cpuHundredths);
    check("overcommit.memory", memoryHundredths);
  }

  private static void check(String field, long hundredths) {
    if (hundredths < MIN || hundredths > MAX) throw new InvalidFieldException(field, "must be between 0.1 and 1000", format(hundredths));
  }

  /** A ratio as written in settings ({@code 4}, {@code 1.5}, {@code 256}); at most two decimals. */
  public static long parse(String field, String text) {
    try {
      var d = new java.math.BigDecimal(text.trim());
      if (d.scale() > 2) throw new InvalidFieldException(field, "must have at most 2 decimals", text);
      return d.movePointRight(2).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new InvalidFieldException(field, "must be a ratio such as 4 or 1.5", text);
    }
  }

  public static String format(long hundredths) {
    return java.math.BigDecimal.valueOf(hundredths).movePointLeft(2).stripTrailingZeros().toPlainString();
  }

  /** {@code amount} times the cpu ratio, rounded down. */
  public long cpu(long amount) {
    return times(amount, cpuHundredths);
  }

  /** {@code amount} times the memory ratio, rounded down. */
  public long memory(long amount) {
    return times(amount, memoryHundredths);
  }

  /** Saturating: a capacity times a ratio beyond a long is as good as unlimited. */
  private static long times(long amount, long hundredths) {
    try {
      return Math.multiplyExact(amount, hundredths) / 100;
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  @Override
  public String toString() {
    return "cpu " + format(cpuHundredths) + "x, memory " + format(memoryHundredths) + "x";
  }
}
