package io.berth.protocol.reply;

import io.berth.protocol.BerthMessage;

/**
 * Why a command was refused. A refused command persisted nothing (style habit 4: a broken business rule
 * is a reply, not an exception).
 *
 * @param code    what kind of refusal, which the API maps to an HTTP status and the CLI to an exit code
 * @param field   the field or subject at fault ({@code limits.memory}, {@code phase}, {@code host}); may be empty
 * @param message one clear sentence for people
 */
public record Rejection(Code code, String field, String message) implements BerthMessage {

  public enum Code {
    /** Bad input: a field broke a rule. */
    INVALID,
    /** No such container, host or template. */
    NOT_FOUND,
    /** It exists already. */
    ALREADY_EXISTS,
    /** Not allowed in the current phase (the message names the phase). */
    WRONG_PHASE,
    /** Another operation is in progress (the message names it). */
    BUSY,
    /** No host can take it (the message lists each host's shortfall). */
    NO_CAPACITY,
    /** The operation was tried and failed on the host (the failure is in the log). */
    FAILED,
    /** Berth could not make it durable or reach the node (Cassandra down, node unreachable); nothing was done. */
    UNAVAILABLE
  }

  public Rejection {
    field = field == null ? "" : field;
  }

  public static Rejection invalid(io.berth.protocol.InvalidFieldException e) {
    return new Rejection(Code.INVALID, e.field(), e.getMessage());
  }

  @Override
  public String toString() {
    return code + (field.isEmpty() ? "" : " [" + field + "]") + ": " + message;
  }
}
