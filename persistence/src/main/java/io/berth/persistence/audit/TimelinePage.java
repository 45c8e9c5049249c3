package io.berth.persistence.audit;

import java.util.List;
import java.util.Optional;

/**
 * One page of the cluster timeline, in time order.
 *
 * @param resumeAfter the offset to pass as {@code after} to continue exactly after the last entry; empty when the page
 *                    is empty (ask again with the same {@code after})
 * @param complete    true when the window is fully read: the page was not cut by the limit and the window's end is
 *                    older than the eventual-consistency delay (no event of the window can still arrive)
 */
public record TimelinePage(List<AuditEntry> entries, Optional<String> resumeAfter, boolean complete) {
  public TimelinePage {
    entries = List.copyOf(entries);
  }
}
