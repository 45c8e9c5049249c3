package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import java.util.Locale;

/**
 * Where a container's disk image lives, which decides what survives its host's death.
 *
 * <ul>
 *   <li>{@link #LOCAL}: the host's own data root. Fast and simple; when the host dies the container is marked
 *       {@code lost} and waits for the operator ({@code berth ct recover}), never recreated silently.
 *   <li>{@link #SHARED}: a directory every host mounts (NFS or CephFS in production). When the host dies, the
 *       container is restarted elsewhere from the same image, per its restart policy, once the host is fenced.
 * </ul>
 */
public enum Storage {
  LOCAL,
  SHARED;

  public static final String RULE = "must be one of local, shared";

  /** The CLI and API spelling: {@code local}, {@code shared}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Storage parse(String field, String text) {
    if (text != null) {
      for (Storage s : values()) {
        if (s.wireName().equals(text.trim().toLowerCase(Locale.ROOT))) return s;
      }
    }
    throw new InvalidFieldException(field, RULE, text);
  }
}
