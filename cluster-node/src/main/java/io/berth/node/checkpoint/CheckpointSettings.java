package io.berth.node.checkpoint;

import io.berth.protocol.InvalidFieldException;
import java.time.Duration;

/**
 * The host's checkpoint scheduler (reference.conf, {@code berth.checkpoints}).
 *
 * @param tick     how often it looks for checkpoints that are due: a checkpoint is at most this late
 * @param parallel how many it takes at once on this host (each freezes its container and writes its memory)
 */
public record CheckpointSettings(Duration tick, int parallel) {
  public CheckpointSettings {
    if (tick.compareTo(Duration.ofMillis(100)) < 0 || tick.compareTo(Duration.ofSeconds(10)) > 0) {
      throw new InvalidFieldException("berth.checkpoints.tick", "must be from 100ms to 10s", tick);
    }
    if (parallel < 1 || parallel > 64) throw new InvalidFieldException("berth.checkpoints.parallel", "must be from 1 to 64", parallel);
  }
}
