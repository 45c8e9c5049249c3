package io.berth.protocol.directory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.directory.DirectoryEvent.*;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.Limits;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The directory's fold: reservations hold capacity and addresses until settled, and settle only once. */
class DirectoryFoldTest {
  private static final ContainerId WEB = ContainerId.of("web-1");
  private static final HostId H1 = HostId.of("node-1");
  private static final Limits SMALL = Limits.DEFAULT.withMemoryBytes(64L << 20);
  private static final Limits BIG = Limits.DEFAULT.withMemoryBytes(512L << 20).withCpuMillis(500);

  private static EventMeta meta(int second) {
    return new EventMeta(Instant.ofEpochSecond(1_700_000_000L + second), "alice", "test", "c-" + second, "");
  }

  private static DirectoryState fold(DirectoryEvent... events) {
    DirectoryState s = DirectoryState.EMPTY;
    for (DirectoryEvent e : events) s = s.apply(e);
    return s;
  }

  @Test
  void aReservedCreateHoldsItsNameShareAndAddressThenIsConfirmed() {
    DirectoryState reserved = fold(new ContainerReserved(meta(1), 1, WEB, H1, SMALL, "web", "198.18.1.1", "only host"));
    assertTrue(reserved.holds(WEB));
    assertEquals(Optional.of(H1), reserved.hostOf(WEB));
    assertFalse(reserved.allocations().containsKey(WEB), "not allocated before its entity defined it");
    assertEquals(List.of(new DirectoryState.Held(WEB, H1, SMALL, "web", "198.18.1.1")), reserved.held());
    assertEquals(1, reserved.lastReservation());

    DirectoryState confirmed = reserved.apply(new ReservationConfirmed(meta(2), 1, WEB, H1, SMALL));
    assertEquals(new Allocation(H1, SMALL, "web", "198.18.1.1"), confirmed.allocations().get(WEB));
    assertTrue(confirmed.reservations().isEmpty());
    assertThrows(IllegalStateException.class, () -> confirmed.apply(new ReservationReleased(meta(3), 1, WEB, "twice")),
        "a reservation settles once");
  }

  @Test
  void aReleasedCreateFreesEverything() {
    DirectoryState released = fold(new ContainerReserved(meta(1), 1, WEB, H1, SMALL, "", "198.18.1.1", "x"),
        new ReservationReleased(meta(2), 1, WEB, "its entity declined"));
    assertFalse(released.holds(WEB));
    assertTrue(released.held().isEmpty());
    assertEquals(1, released.lastReservation(), "the numbers go on");
  }

  @Test
  void aResizeHoldsTheLargerOfEachLimitUntilSettledAndTheAllocationFollowsTheEntity() {
    DirectoryState running = fold(new ContainerReserved(meta(1), 1, WEB, H1, BIG.withCpuMillis(100), "", "198.18.1.1", "x"),
        new ReservationConfirmed(meta(2), 1, WEB, H1, BIG.withCpuMillis(100)));
    DirectoryState resizing = running.apply(new ResizeReserved(meta(3), 2, WEB, SMALL));
    Limits held = resizing.held().get(0).limits();
    assertEquals(BIG.memoryBytes(), held.memoryBytes(), "the old, larger memory is held until the entity settles");
    assertEquals(SMALL.cpuMillis(), held.cpuMillis(), "the new, larger cpu is held already");
    assertEquals(SMALL, resizing.apply(new ReservationConfirmed(meta(4), 2, WEB, H1, SMALL)).allocations().get(WEB).limits());
    assertEquals(BIG.withCpuMillis(100), resizing.apply(new ReservationReleased(meta(4), 2, WEB, "refused")).allocations().get(WEB).limits());
    assertThrows(IllegalStateException.class, () -> resizing.apply(new ResizeReserved(meta(4), 3, WEB, BIG)), "one reservation per container");
  }

  @Test
  void reservationsAreNumberedInOrder() {
    DirectoryState s = fold(new ContainerReserved(meta(1), 5, WEB, H1, SMALL, "", "198.18.1.1", "x"));
    assertThrows(IllegalStateException.class,
        () -> s.apply(new ContainerReserved(meta(2), 5, ContainerId.of("db"), H1, SMALL, "", "198.18.1.2", "x")));
    assertThrows(IllegalStateException.class, () -> s.apply(new ContainerReserved(meta(2), 6, WEB, H1, SMALL, "", "198.18.1.2", "x")),
        "a name reserved already");
  }
}
