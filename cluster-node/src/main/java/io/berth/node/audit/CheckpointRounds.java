package io.berth.node.audit;

import io.berth.persistence.audit.Checkpointer;
import java.time.Duration;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Runs the audit checkpointer every {@code every}, one round at a time, as a cluster singleton: one node signs at a
 * time, with its own key (the signer's name says which), so the logs are read once a round, not once per node. When the
 * singleton moves, the next node continues from the newest checkpoint whoever signed it.
 */
public final class CheckpointRounds {
  private CheckpointRounds() {}

  private enum Tick { INSTANCE }

  private record Ended(Checkpointer.Round round, Throwable error) {}

  /** The first round soon after start, so logs written before checkpoints existed (or while none ran) are signed early. */
  static final Duration FIRST_ROUND_AFTER = Duration.ofSeconds(3);

  public static Behavior<Object> create(Checkpointer checkpointer, Duration every) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startSingleTimer(Tick.INSTANCE, every.compareTo(FIRST_ROUND_AFTER) < 0 ? every : FIRST_ROUND_AFTER);
      ctx.getLog().info("audit checkpoints: signing every {} as {}", every, checkpointer.signer());
      return Behaviors.receive(Object.class)
          .onMessageEquals(Tick.INSTANCE, () -> {
            ctx.pipeToSelf(checkpointer.round(), Ended::new);
            return Behaviors.same();
          })
          .onMessage(Ended.class, ended -> {
            if (ended.error() != null) {
              ctx.getLog().warn("audit checkpoint round failed (the next one tries again in {}): {}", every, ended.error().toString());
            } else {
              for (Checkpointer.Outcome.Refused r : ended.round().refused()) {
                ctx.getLog().error("audit: not signing {}: {}", r.persistenceId(), r.why());
              }
              ctx.getLog().debug("audit checkpoint round: {} logs, {} signed, {} refused", ended.round().outcomes().size(),
                  ended.round().signed(), ended.round().refused().size());
            }
            // The next round a full period after this one ended: a slow round never overlaps the next.
            timers.startSingleTimer(Tick.INSTANCE, every);
            return Behaviors.same();
          })
          .build();
    }));
  }
}
