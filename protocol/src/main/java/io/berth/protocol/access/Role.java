package io.berth.protocol.access;

import io.berth.protocol.InvalidFieldException;
import java.util.Locale;

/**
 * What a token may do, each role everything the one before it may: {@code viewer} reads (containers, hosts, templates,
 * events, audit), {@code operator} also acts on containers, {@code admin} also on hosts, templates and tokens.
 */
public enum Role {
  VIEWER, OPERATOR, ADMIN;

  /** Whether a token of this role may make a call that needs {@code needed}. */
  public boolean allows(Role needed) {
    return compareTo(needed) >= 0;
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Role parse(String field, String text) {
    if (text != null) {
      for (Role r : values()) if (r.wireName().equals(text)) return r;
    }
    throw new InvalidFieldException(field, "must be viewer, operator or admin", text);
  }
}
