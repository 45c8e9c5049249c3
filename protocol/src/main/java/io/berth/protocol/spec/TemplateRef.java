package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import java.util.regex.Pattern;

/**
 * A template named by the operator ({@code busybox}) or pinned by content digest
 * ({@code sha256:<64 hex>}). Names never contain '/' or start with '.', so a template reference can
 * never escape the template store's directory.
 */
public record TemplateRef(String value) {
  public static final String RULE =
      "must be a name of 1-64 characters of a-z, 0-9, '.', '_' and '-' starting with a letter or digit, or sha256:<64 hex digits>";
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

  public TemplateRef {
    if (value == null || !(NAME.matcher(value).matches() || DIGEST.matcher(value).matches())) {
      throw new InvalidFieldException("template", RULE, value);
    }
  }

  public static TemplateRef of(String value) {
    return new TemplateRef(value);
  }

  public boolean isDigest() {
    return value.startsWith("sha256:");
  }

  @Override
  public String toString() {
    return value;
  }
}
