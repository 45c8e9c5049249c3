package io.berth.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.node.ops.BerthOperations.AuditEntry;
import io.berth.protocol.access.TokenScope;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A tenant's view of the audit, over one container's real log folded by the container's own fold: the name is used by
 * acme, destroyed, then used again by globex, and each tenant sees its own incarnation's events only, whether a read
 * starts at the beginning of the log, in the middle of an incarnation, or skips some of it. The lookup of the state
 * before an event folds the same log (a test double of the journal read, on the real fold).
 */
class TenantEventsTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final ContainerId WEB = ContainerId.of("web-1");
  static final HostId HOST = HostId.of("host-1");

  /** web-1: a reservation (1) for acme's, defined, placed and destroyed (2-4); one (5) for globex's, defined and started (6-8). */
  static final List<AuditEntry> LOG = log(List.of(
      new ContainerEvent.ReservationAccepted(meta(1), 1),
      new ContainerEvent.ContainerDefined(meta(2), spec("acme")),
      new ContainerEvent.ContainerPlaced(meta(3), HOST, "least used"),
      new ContainerEvent.ContainerDestroyed(meta(4)),
      new ContainerEvent.ReservationAccepted(meta(5), 2),
      new ContainerEvent.ContainerDefined(meta(6), spec("globex")),
      new ContainerEvent.StartRequested(meta(7)),
      new ContainerEvent.ContainerStarted(meta(8), HOST, 4242)));

  static EventMeta meta(int second) {
    return new EventMeta(T0.plusSeconds(second), "ops", "", "corr-" + second, "");
  }

  static ContainerSpec spec(String owner) {
    return new ContainerSpec(WEB, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "60"), Limits.DEFAULT, null,
        Map.of("owner", owner), null);
  }

  static List<AuditEntry> log(List<ContainerEvent> events) {
    List<AuditEntry> out = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) out.add(entry("container|web-1", i + 1, events.get(i)));
    return out;
  }

  static AuditEntry entry(String persistenceId, long seq, BerthEvent e) {
    return new AuditEntry(persistenceId, seq, e.meta().at(), e.getClass().getSimpleName(), "ops", "", "", "o" + seq, e);
  }

  final List<Long> lookups = new ArrayList<>();

  /** The fold of LOG's events before {@code seq}, as the journal read would give it. */
  CompletionStage<ContainerState> before(ContainerId id, long seq) {
    lookups.add(seq);
    ContainerState s = ContainerState.empty(id);
    for (AuditEntry e : LOG) if (e.sequenceNr() < seq) s = s.apply((ContainerEvent) e.event());
    return CompletableFuture.completedFuture(s);
  }

  List<Long> seen(String owner, List<AuditEntry> read) throws Exception {
    TenantEvents view = new TenantEvents(new TokenScope("owner", owner), this::before);
    return view.filter(read).toCompletableFuture().get(5, TimeUnit.SECONDS).stream().map(AuditEntry::sequenceNr).toList();
  }

  @Test
  void eachTenantSeesItsOwnIncarnationOfAReusedNameAndNoReservation() throws Exception {
    assertEquals(List.of(2L, 3L, 4L), seen("acme", LOG));
    assertEquals(List.of(6L, 7L, 8L), seen("globex", LOG));
    assertEquals(List.of(), seen("initech", LOG));
    assertEquals(List.of(1L), lookups.subList(0, 1), "one lookup, before the first event; the rest folded as they passed");
  }

  @Test
  void aReadThatStartsInTheMiddleOrSkipsLooksUpTheIncarnationOfTheEventItResumesAt() throws Exception {
    assertEquals(List.of(3L, 4L), seen("acme", LOG.subList(2, 5)));
    assertEquals(List.of(), seen("globex", LOG.subList(2, 5)), "3-5 are acme's and a reservation, whatever the name holds now");
    lookups.clear();
    List<AuditEntry> gapped = List.of(LOG.get(1), LOG.get(6), LOG.get(7));
    assertEquals(List.of(7L, 8L), seen("globex", gapped));
    assertEquals(List.of(2L, 7L), lookups, "a gap in the sequence numbers is looked up again");
  }

  @Test
  void aHostsAndOtherLogsEventsAreNotATenants() throws Exception {
    List<AuditEntry> mixed = new ArrayList<>(LOG.subList(0, 3));
    mixed.add(entry("host|host-1", 7, new HostEvent.HostCordoned(meta(9))));
    assertEquals(List.of(2L, 3L), seen("acme", mixed));
  }
}
