package io.berth.persistence.audit;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventMeta;
import java.time.Instant;

/**
 * One event as the audit trail shows it.
 *
 * @param persistenceId {@code container|<id>} or {@code host|<id>}
 * @param sequenceNr    its position in that entity's log, from 1
 * @param offset        the timeline offset (a time-based UUID) to resume after this entry; empty in a history
 */
public record AuditEntry(String persistenceId, long sequenceNr, String offset, BerthEvent event) {

  public EventMeta meta() {
    return event.meta();
  }

  public Instant at() {
    return event.meta().at();
  }

  public String principal() {
    return event.meta().principal();
  }

  public String reason() {
    return event.meta().reason();
  }

  public String correlationId() {
    return event.meta().correlationId();
  }

  /** The event's type name, e.g. {@code ContainerStarted}. */
  public String type() {
    return event.getClass().getSimpleName();
  }

  /** One JSON object on one line (the JSON-lines export). */
  public String toJson() {
    StringBuilder b = new StringBuilder(256);
    b.append("{\"persistenceId\":");
    Json.string(b, persistenceId);
    b.append(",\"sequenceNr\":").append(sequenceNr);
    if (!offset.isEmpty()) {
      b.append(",\"offset\":");
      Json.string(b, offset);
    }
    b.append(",\"at\":");
    Json.string(b, at().toString());
    b.append(",\"principal\":");
    Json.string(b, principal());
    b.append(",\"reason\":");
    Json.string(b, reason());
    b.append(",\"correlationId\":");
    Json.string(b, correlationId());
    b.append(",\"prevHash\":");
    Json.string(b, meta().prevHash());
    b.append(",\"type\":");
    Json.string(b, type());
    b.append(",\"event\":");
    if (event instanceof Record r) Json.recordWithout(b, r, "meta");
    else Json.value(b, event.toString());
    return b.append('}').toString();
  }
}
