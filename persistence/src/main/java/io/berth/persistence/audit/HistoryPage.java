package io.berth.persistence.audit;

import java.util.List;
import java.util.OptionalLong;

/**
 * One page of an entity's history, in sequence order.
 *
 * @param next the sequence number to ask for to get the next page; empty when this page reached the end of the log
 */
public record HistoryPage(String persistenceId, List<AuditEntry> entries, OptionalLong next) {
  public HistoryPage {
    entries = List.copyOf(entries);
  }
}
