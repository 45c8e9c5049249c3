package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.DnsLabel;
import io.berth.protocol.ids.HostId;
import java.util.Map;
import java.util.Optional;

/**
 * Where a container may run, as the operator asked.
 *
 * @param pinnedHost        run only on this host ({@code --host})
 * @param hostLabels        run only on hosts carrying all these labels
 * @param antiAffinityGroup containers sharing a group are spread over distinct hosts when possible; empty for none
 */
public record PlacementConstraints(Optional<HostId> pinnedHost, Map<String, String> hostLabels, String antiAffinityGroup) {
  public static final PlacementConstraints NONE = new PlacementConstraints(Optional.empty(), Map.of(), "");

  public PlacementConstraints {
    pinnedHost = pinnedHost == null ? Optional.empty() : pinnedHost;
    hostLabels = Labels.check("placement.hostLabels", hostLabels);
    antiAffinityGroup = antiAffinityGroup == null ? "" : antiAffinityGroup;
    if (!antiAffinityGroup.isEmpty() && !DnsLabel.isValid(antiAffinityGroup)) {
      throw new InvalidFieldException("placement.antiAffinityGroup", DnsLabel.RULE, antiAffinityGroup);
    }
  }
}
