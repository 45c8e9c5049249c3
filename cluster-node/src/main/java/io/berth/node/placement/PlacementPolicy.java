package io.berth.node.placement;

import io.berth.protocol.InvalidFieldException;
import java.util.Locale;

/**
 * How placement chooses among the hosts that fit (after anti-affinity). Both are deterministic: ties
 * go to the smallest host id.
 */
public enum PlacementPolicy {
  /**
   * The default: the host whose fuller resource is least full after placing, i.e. the smallest
   * {@code max(cpu allocated / cpu capacity, memory allocated / memory capacity)} counting the new
   * container. Keeps headroom on every host so a later large container still fits somewhere.
   */
  LEAST_ALLOCATED("least-allocated"),
  /** The host with the fewest containers; ties by the least-allocated score, then host id. */
  SPREAD("spread");

  public static final String RULE = "must be least-allocated or spread";

  private final String word;

  PlacementPolicy(String word) {
    this.word = word;
  }

  /** The word used in configuration: {@code least-allocated} or {@code spread}. */
  public String word() {
    return word;
  }

  public static PlacementPolicy parse(String field, String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    for (PlacementPolicy p : values()) {
      if (p.word.equals(t)) return p;
    }
    throw new InvalidFieldException(field, RULE, text);
  }
}
