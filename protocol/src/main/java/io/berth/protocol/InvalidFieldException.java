package io.berth.protocol;

/**
 * Bad input: names the field that broke a rule and the rule itself, so every layer (API, CLI,
 * config, serialized bytes) can say the same clear sentence. Thrown at construction of value
 * types, before anything changes state.
 */
public final class InvalidFieldException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String field;
  private final String rule;
  private final String shownValue;

  public InvalidFieldException(String field, String rule, Object value) {
    this(field, rule, show(value), true);
  }

  private InvalidFieldException(String field, String rule, String shownValue, boolean unused) {
    super(field + ": " + rule + " (got " + shownValue + ")");
    this.field = field;
    this.rule = rule;
    this.shownValue = shownValue;
  }

  /** The field that broke the rule, e.g. {@code limits.memory}. */
  public String field() {
    return field;
  }

  /** The rule, as a sentence fragment, e.g. {@code must be at least 4 MiB}. */
  public String rule() {
    return rule;
  }

  /** The same error for a field nested under {@code prefix}: {@code limits} becomes {@code spec.limits}. */
  public InvalidFieldException under(String prefix) {
    return new InvalidFieldException(prefix + "." + field, rule, shownValue, true);
  }

  private static String show(Object value) {
    if (value == null) return "nothing";
    String s = String.valueOf(value);
    if (s.length() > 80) s = s.substring(0, 77) + "...";
    return value instanceof CharSequence ? "\"" + s + "\"" : s;
  }

  /** Fails with {@code field: must be given} when {@code value} is null. */
  public static <T> T required(String field, T value) {
    if (value == null) throw new InvalidFieldException(field, "must be given", null);
    return value;
  }
}
