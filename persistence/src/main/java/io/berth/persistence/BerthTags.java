package io.berth.persistence;

import java.util.Set;

/**
 * The tags every Berth entity gives its events ({@code EventSourcedBehavior.tagsFor}). The cluster timeline of the
 * audit service is the events-by-tag stream of {@link #TIMELINE}: one tag across containers and hosts, so a single
 * ordered stream (by the time-based offset) holds everything that happened.
 */
public final class BerthTags {
  public static final String TIMELINE = "berth";

  private BerthTags() {}

  /** The tags of one event; the same for every event today, a function so it can grow without touching entities. */
  public static Set<String> tagsFor(Object event) {
    return Set.of(TIMELINE);
  }
}
