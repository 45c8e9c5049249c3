package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import java.util.Locale;

/** What Berth does when a container's init exits without being asked to, or its host dies. */
public enum RestartPolicy {
  /** Restart whatever the exit code. */
  ALWAYS,
  /** Restart when the init exits non-zero or is killed by a signal Berth did not send. */
  ON_FAILURE,
  /** Leave it stopped. */
  NEVER;

  public static final String RULE = "must be one of always, on-failure, never";

  /** The CLI and API spelling: {@code always}, {@code on-failure}, {@code never}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static RestartPolicy parse(String field, String text) {
    if (text != null) {
      for (RestartPolicy p : values()) {
        if (p.wireName().equals(text.trim().toLowerCase(Locale.ROOT))) return p;
      }
    }
    throw new InvalidFieldException(field, RULE, text);
  }
}
