package io.berth.protocol.host;

import java.time.Instant;

/** A drain under way: how, how many at a time, since when. */
public record DrainPlan(DrainMode mode, int parallel, Instant since) {
  public static final int MAX_PARALLEL = 64;

  public DrainPlan {
    if (parallel < 1 || parallel > MAX_PARALLEL) {
      throw new io.berth.protocol.InvalidFieldException("parallel", "must be between 1 and " + MAX_PARALLEL, parallel);
    }
  }
}
