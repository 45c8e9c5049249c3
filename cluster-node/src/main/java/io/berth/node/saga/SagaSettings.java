package io.berth.node.saga;

import io.berth.protocol.InvalidFieldException;
import java.time.Duration;

/**
 * How the coordinator of a saga waits for the other side ({@code berth.sagas} in the node's settings).
 *
 * <p>A step not answered within {@code stepTimeout} is asked again, after a pause that grows with each ask; a
 * timeout is a question to ask again, never the decision to compensate. After {@code patience} without an
 * answer that completes the saga, the coordinator stops driving it forward and settles it: it asks the other
 * side to commit to what it holds (and never to act on the step later), then confirms or releases from that
 * answer. A settle is asked until it is answered.
 *
 * @param stepTimeout how long one ask waits for its answer
 * @param patience    how long a saga is driven forward before it is settled
 */
public record SagaSettings(Duration stepTimeout, Duration patience) {
  public static final SagaSettings DEFAULT = new SagaSettings(Duration.ofSeconds(10), Duration.ofSeconds(30));
  /** The longest pause between two asks of one step. */
  static final Duration MAX_PAUSE = Duration.ofSeconds(5);

  public SagaSettings {
    if (stepTimeout.isNegative() || stepTimeout.isZero() || stepTimeout.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new InvalidFieldException("berth.sagas.step-timeout", "must be more than 0 and at most 10 minutes", stepTimeout);
    }
    if (patience.compareTo(stepTimeout) < 0 || patience.compareTo(Duration.ofHours(1)) > 0) {
      throw new InvalidFieldException("berth.sagas.patience", "must be at least the step timeout and at most 1 hour", patience);
    }
  }

  /** The pause after {@code asks} unanswered asks of one step: 250 ms, 500 ms, 1 s ... at most 5 s. */
  public Duration pauseAfter(int asks) {
    long millis = 250L << Math.min(10, Math.max(0, asks - 1));
    return Duration.ofMillis(Math.min(MAX_PAUSE.toMillis(), millis));
  }

  /**
   * How long a caller waits for a saga's answer: its patience, a last forward ask and a settle, and a margin.
   * A caller whose wait ends is told the saga goes on; the saga's own log finishes it.
   */
  public Duration callerWait() {
    return patience.plus(stepTimeout.multipliedBy(2)).plusSeconds(5);
  }
}
