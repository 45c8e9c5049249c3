package io.berth.protocol.event;

import io.berth.protocol.InvalidFieldException;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * What audit needs of every event: when, who asked, why, which request it belongs to, and the link to
 * the previous event of the same entity.
 *
 * @param at            when the event was decided (the entity's clock, millisecond precision)
 * @param principal     who asked: a user name, or {@code berth} for what Berth did by itself
 * @param reason        why, in the operator's or Berth's words; may be empty
 * @param correlationId ties the events of one request (or one saga) together across entities
 * @param prevHash      hex SHA-256 of the stored bytes of the previous event of this entity; empty for the first
 */
public record EventMeta(Instant at, String principal, String reason, String correlationId, String prevHash) {
  public static final int MAX_PRINCIPAL = 128;
  public static final int MAX_REASON = 1024;
  public static final int MAX_CORRELATION = 128;
  private static final Pattern HASH = Pattern.compile("([0-9a-f]{64})?");
  private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");

  public EventMeta {
    InvalidFieldException.required("meta.at", at);
    at = Instant.ofEpochMilli(at.toEpochMilli());
    if (principal == null || !PRINCIPAL.matcher(principal).matches()) {
      throw new InvalidFieldException("principal", "must be 1-128 characters of letters, digits and ._@:+-", principal);
    }
    reason = reason == null ? "" : reason;
    if (reason.length() > MAX_REASON) throw new InvalidFieldException("reason", "must be at most " + MAX_REASON + " characters", reason.length());
    if (correlationId == null || correlationId.isEmpty() || correlationId.length() > MAX_CORRELATION) {
      throw new InvalidFieldException("correlationId", "must be 1-" + MAX_CORRELATION + " characters", correlationId);
    }
    prevHash = prevHash == null ? "" : prevHash;
    if (!HASH.matcher(prevHash).matches()) throw new InvalidFieldException("meta.prevHash", "must be empty or 64 lowercase hex digits", prevHash);
  }

  /** The principal Berth itself uses for what it does unasked (restarts, reconciliation, failover). */
  public static final String SYSTEM_PRINCIPAL = "berth";
}
