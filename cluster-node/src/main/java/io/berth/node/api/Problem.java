package io.berth.node.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.reply.Rejection;
import java.util.Locale;

/**
 * An RFC 9457 problem detail, as every error of the API is answered ({@code application/problem+json}).
 * {@code field} and {@code rule} name what broke, so the CLI (and any script) can say one clear sentence.
 *
 * @param type   {@code urn:berth:problem:<kind>}, stable: scripts may switch on it
 * @param title  the kind in words
 * @param status the HTTP status, repeated as RFC 9457 asks
 * @param detail the sentence for people
 * @param field  the field at fault ({@code limits.memory}, {@code container}, {@code body}); empty when none
 * @param rule   the rule it broke ({@code must be between 4M and 1024T}); empty when none
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Problem(String type, String title, int status, String detail, String field, String rule) {
  public static final String TYPE_PREFIX = "urn:berth:problem:";

  public Problem {
    field = field == null ? "" : field;
    rule = rule == null ? "" : rule;
    detail = detail == null ? "" : detail;
  }

  public static Problem of(String kind, String title, int status, String detail, String field, String rule) {
    return new Problem(TYPE_PREFIX + kind, title, status, detail, field, rule);
  }

  /** Request validation: 400, naming the field and the rule. */
  public static Problem invalid(InvalidFieldException e) {
    return of("invalid-field", "Invalid field", 400, e.getMessage(), e.field(), e.rule());
  }

  /** A refusal from Berth: the status follows the rejection's code. */
  public static Problem of(Rejection r) {
    String kind = r.code().name().toLowerCase(Locale.ROOT).replace('_', '-');
    return switch (r.code()) {
      // The request was well-formed but Berth cannot act on it (over a host's capacity, unknown template, ...).
      case INVALID -> of("invalid", "Unprocessable request", 422, r.message(), r.field(), ruleOf(r));
      case NOT_FOUND -> of(kind, "Not found", 404, r.message(), r.field(), "must exist");
      case ALREADY_EXISTS -> of(kind, "Already exists", 409, r.message(), r.field(), "must not exist yet");
      case WRONG_PHASE -> of(kind, "Wrong phase", 409, r.message(), r.field(), "not allowed in the current phase");
      case BUSY -> of(kind, "Busy", 409, r.message(), r.field(), "one operation at a time per container");
      case NO_CAPACITY -> of(kind, "No capacity", 409, r.message(), r.field(), "a host must have room for it");
      case FAILED -> of(kind, "Operation failed", 500, r.message(), r.field(), "");
      case UNAVAILABLE -> of(kind, "Unavailable", 503, r.message(), r.field(), "");
    };
  }

  /** {@code limits.memory: must be ... (got "1M")} → {@code must be ...}; the whole message otherwise. */
  private static String ruleOf(Rejection r) {
    String m = r.message();
    String prefix = r.field() + ": ";
    if (!r.field().isEmpty() && m.startsWith(prefix)) m = m.substring(prefix.length());
    int got = m.lastIndexOf(" (got ");
    return got > 0 && m.endsWith(")") ? m.substring(0, got) : m;
  }
}
