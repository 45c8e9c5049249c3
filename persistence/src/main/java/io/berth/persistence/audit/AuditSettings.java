package io.berth.persistence.audit;

import com.typesafe.config.Config;
import io.berth.protocol.InvalidFieldException;
import java.time.Duration;

/**
 * {@code berth.persistence.audit}: how often the node's checkpointer signs the logs' heads, and how old an event may
 * be without a signed checkpoint before {@code audit verify} reports it ({@link ChainCheck#MISSING_CHECKPOINT}).
 *
 * @param checkpointEvery 0: no checkpoints are taken (and none are missed)
 * @param maxUnsignedAge  0: not checked; otherwise above checkpointEvery, so a round has time to run
 */
public record AuditSettings(Duration checkpointEvery, Duration maxUnsignedAge) {
  public static final String PATH = "berth.persistence.audit";

  public AuditSettings {
    if (checkpointEvery.isNegative()) throw new InvalidFieldException(PATH + ".checkpoint-every", "must be 0 (off) or a positive duration", checkpointEvery);
    if (maxUnsignedAge.isNegative()) throw new InvalidFieldException(PATH + ".max-unsigned-age", "must be 0 (off) or a positive duration", maxUnsignedAge);
    if (checkpointEvery.isZero() && !maxUnsignedAge.isZero()) maxUnsignedAge = Duration.ZERO;
    if (!maxUnsignedAge.isZero() && maxUnsignedAge.compareTo(checkpointEvery.multipliedBy(2)) < 0) {
      throw new InvalidFieldException(PATH + ".max-unsigned-age", "must be 0 (off) or at least twice checkpoint-every (" + checkpointEvery + ")",
          maxUnsignedAge);
    }
  }

  public static AuditSettings fromConfig(Config root) {
    if (!root.hasPath(PATH)) return new AuditSettings(Duration.ZERO, Duration.ZERO);
    Config c = root.getConfig(PATH);
    return new AuditSettings(c.getDuration("checkpoint-every"), c.getDuration("max-unsigned-age"));
  }
}
