package io.berth.persistence.audit;

import java.util.List;

/** The hash chains of every entity: how many were checked and the first broken link of each broken one. */
public record VerifyReport(int entities, long events, List<ChainReport.Broken> broken) {
  public VerifyReport {
    broken = List.copyOf(broken);
  }

  public boolean intact() {
    return broken.isEmpty();
  }
}
