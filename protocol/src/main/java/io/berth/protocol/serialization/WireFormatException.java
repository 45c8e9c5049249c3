package io.berth.protocol.serialization;

/**
 * Bytes that cannot be Berth data, or a value that cannot be written: names the field and the rule it
 * broke ({@code meta.reason: length 4000000 exceeds the 12 bytes left}). Unchecked inside the codecs;
 * {@link BerthSerializer} and {@link BerthEventCodec#fromBytes} turn it into a
 * {@link java.io.NotSerializableException} naming the manifest as well.
 */
public final class WireFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String field;
  private final String rule;

  public WireFormatException(String field, String rule) {
    super(field + ": " + rule);
    this.field = field;
    this.rule = rule;
  }

  public WireFormatException(String field, String rule, Throwable cause) {
    super(field + ": " + rule, cause);
    this.field = field;
    this.rule = rule;
  }

  /**
   * The same error for a field nested under {@code prefix} ({@code memoryBytes} under {@code
   * spec.limits}). Codecs name fields relative to the value they read and prefix only on failure, so
   * the happy path builds no field-name strings.
   */
  public WireFormatException under(String prefix) {
    WireFormatException e = new WireFormatException(field.isEmpty() ? prefix : prefix + "." + field, rule, getCause());
    e.setStackTrace(getStackTrace());
    return e;
  }

  /** The rule that was broken. */
  public String rule() {
    return rule;
  }

  /** The field being read or written, e.g. {@code spec.labels}. */
  public String field() {
    return field;
  }
}
