package io.berth.protocol.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.container.ContainerEvent.*;
import io.berth.protocol.event.EventHashes;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContainerFoldTest {
  private static final ContainerId ID = ContainerId.of("web-1");
  private static final HostId H1 = HostId.of("node-1");
  private static final HostId H2 = HostId.of("node-2");
  private static final ContainerSpec SPEC = new ContainerSpec(ID, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), null, null, null, null);

  private static EventMeta meta(int second) {
    return new EventMeta(Instant.ofEpochSecond(1_700_000_000L + second), "alice", "test", "c-" + second, "");
  }

  private static ContainerState fold(ContainerEvent... events) {
    ContainerState s = ContainerState.empty(ID);
    for (ContainerEvent e : events) s = s.apply(e);
    return s;
  }

  @Test
  void lifecycleFoldsThroughEachPhase() {
    ContainerState defined = fold(new ContainerDefined(meta(1), SPEC), new ContainerPlaced(meta(2), H1, "only host"),
        new AddressAssigned(meta(3), "198.18.1.1", 16));
    ContainerState.Defined d = assertInstanceOf(ContainerState.Defined.class, defined);
    assertEquals(H1, d.data().host().orElseThrow());
    assertEquals("198.18.1.1", d.data().address());

    ContainerState starting = defined.apply(new StartRequested(meta(4)));
    assertEquals(Operation.START, ((ContainerState.Live) starting).data().pending().orElseThrow().operation());
    ContainerState running = starting.apply(new ContainerStarted(meta(5), H1, 4242));
    ContainerState.Running r = assertInstanceOf(ContainerState.Running.class, running);
    assertEquals(4242, r.pid());
    assertTrue(r.data().pending().isEmpty());

    ContainerState resized = running.apply(new LimitsChangeRequested(meta(6), Limits.DEFAULT.withPids(64)))
        .apply(new LimitsChanged(meta(7), Limits.DEFAULT.withPids(64)));
    assertEquals(64, ((ContainerState.Live) resized).data().spec().limits().pids());

    ContainerState stopped = resized.apply(new StopRequested(meta(8), 5000)).apply(new ContainerStopped(meta(9), 0, 15));
    ContainerState.Stopped st = assertInstanceOf(ContainerState.Stopped.class, stopped);
    assertEquals(15, st.data().lastExit().orElseThrow().signal());

    ContainerState gone = stopped.apply(new DestroyRequested(meta(10))).apply(new ContainerDestroyed(meta(11)));
    assertInstanceOf(ContainerState.Destroyed.class, gone);
    assertEquals("", ((ContainerState.Live) gone).data().address());
    // The name can be used again: a new incarnation continues the same log.
    assertInstanceOf(ContainerState.Defined.class, gone.apply(new ContainerDefined(meta(12), SPEC)));
  }

  @Test
  void aFailoverMovesTheContainerAndLeavesItsStartPendingOnTheNewHost() {
    ContainerState running = fold(new ContainerDefined(meta(1), SPEC), new ContainerPlaced(meta(2), H1, "x"),
        new StartRequested(meta(3)), new ContainerStarted(meta(4), H1, 10));
    ContainerState moved = running.apply(new ContainerFailedOver(meta(5), H1, H2, "failover"));
    ContainerState.Stopped s = assertInstanceOf(ContainerState.Stopped.class, moved);
    assertEquals(java.util.Optional.of(H2), s.data().host());
    assertEquals(Operation.START, s.data().pending().orElseThrow().operation());
    ContainerState started = moved.apply(new ContainerStarted(meta(6), H2, 20));
    assertEquals("running", started.phase());
    // A failover from a host the container is not on is a foreign log: refused.
    assertThrows(IllegalStateException.class, () -> running.apply(new ContainerFailedOver(meta(5), H2, H1, "x")));
  }

  @Test
  void aFailoverWithACheckpointLeavesItsStartRestoringItAndAFailedRestoreGoesOnCold() {
    ContainerSpec shared = new ContainerSpec(ID, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), null, null, null, null, false,
        io.berth.protocol.spec.Storage.SHARED, 0);
    ContainerState running = fold(new ContainerDefined(meta(1), shared), new ContainerPlaced(meta(2), H1, "x"),
        new StartRequested(meta(3)), new ContainerStarted(meta(4), H1, 10));
    ContainerState scheduled = running.apply(new CheckpointScheduleSet(meta(5), java.time.Duration.ofSeconds(30)));
    assertEquals(java.time.Duration.ofSeconds(30), ((ContainerState.Live) scheduled).data().spec().checkpointEvery());
    assertEquals("running", scheduled.phase(), "a schedule changes no phase");
    ContainerState moved = scheduled.apply(new ContainerFailedOver(meta(6), H1, H2, "failover", 7, meta(5).at(), 1000));
    assertEquals(7, ((ContainerState.Live) moved).data().restoreCheckpoint(), "its start restores checkpoint 7");
    assertThrows(IllegalStateException.class, () -> moved.apply(new CheckpointRestoreFailed(meta(7), 8, "x")), "not the checkpoint it restores");
    ContainerState cold = moved.apply(new CheckpointRestoreFailed(meta(7), 7, "criu restore failed"));
    assertEquals(0, ((ContainerState.Live) cold).data().restoreCheckpoint());
    assertEquals(Operation.START, ((ContainerState.Live) cold).data().pending().orElseThrow().operation(), "the start goes on, cold");
    ContainerState started = moved.apply(new ContainerStarted(meta(8), H2, 20));
    assertEquals(0, ((ContainerState.Live) started).data().restoreCheckpoint(), "the start's outcome clears it");
    // A schedule on local storage is a foreign log: the spec's rule refuses it.
    ContainerState local = fold(new ContainerDefined(meta(1), SPEC));
    assertThrows(io.berth.protocol.InvalidFieldException.class, () -> local.apply(new CheckpointScheduleSet(meta(2), java.time.Duration.ofSeconds(30))));
  }

  @Test
  void aLostContainerRecoversOnlyFromLostAndRunsAgainWhereItWasRecovered() {
    ContainerState running = fold(new ContainerDefined(meta(1), SPEC), new ContainerPlaced(meta(2), H1, "x"),
        new StartRequested(meta(3)), new ContainerStarted(meta(4), H1, 10));
    ContainerState lost = running.apply(new ContainerLost(meta(5), H1, "fenced"));
    ContainerState.Lost l = assertInstanceOf(ContainerState.Lost.class, lost);
    assertTrue(l.wasRunning());
    assertEquals(H1, l.host());
    assertThrows(IllegalStateException.class, () -> lost.apply(new StartRequested(meta(6))), "a lost container takes no start");
    assertThrows(IllegalStateException.class, () -> running.apply(new ContainerRecovered(meta(6), H1, H2, true, "x")), "only a lost one recovers");
    ContainerState recovered = lost.apply(new ContainerRecovered(meta(6), H1, H2, true, "ct recover --empty"));
    assertEquals(java.util.Optional.of(H2), ((ContainerState.Live) recovered).data().host());
    assertEquals(Operation.START, ((ContainerState.Live) recovered).data().pending().orElseThrow().operation());
    ContainerState adopted = lost.apply(new ContainerAdopted(meta(7), H1, 10));
    assertEquals("running", adopted.phase(), "its host came back with it still running");
  }

  @Test
  void theStateKeepsTheHashOfTheLastEvent() {
    ContainerDefined first = new ContainerDefined(meta(1), SPEC);
    assertEquals(EventHashes.hashOf(first), fold(first).lastEventHash());
    assertEquals(64, fold(first).lastEventHash().length());
  }

  @Test
  void failedOperationsSettleAndAreRemembered() {
    ContainerState s = fold(new ContainerDefined(meta(1), SPEC), new ContainerPlaced(meta(2), H1, "x"),
        new StartRequested(meta(3)), new OperationFailed(meta(4), Operation.START, "no such command"));
    ContainerState.Defined d = assertInstanceOf(ContainerState.Defined.class, s);
    assertTrue(d.data().pending().isEmpty());
    assertEquals("start: no such command", d.data().lastError());
  }

  @Test
  void anExitByItselfStopsTheContainerAndRestartsArePending() {
    ContainerState s = fold(new ContainerDefined(meta(1), SPEC), new ContainerPlaced(meta(2), H1, "x"),
        new StartRequested(meta(3)), new ContainerStarted(meta(4), H1, 10), new ContainerExited(meta(5), 1, 0),
        new RestartScheduled(meta(6), 1, 1000, "on-failure"));
    ContainerState.Stopped st = assertInstanceOf(ContainerState.Stopped.class, s);
    assertEquals(Operation.RESTART, st.data().pending().orElseThrow().operation());
    assertEquals(1, st.data().restartAttempts());
  }

  @Test
  void migrationStepsFoldAndCompleteWithTheirRecord() {
    String m = "mig-1";
    ContainerState s = fold(new ContainerDefined(meta(1), SPEC), new ContainerPlaced(meta(2), H1, "x"),
        new StartRequested(meta(3)), new ContainerStarted(meta(4), H1, 10),
        new MigrationRequested(meta(5), m, H1, H2, MigrationMode.LIVE, false, PostCopy.OFF, ""), new MigrationPreflightPassed(meta(6), m, "ok"),
        new RootfsPreCopied(meta(6), m, 10, "a".repeat(64)),
        new CheckpointTaken(meta(7), m, 100), new ImageTransferred(meta(8), m, 110, "b".repeat(64)),
        new ContainerRestored(meta(9), m, H2, 77));
    ContainerState.Migrating mig = assertInstanceOf(ContainerState.Migrating.class, s);
    assertEquals(MigrationProgress.Step.RESTORED, mig.progress().step());
    assertThrows(IllegalStateException.class, () -> mig.apply(new MigrationCompleted(meta(10), m, 150, 900)),
        "completed before the directory placed it on the target");
    ContainerState moved = s.apply(new ContainerMoved(meta(10), m, H2));
    ContainerState.Running r = assertInstanceOf(ContainerState.Running.class, moved.apply(new MigrationCompleted(meta(11), m, 150, 900)));
    assertEquals(77, r.pid());
    assertEquals(H2, r.data().host().orElseThrow());
    MigrationRecord last = r.data().lastMigration().orElseThrow();
    assertEquals(new MigrationRecord(m, MigrationMode.LIVE, H1, H2, "completed", 150, 900, 120, "", "", false, "", meta(11).at()), last);

    ContainerState aborted = fold(new ContainerDefined(meta(1), SPEC), new ContainerPlaced(meta(2), H1, "x"),
        new StartRequested(meta(3)), new ContainerStarted(meta(4), H1, 10),
        new MigrationRequested(meta(5), m, H1, H2, MigrationMode.LIVE, false, PostCopy.OFF, ""), new MigrationAborted(meta(6), m, "criu failed", 10));
    ContainerState.Running back = assertInstanceOf(ContainerState.Running.class, aborted);
    assertEquals(H1, back.data().host().orElseThrow());
    assertEquals("aborted", back.data().lastMigration().orElseThrow().outcome());
    assertEquals("criu failed", back.data().lastMigration().orElseThrow().cause());
  }

  @Test
  void theReservationFenceMovesForwardInEveryPhaseAndCarriesOverToANewIncarnation() {
    // Declined before it was ever defined: still absent, but its log has begun (the chain's head is kept).
    ReservationDeclined declined = new ReservationDeclined(meta(1), 7);
    ContainerState.Empty absent = assertInstanceOf(ContainerState.Empty.class, fold(declined));
    assertEquals(7, absent.lastReservation());
    assertEquals(EventHashes.hashOf(declined), absent.lastEventHash());
    // A later create takes part in reservation 8 and defines it in one write.
    ContainerState defined = absent.apply(new ReservationAccepted(meta(2), 8)).apply(new ContainerDefined(meta(3), SPEC));
    assertEquals(8, assertInstanceOf(ContainerState.Defined.class, defined).lastReservation());
    ContainerState resized = defined.apply(new ReservationAccepted(meta(4), 9)).apply(new LimitsChangeRequested(meta(5), Limits.DEFAULT))
        .apply(new LimitsChanged(meta(6), Limits.DEFAULT));
    assertEquals(9, resized.lastReservation());
    ContainerState gone = resized.apply(new DestroyRequested(meta(7))).apply(new ContainerDestroyed(meta(8)))
        .apply(new ReservationDeclined(meta(9), 10));
    assertEquals(10, assertInstanceOf(ContainerState.Destroyed.class, gone).lastReservation());
    assertEquals(10, gone.apply(new ContainerDefined(meta(10), SPEC)).lastReservation(), "a new incarnation keeps the fence");
    // It never goes back, nor stands still.
    assertThrows(IllegalStateException.class, () -> resized.apply(new ReservationAccepted(meta(7), 9)));
    assertThrows(IllegalStateException.class, () -> resized.apply(new ReservationDeclined(meta(7), 3)));
  }

  @Test
  void impossibleEventsAreRefusedNotGuessed() {
    assertThrows(IllegalStateException.class, () -> fold(new StartRequested(meta(1))));
    assertThrows(IllegalStateException.class, () -> fold(new ContainerDefined(meta(1), SPEC), new ContainerStopped(meta(2), 0, 0)));
    ContainerSpec other = new ContainerSpec(ContainerId.of("other"), TemplateRef.of("busybox"), null, null, null, null, null, null);
    assertThrows(IllegalStateException.class, () -> fold(new ContainerDefined(meta(1), other)));
    assertThrows(IllegalStateException.class, () -> fold(new ContainerDefined(meta(1), SPEC),
        new MigrationRequested(meta(2), "m1", H1, H2, MigrationMode.COLD, false, PostCopy.OFF, ""), new CheckpointTaken(meta(3), "m2", 1)));
  }
}
