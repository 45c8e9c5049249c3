package io.berth.node.placement;

import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import java.util.Objects;

/** The outcome of placing one container: a host with the reason, or a refusal naming each host's shortfall. */
public sealed interface Placement {

  /**
   * Where the container goes.
   *
   * @param host   the chosen host
   * @param reason one sentence for people; becomes the {@code ContainerPlaced} event's {@code decision}
   */
  record Decision(HostId host, String reason) implements Placement {
    public Decision {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * No host may take it. {@code NO_CAPACITY} lists each host's shortfall; {@code NOT_FOUND} names a
   * pinned host that is not registered. Nothing was changed.
   */
  record Refusal(Rejection rejection) implements Placement {
    public Refusal {
      Objects.requireNonNull(rejection, "rejection");
    }
  }
}
