package io.berth.node.fence;

import io.berth.protocol.InvalidFieldException;
import java.time.Duration;

/**
 * How a host fences itself and how long the survivors wait for it (reference.conf, {@code berth.fencing}).
 *
 * @param haDeadline   the watchdog's deadline while the host runs a container that fails over (shared storage): its
 *                     containers die this long after the node last fed it. The survivors restart such containers
 *                     elsewhere only after it has passed, so it must stay below detection + {@code stable-after}
 * @param localDeadline the watchdog's deadline while the host runs none: long, so a node restarted by its
 *                     supervisor within it adopts its containers; {@code ct recover} of a lost container waits for it
 * @param feedEvery    how often the node feeds the watchdog while it is healthy
 * @param margin       added by the survivors to every bound they wait for (clock steps, a feed in flight)
 */
public record FencingSettings(Duration haDeadline, Duration localDeadline, Duration feedEvery, Duration margin) {
  public FencingSettings {
    if (haDeadline.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new InvalidFieldException("berth.fencing.ha-deadline", "must be at least 1s", haDeadline);
    }
    if (localDeadline.compareTo(haDeadline) < 0) {
      throw new InvalidFieldException("berth.fencing.local-deadline", "must be at least berth.fencing.ha-deadline (" + haDeadline + ")", localDeadline);
    }
    if (localDeadline.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new InvalidFieldException("berth.fencing.local-deadline", "must be at most 10m (the watchdog's bound)", localDeadline);
    }
    if (feedEvery.isNegative() || feedEvery.isZero() || feedEvery.multipliedBy(3).compareTo(haDeadline) > 0) {
      throw new InvalidFieldException("berth.fencing.feed-every", "must be positive and at most a third of berth.fencing.ha-deadline", feedEvery);
    }
    if (margin.isNegative()) throw new InvalidFieldException("berth.fencing.margin", "must not be negative", margin);
  }

  /** When the survivors may act on a host last seen reachable at {@code lastSeenMillis}, given the deadline it was under. */
  public long safeAfterMillis(long lastSeenMillis, Duration deadline) {
    return lastSeenMillis + deadline.toMillis() + margin.toMillis();
  }
}
