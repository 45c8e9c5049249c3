package io.berth.protocol.event;

import java.time.Instant;
import java.util.UUID;

/**
 * Who asks, why, and under which correlation id: carried by every command that changes state, and
 * turned into the {@link EventMeta} of the events it causes. Validated like the meta it becomes.
 */
public record CommandContext(String principal, String reason, String correlationId) {
  public CommandContext {
    reason = reason == null ? "" : reason;
    correlationId = correlationId == null || correlationId.isEmpty() ? UUID.randomUUID().toString() : correlationId;
    // Validate now, so bad input is refused before any entity sees it.
    new EventMeta(Instant.EPOCH, principal, reason, correlationId, "");
  }

  /** A context for what Berth does by itself. */
  public static CommandContext system(String reason) {
    return new CommandContext(EventMeta.SYSTEM_PRINCIPAL, reason, UUID.randomUUID().toString());
  }

  public EventMeta meta(Instant at, String prevHash) {
    return new EventMeta(at, principal, reason, correlationId, prevHash);
  }
}
