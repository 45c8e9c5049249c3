package io.berth.node.saga;

import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * What one answer to a saga step, or its absence, means to the coordinator. The rule it encodes: only an answer
 * decides. A timeout, or an entity that is busy or not on its host yet, decides nothing: the step is asked again.
 */
public sealed interface StepAnswer {

  /** The entity answered with its state: decide from what it holds. */
  record Holds(ContainerState state) implements StepAnswer {}

  /**
   * The entity refused the step. A refused command persists nothing, so the refusal of the only copy of a step
   * ever sent is final; {@link #recorded} (the step was tried and failed, which is in the entity's log) or any
   * earlier copy still in flight means: settle, to learn what it holds.
   */
  record Refused(Rejection rejection) implements StepAnswer {
    public boolean recorded() {
      return rejection.code() == Code.FAILED;
    }
  }

  /** Nothing was decided (no answer in time, busy, not on its host yet): ask again after a pause. */
  record NoAnswer(String why) implements StepAnswer {}

  static StepAnswer of(ContainerReply reply, Throwable error) {
    if (error != null) return new NoAnswer(describe(error));
    if (reply instanceof ContainerReply.Done d) return new Holds(d.state());
    if (reply instanceof ContainerReply.Refused r) {
      Code code = r.rejection().code();
      return code == Code.BUSY || code == Code.UNAVAILABLE ? new NoAnswer(r.rejection().message()) : new Refused(r.rejection());
    }
    return new NoAnswer("unexpected answer " + reply.getClass().getSimpleName());
  }

  /** One line for an ask's failure. */
  static String describe(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) t = t.getCause();
    if (t instanceof TimeoutException) return "no answer in time";
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
