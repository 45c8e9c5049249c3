package io.berth.node.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.container.ContainerData;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.TemplateRef;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Which entity states make a host's copy stray: only a log that names another host and no move, or says the
 * container was destroyed. (The sweep itself, on real kernels: ThreeNodeTest.)
 */
class StrayCopiesTest {
  private static final HostId ME = HostId.of("node-2");
  private static final HostId OTHER = HostId.of("node-1");

  @Test
  void aCopyIsStrayOnlyWhenTheLogNamesAnotherHostAndNoMove() {
    assertEquals(Optional.of("its log says stopped on host node-1"), StrayCopies.strayBecause(stopped(OTHER), ME));
    assertEquals(Optional.empty(), StrayCopies.strayBecause(stopped(ME), ME), "its own host's copy");
    assertEquals(Optional.of("its log says it was destroyed"), StrayCopies.strayBecause(new ContainerState.Destroyed(data(OTHER)), ME));
  }

  @Test
  void anOperationUnderWayDecidesItself() {
    ContainerData d = data(OTHER);
    ContainerData destroying = new ContainerData(d.spec(), d.host(), d.address(), d.prefixLength(),
        Optional.of(new io.berth.protocol.container.Pending(io.berth.protocol.container.Operation.DESTROY, "c-1", Instant.EPOCH)), d.lastExit(),
        d.lastError(), d.restartAttempts(), d.lastReservation(), d.lastEventHash(), d.updatedAt(), d.lastMigration());
    assertTrue(StrayCopies.strayBecause(new ContainerState.Destroyed(destroying), ME).isEmpty(), "a destroy still tearing it down");
  }

  @Test
  void aNameTheLogHoldsNothingOfDecidesNothing() {
    assertTrue(StrayCopies.strayBecause(new ContainerState.Empty(ContainerId.of("ch-3"), 0, ""), ME).isEmpty(),
        "a log that holds nothing of the name may be one that failed to read: the copy stays");
  }

  private static ContainerState stopped(HostId host) {
    return new ContainerState.Stopped(data(host));
  }

  private static ContainerData data(HostId host) {
    ContainerSpec spec = new ContainerSpec(ContainerId.of("ch-3"), TemplateRef.of("busybox"), null, List.of("/bin/sleep", "3600"), null, null,
        null, null);
    return new ContainerData(spec, Optional.of(host), "198.18.1.10", 16, Optional.empty(), Optional.empty(), "", 0, 0, "", Instant.EPOCH,
        Optional.empty());
  }
}
