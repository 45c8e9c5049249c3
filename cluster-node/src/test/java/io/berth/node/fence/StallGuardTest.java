package io.berth.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class StallGuardTest {
  private static final long MS = 1_000_000L;
  private final StallGuard guard = new StallGuard(Duration.ofMillis(2500), Duration.ofMillis(5000));

  @Test
  void regularTicksAreTrusted() {
    assertTrue(guard.trusted(0), "before the first tick (a node starting)");
    for (long t = 0; t <= 10_000; t += 500) assertEquals(Duration.ZERO, guard.tick(t * MS));
    assertTrue(guard.trusted(10_400 * MS));
    assertTrue(guard.trusted(12_500 * MS), "a gap of exactly the bound is no stall");
  }

  @Test
  void aStallIsDistrustedBeforeItsNextTickAndForTheSettleTimeAfter() {
    guard.tick(0);
    assertFalse(guard.trusted(2_501 * MS), "the ticks stopped: another thread that runs first must not act");
    assertTrue(guard.why(9_000 * MS).contains("9000 ms so far"), guard.why(9_000 * MS));
    assertEquals(Duration.ofMillis(9_000), guard.tick(9_000 * MS));
    assertFalse(guard.trusted(9_001 * MS), "just after the stall ended");
    assertTrue(guard.why(10_000 * MS).contains("acts again in 4000 ms"), guard.why(10_000 * MS));
    for (long t = 9_500; t < 14_000; t += 500) {
      guard.tick(t * MS);
      assertFalse(guard.trusted(t * MS), "still settling at " + t);
    }
    guard.tick(14_000 * MS);
    assertTrue(guard.trusted(14_000 * MS), "settled");
  }

  @Test
  void badBoundsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new StallGuard(Duration.ZERO, Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> new StallGuard(Duration.ofSeconds(1), Duration.ofSeconds(-1)));
  }
}
