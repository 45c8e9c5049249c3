package io.berth.node.placement;

import io.berth.protocol.ids.DnsLabel;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.util.Objects;

/**
 * What one container holds on its host: its limits (all of them reserved, whether it runs or not) and
 * its anti-affinity group ({@code ""} for none).
 */
public record ContainerShare(Limits limits, String group) {
  public ContainerShare {
    Objects.requireNonNull(limits, "limits");
    group = group == null ? "" : group;
    if (!group.isEmpty() && !DnsLabel.isValid(group)) {
      throw new InvalidFieldException("placement.antiAffinityGroup", DnsLabel.RULE, group);
    }
  }

  public static ContainerShare of(ContainerSpec spec) {
    return new ContainerShare(spec.limits(), spec.placement().antiAffinityGroup());
  }
}
