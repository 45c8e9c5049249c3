package io.berth.protocol.ids;

import io.berth.protocol.InvalidFieldException;
import java.util.regex.Pattern;

/**
 * The RFC 1123 label rule shared by container and host ids: they become hostnames, cgroup and
 * directory names, veth names and persistence ids, so one conservative rule keeps all of them safe.
 */
public final class DnsLabel {
  public static final String RULE =
      "must be 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit";
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private DnsLabel() {}

  public static String check(String field, String value) {
    if (value == null || !LABEL.matcher(value).matches()) {
      throw new InvalidFieldException(field, RULE, value);
    }
    return value;
  }

  public static boolean isValid(String value) {
    return value != null && LABEL.matcher(value).matches();
  }
}
