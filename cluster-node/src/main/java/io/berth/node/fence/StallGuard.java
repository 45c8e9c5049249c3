package io.berth.node.fence;

import java.time.Duration;

/**
 * Tells whether this node's view of the cluster can be trusted after a stall of its JVM (a SIGSTOP, a long GC pause,
 * the host starved of CPU). While the JVM stood still the survivors may have declared this member dead, downed it
 * and taken over its entities; when it runs again its own view is the one from before the stall, and for a moment
 * it cannot tell. Acting then on what it believes (restarting a container its watchdog killed, persisting an exit)
 * would run a second copy beside the one restarted elsewhere and write a second history into the log.
 *
 * <p>So: once the fence's ticks stop for longer than {@code stall} (the survivors' earliest move is later than
 * that, see berth.fencing.ha-deadline), nothing is trusted, at once, even before the next tick comes; and after
 * that tick, for {@code settle} more, long enough for the gossip that this member was downed to arrive (or for its
 * own split brain resolver to down it). Pure: time is passed in, in nanoseconds of a monotonic clock.
 */
public final class StallGuard {
  private final long stallNanos;
  private final long settleNanos;
  private long lastTick;
  private boolean started;
  private long settledAt;
  private long lastStall;

  public StallGuard(Duration stall, Duration settle) {
    if (stall.isNegative() || stall.isZero()) throw new IllegalArgumentException("stall: must be positive, got " + stall);
    if (settle.isNegative()) throw new IllegalArgumentException("settle: must not be negative, got " + settle);
    this.stallNanos = stall.toNanos();
    this.settleNanos = settle.toNanos();
  }

  /**
   * A tick of the fence at {@code now}. Returns how long the JVM stood still when this tick ends a stall (the time
   * since the previous tick), or zero.
   */
  public Duration tick(long now) {
    long gap = started ? now - lastTick : 0;
    started = true;
    lastTick = now;
    if (gap <= stallNanos) return Duration.ZERO;
    settledAt = now + settleNanos;
    lastStall = gap;
    return Duration.ofNanos(gap);
  }

  /** Whether the node may act at {@code now}: no stall under way, and none ended less than {@code settle} ago. */
  public boolean trusted(long now) {
    if (!started) return true;
    return now - lastTick <= stallNanos && now - settledAt >= 0;
  }

  /** Why it is not trusted at {@code now} (for the errors that refuse work meanwhile). */
  public String why(long now) {
    if (now - lastTick > stallNanos) return "this node's JVM stood still for " + Duration.ofNanos(now - lastTick).toMillis() + " ms so far";
    return "this node's JVM stood still for " + Duration.ofNanos(lastStall).toMillis() + " ms; it acts again in "
        + Math.max(0, Duration.ofNanos(settledAt - now).toMillis()) + " ms, unless it hears meanwhile that it was downed";
  }
}
