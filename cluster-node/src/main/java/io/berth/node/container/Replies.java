package io.berth.node.container;

import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.Pending;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import java.util.Locale;

/** The refusals a container entity gives, each naming the container and what stood in the way. */
final class Replies {
  private Replies() {}

  static ContainerReply wrongPhase(ContainerState state, String operation, String needs) {
    return refused(Code.WRONG_PHASE, "phase",
        "container " + state.id() + " is " + state.phase() + "; " + operation + " needs " + needs);
  }

  static ContainerReply busy(ContainerState state, Pending pending) {
    return refused(Code.BUSY, "",
        "container " + state.id() + " is busy: " + pending.operation().name().toLowerCase(Locale.ROOT).replace('_', '-')
            + " in progress since " + pending.since() + " (correlation " + pending.correlationId() + ")");
  }

  static ContainerReply notFound(ContainerState state) {
    return refused(Code.NOT_FOUND, "container", "container " + state.id() + " does not exist");
  }

  /** A saga step of a reservation older than the last one the container took part in or declined: a late copy. */
  static ContainerReply stale(ContainerState state, long reservation) {
    return refused(Code.WRONG_PHASE, "reservation", "container " + state.id() + " took part in reservation " + state.lastReservation()
        + " already; reservation " + reservation + " is older (a late copy of its request)");
  }

  static ContainerReply failed(ContainerState state, String operation, String error) {
    return refused(Code.FAILED, "", operation + " container " + state.id() + " failed: " + error);
  }

  static ContainerReply refused(Code code, String field, String message) {
    return new ContainerReply.Refused(new Rejection(code, field, message));
  }

  /** One line for a throwable: the message of the deepest cause that has one. */
  static String describe(Throwable error) {
    Throwable t = cause(error);
    String message = t.getMessage();
    return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
  }

  /** The throwable under the wrappers futures put around it. */
  static Throwable cause(Throwable error) {
    Throwable t = error;
    while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
