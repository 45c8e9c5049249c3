package io.berth.node.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.berth.node.agent.ContainerRuntime;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.Operation;
import io.berth.protocol.container.ContainerEvent.*;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Entity tests: for each command, the reply, the events and the state together. The journal is the
 * testkit's in-memory one (unit test only); commands, events and state go through the real Berth
 * serializer on every step (the testkit's serialization checks are on).
 */
class ContainerEntityTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(PersistenceTestKitPlugin.getInstance().config())
          .withFallback(ConfigFactory.parseString("pekko.actor.serialize-messages = on")).withFallback(ConfigFactory.load()));
  private static final io.berth.node.exec.ExecPool execs = new io.berth.node.exec.ExecPool("node-1", io.berth.node.exec.ExecSettings.DEFAULT);
  private static final ExecutorService blocking = Executors.newFixedThreadPool(2);

  private static final HostId HOST = HostId.of("node-1");
  /**
   * A container of its own for each test: the testkit's journal outlives a test, and an entity of an earlier test
   * may still persist (a reconcile after its restart) while the next one runs.
   */
  private static final java.util.concurrent.atomic.AtomicInteger TESTS = new java.util.concurrent.atomic.AtomicInteger();
  private ContainerId ID;
  private static final CommandContext ALICE = new CommandContext("alice", "testing", "corr-1");

  private RecordingRuntime runtime;
  private EventSourcedBehaviorTestKit<ContainerCommand, ContainerEvent, ContainerState> kit;
  private TestProbe<ContainerReply> probe;

  @AfterAll
  static void shutdown() {
    execs.close();
    testKit.shutdownTestKit();
    blocking.shutdownNow();
  }

  @BeforeEach
  void setUp() {
    ID = ContainerId.of("web-" + TESTS.incrementAndGet());
    runtime = new RecordingRuntime();
    var deps = deps(HOST);
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), ContainerEntity.create(ID.value(), deps));
    probe = testKit.createTestProbe();
  }

  private ContainerEntity.Deps deps(HostId host) {
    ScriptedMigration migration = new ScriptedMigration(runtime, testKit.createTestProbe());
    return new ContainerEntity.Deps(host, runtime, blocking, execs, Clock.systemUTC(), e -> Set.of("berth"), migration, migration,
        io.berth.node.migration.MigrationSettings.DEFAULT);
  }

  private ContainerSpec spec(RestartPolicy restart) {
    return new ContainerSpec(ID, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), Limits.DEFAULT, restart, null, null);
  }

  private void define(RestartPolicy restart) {
    define(restart, 1);
  }

  /** Step 2 of the directory's create saga, under {@code reservation}: the definition and the reservation in one write. */
  private void define(RestartPolicy restart, long reservation) {
    var result = kit.<ContainerReply>runCommand(r -> defineCommand(restart, reservation, r));
    assertInstanceOf(ContainerReply.Done.class, result.reply());
    assertEquals(4, result.events().size());
    assertEquals(new ReservationAccepted(result.events().get(0).meta(), reservation), result.events().get(0));
    assertInstanceOf(ContainerDefined.class, result.events().get(1));
    assertInstanceOf(ContainerPlaced.class, result.events().get(2));
    assertInstanceOf(AddressAssigned.class, result.events().get(3));
    assertEquals(reservation, assertInstanceOf(ContainerState.Defined.class, result.state()).lastReservation());
    // Each event links to the one before it.
    assertEquals(result.events().get(0).meta().principal(), "alice");
    assertEquals(io.berth.protocol.event.EventHashes.hashOf(result.events().get(0)), result.events().get(1).meta().prevHash());
  }

  private ContainerCommand.Define defineCommand(RestartPolicy restart, long reservation, ActorRef<ContainerReply> r) {
    return new ContainerCommand.Define(spec(restart), HOST, "least allocated", "198.18.1.1", 16, false, reservation, ALICE, r);
  }

  private ContainerState.Running start() {
    kit.runCommand(new ContainerCommand.Start(ALICE, probe.ref()));
    ContainerReply.Done done = assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    return assertInstanceOf(ContainerState.Running.class, done.state());
  }

  @Test
  void defineThenStartPersistsIntentThenOutcomeAndRepliesAfterTheOutcome() {
    define(RestartPolicy.NEVER);
    ContainerState.Running running = start();
    assertTrue(running.pid() > 0);
    assertEquals(List.of("start " + ID + " 198.18.1.1/16"), runtime.calls);
    assertInstanceOf(ContainerState.Running.class, kit.getState());
  }

  @Test
  void aCommandIllegalInThePhaseIsRefusedNamingThePhaseAndPersistsNothing() {
    define(RestartPolicy.NEVER);
    var result = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Stop(1000, ALICE, r));
    ContainerReply.Refused refused = assertInstanceOf(ContainerReply.Refused.class, result.reply());
    assertEquals(Code.WRONG_PHASE, refused.rejection().code());
    assertTrue(refused.rejection().message().contains("is defined"), refused.rejection().message());
    assertTrue(result.events().isEmpty());
    assertTrue(runtime.calls.isEmpty());
  }

  @Test
  void unknownContainerIsNotFound() {
    var result = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Start(ALICE, r));
    assertEquals(Code.NOT_FOUND, assertInstanceOf(ContainerReply.Refused.class, result.reply()).rejection().code());
  }

  @Test
  void defineTwiceIsRefused() {
    define(RestartPolicy.NEVER);
    // Another reservation (a create of the same name the directory did not know of) is refused.
    var result = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Define(spec(RestartPolicy.NEVER), HOST, "x", "198.18.1.2", 16, false, 2, ALICE, r));
    assertEquals(Code.ALREADY_EXISTS, assertInstanceOf(ContainerReply.Refused.class, result.reply()).rejection().code());
    assertTrue(result.events().isEmpty());
  }

  @Test
  void stopKillSetLimitsAndDestroyEachRecordIntentAndOutcome() {
    define(RestartPolicy.NEVER);
    start();
    kit.runCommand(new ContainerCommand.SetLimits(Limits.DEFAULT.withPids(64), 2, ALICE, probe.ref()));
    ContainerReply.Done limits = assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(64, ((ContainerState.Live) limits.state()).data().spec().limits().pids());

    kit.runCommand(new ContainerCommand.Stop(1000, ALICE, probe.ref()));
    ContainerReply.Done stopped = assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertInstanceOf(ContainerState.Stopped.class, stopped.state());

    start();
    kit.runCommand(new ContainerCommand.Kill(9, ALICE, probe.ref()));
    ContainerReply.Done killed = assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(9, ((ContainerState.Live) killed.state()).data().lastExit().orElseThrow().signal());

    kit.runCommand(new ContainerCommand.Destroy(ALICE, probe.ref()));
    ContainerReply.Done destroyed = assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertInstanceOf(ContainerState.Destroyed.class, destroyed.state());
    assertTrue(runtime.calls.contains("destroy " + ID), runtime.calls.toString());
  }

  @Test
  void theWeightAndTheGuaranteesAreRecordedAndReachTheRuntime() {
    define(RestartPolicy.NEVER);
    start();
    Limits shared = new Limits(500, 128L << 20, 0, 64, 300, 250, 64L << 20);
    kit.runCommand(new ContainerCommand.SetLimits(shared, 2, ALICE, probe.ref()));
    ContainerReply.Done done = assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(shared, ((ContainerState.Live) done.state()).data().spec().limits());
    assertTrue(runtime.calls.contains("limits " + ID + " " + shared), runtime.calls.toString());
    // The log holds them whole: an entity recovered from its events has the weight and both guarantees.
    assertEquals(shared, ((ContainerState.Live) kit.restart().state()).data().spec().limits());
  }

  @Test
  void aSecondOperationWhileOneIsPendingGetsBusy() {
    define(RestartPolicy.NEVER);
    runtime.failStartWith = null;
    // Persist the intent without letting the outcome in: the start is pending until its message arrives.
    kit.runCommand(new ContainerCommand.Start(ALICE, probe.ref()));
    var second = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Start(ALICE, r));
    ContainerReply reply = second.reply();
    if (reply instanceof ContainerReply.Refused refused) {
      assertTrue(refused.rejection().code() == Code.BUSY || refused.rejection().code() == Code.WRONG_PHASE, refused.toString());
    } else {
      throw new AssertionError("a second start must be refused, got " + reply);
    }
    probe.receiveMessage(Duration.ofSeconds(5));
  }

  @Test
  void aFailedStartIsRecordedAndRepliedAsFailed() {
    define(RestartPolicy.NEVER);
    runtime.failStartWith = new IllegalStateException("start container web-1: /bin/sleep not found in the rootfs");
    kit.runCommand(new ContainerCommand.Start(ALICE, probe.ref()));
    ContainerReply.Refused failed = assertInstanceOf(ContainerReply.Refused.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(Code.FAILED, failed.rejection().code());
    ContainerState.Defined state = assertInstanceOf(ContainerState.Defined.class, kit.getState());
    assertTrue(state.data().lastError().contains("not found"), state.data().lastError());
  }

  @Test
  void anExitIsNoticedAndTheRestartPolicyRestartsWithBackoff() throws Exception {
    define(RestartPolicy.ON_FAILURE);
    long firstPid = start().pid();
    runtime.exit(ID, 3);
    ContainerState.Running again = awaitRunningOtherThan(firstPid, Duration.ofSeconds(10));
    assertEquals(1, again.data().restartAttempts());
    assertEquals(3, again.data().lastExit().orElseThrow().exitCode());
  }

  @Test
  void whileTheNodeMayNotActAnExitIsHeldNotRecordedAndCommandsAreRefused() throws Exception {
    define(RestartPolicy.NEVER);
    long pid = start().pid();
    runtime.mayNotAct = "this node's JVM stood still for 9000 ms so far";
    runtime.exit(ID, 3);
    kit.runCommand(new ContainerCommand.Stop(1000, ALICE, probe.ref()));
    ContainerReply.Refused refused = assertInstanceOf(ContainerReply.Refused.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(Code.UNAVAILABLE, refused.rejection().code());
    assertTrue(refused.rejection().message().contains("stood still"), refused.rejection().message());
    // Three release rounds: the exit is still held, nothing recorded.
    Thread.sleep(ContainerEntity.HOLD.multipliedBy(3).toMillis());
    ContainerState.Running still = assertInstanceOf(ContainerState.Running.class, kit.getState(), "the exit is not recorded while held");
    assertEquals(pid, still.pid());
    runtime.mayNotAct = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!(kit.getState() instanceof ContainerState.Stopped) && System.nanoTime() < deadline) Thread.sleep(50);
    ContainerState.Stopped stopped = assertInstanceOf(ContainerState.Stopped.class, kit.getState(), "the held exit is recorded once the node may act");
    assertEquals(3, stopped.data().lastExit().orElseThrow().exitCode());
  }

  @Test
  void aRebootFromInsideRunsItAgainInPlaceWhateverItsPolicy() throws Exception {
    define(RestartPolicy.NEVER);
    long firstPid = start().pid();
    runtime.reboot(ID);
    ContainerState.Running again = awaitRunningOtherThan(firstPid, Duration.ofSeconds(5));
    assertEquals(0, again.data().lastExit().orElseThrow().exitCode(), "a reboot is a clean end");
    assertEquals(2, runtime.calls.stream().filter(c -> c.startsWith("start")).count(), "started again: " + runtime.calls);
  }

  @Test
  void recoveryAdoptsAContainerStillRunning() {
    define(RestartPolicy.NEVER);
    long pid = start().pid();
    kit.restart();
    ContainerState.Running adopted = awaitRunningOtherThan(-1, Duration.ofSeconds(5));
    assertEquals(pid, adopted.pid());
    assertEquals(1, runtime.calls.stream().filter(c -> c.startsWith("start")).count(), "adopted, not restarted: " + runtime.calls);
  }

  @Test
  void aContainerLostWithItsHostRunsAgainAfterRecovery() {
    define(RestartPolicy.NEVER);
    long pid = start().pid();
    // The host went down under it: the init is gone and no exit was recorded.
    runtime.running.remove(ID);
    kit.restart();
    ContainerState.Running again = awaitRunningOtherThan(pid, Duration.ofSeconds(10));
    assertTrue(again.pid() > pid);
  }

  @Test
  void aContainerThatExitedWhileNobodyWatchedIsStoppedPerItsPolicy() throws Exception {
    define(RestartPolicy.NEVER);
    start();
    runtime.running.remove(ID);
    runtime.lastExits.put(ID, new io.berth.node.agent.ContainerRuntime.Exit(0, 0));
    kit.restart();
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!(kit.getState() instanceof ContainerState.Stopped) && System.nanoTime() < deadline) Thread.sleep(50);
    ContainerState.Stopped stopped = assertInstanceOf(ContainerState.Stopped.class, kit.getState());
    assertEquals(0, stopped.data().lastExit().orElseThrow().exitCode());
    assertEquals(1, runtime.calls.stream().filter(c -> c.startsWith("start")).count(), "not restarted: " + runtime.calls);
  }

  // --- the directory's sagas: the container's side ------------------------------------------------

  @Test
  void aCopyOfTheDefineIsAnsweredFromTheStateAndPersistsNothing() {
    define(RestartPolicy.NEVER, 3);
    var copy = kit.<ContainerReply>runCommand(r -> defineCommand(RestartPolicy.NEVER, 3, r));
    assertInstanceOf(ContainerState.Defined.class, assertInstanceOf(ContainerReply.Done.class, copy.reply()).state());
    assertTrue(copy.events().isEmpty(), "defined once: " + copy.events());
  }

  @Test
  void aCopyOfADefineWhoseStartIsUnderWayGetsTheStartsOutcome() throws Exception {
    runtime.holdStarts = new java.util.concurrent.CountDownLatch(1);
    kit.runCommand(new ContainerCommand.Define(spec(RestartPolicy.NEVER), HOST, "x", "198.18.1.1", 16, true, 1, ALICE, probe.ref()));
    TestProbe<ContainerReply> later = testKit.createTestProbe();
    var copy = kit.runCommand(new ContainerCommand.Define(spec(RestartPolicy.NEVER), HOST, "x", "198.18.1.1", 16, true, 1, ALICE, later.ref()));
    assertTrue(copy.events().isEmpty());
    runtime.holdStarts.countDown();
    assertInstanceOf(ContainerState.Running.class, assertInstanceOf(ContainerReply.Done.class, later.receiveMessage(Duration.ofSeconds(5))).state());
    assertEquals(1, runtime.calls.stream().filter(c -> c.startsWith("start")).count(), "started once: " + runtime.calls);
  }

  @Test
  void settleDeclinesAReservationNotTakenPartInForEverAndAnswersTheState() {
    var settled = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Settle(5, ALICE, r));
    ContainerState.Empty absent = assertInstanceOf(ContainerState.Empty.class, assertInstanceOf(ContainerReply.Done.class, settled.reply()).state());
    assertEquals(5, absent.lastReservation());
    assertEquals(List.of(new ReservationDeclined(settled.events().get(0).meta(), 5)), settled.events());
    // Asked again: the same answer, nothing more persisted.
    assertTrue(kit.<ContainerReply>runCommand(r -> new ContainerCommand.Settle(5, ALICE, r)).events().isEmpty());
    // A late copy of reservation 5's define, or one of an older reservation, is refused and persists nothing.
    for (long late : new long[] {5, 4}) {
      var refused = kit.<ContainerReply>runCommand(r -> defineCommand(RestartPolicy.NEVER, late, r));
      assertEquals(Code.WRONG_PHASE, assertInstanceOf(ContainerReply.Refused.class, refused.reply()).rejection().code(), "reservation " + late);
      assertTrue(refused.events().isEmpty());
    }
    // The fence survives recovery; a newer reservation defines the container.
    kit.restart();
    assertEquals(5, kit.getState().lastReservation());
    define(RestartPolicy.NEVER, 6);
    assertTrue(runtime.calls.isEmpty(), "nothing touched the kernel: " + runtime.calls);
  }

  @Test
  void settleOfAReservationTakenPartInAnswersTheStateAndPersistsNothing() {
    define(RestartPolicy.NEVER, 2);
    var settled = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Settle(2, ALICE, r));
    ContainerState.Defined defined = assertInstanceOf(ContainerState.Defined.class, assertInstanceOf(ContainerReply.Done.class, settled.reply()).state());
    assertEquals(2, defined.lastReservation());
    assertTrue(settled.events().isEmpty());
  }

  @Test
  void aLimitsChangeUnderWayIsSettledOnlyOnceItsOutcomeIsKnown() {
    define(RestartPolicy.NEVER, 1);
    start();
    runtime.holdLimits = new java.util.concurrent.CountDownLatch(1);
    Limits bigger = Limits.DEFAULT.withPids(1024);
    TestProbe<ContainerReply> first = testKit.createTestProbe();
    var change = kit.runCommand(new ContainerCommand.SetLimits(bigger, 2, ALICE, first.ref()));
    assertEquals(2, change.events().size(), "the reservation and the intent in one write: " + change.events());
    assertEquals(new ReservationAccepted(change.events().get(0).meta(), 2), change.events().get(0));
    var busy = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Settle(2, ALICE, r));
    assertEquals(Code.BUSY, assertInstanceOf(ContainerReply.Refused.class, busy.reply()).rejection().code());
    // A copy of the change gets its outcome (the first asker stopped waiting).
    assertTrue(kit.runCommand(new ContainerCommand.SetLimits(bigger, 2, ALICE, probe.ref())).events().isEmpty());
    runtime.holdLimits.countDown();
    ContainerReply.Done done = assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(bigger, ((ContainerState.Live) done.state()).data().spec().limits());
    var settled = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Settle(2, ALICE, r));
    assertEquals(bigger, ((ContainerState.Live) ((ContainerReply.Done) settled.reply()).state()).data().spec().limits());
    assertTrue(settled.events().isEmpty());
    // A late copy of an older reservation is refused.
    var stale = kit.<ContainerReply>runCommand(r -> new ContainerCommand.SetLimits(Limits.DEFAULT, 1, ALICE, r));
    assertEquals(Code.WRONG_PHASE, assertInstanceOf(ContainerReply.Refused.class, stale.reply()).rejection().code());
    assertTrue(stale.events().isEmpty());
    assertEquals(1, runtime.calls.stream().filter(c -> c.startsWith("limits")).count(), "applied once: " + runtime.calls);
  }

  @Test
  void aDefineForAnotherHostIsRefusedAndTheEntityStopsWithoutTouchingAnything() {
    var deps = deps(HostId.of("node-9"));
    ActorRef<ContainerCommand> entity = testKit.spawn(ContainerEntity.create("stray-1", deps));
    ContainerSpec stray = new ContainerSpec(ContainerId.of("stray-1"), TemplateRef.of("busybox"), null, List.of("/bin/true"), Limits.DEFAULT,
        RestartPolicy.NEVER, null, null);
    entity.tell(new ContainerCommand.Define(stray, HOST, "x", "198.18.1.1", 16, true, 1, ALICE, probe.ref()));
    ContainerReply.Refused refused = assertInstanceOf(ContainerReply.Refused.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(Code.UNAVAILABLE, refused.rejection().code());
    assertTrue(refused.rejection().message().contains("placed on node-1 but its entity started on node-9"), refused.toString());
    probe.expectTerminated(entity, Duration.ofSeconds(5));
    assertTrue(runtime.calls.isEmpty(), runtime.calls.toString());
  }

  // --- failover ---------------------------------------------------------------------------------

  private ContainerSpec sharedSpec() {
    return new ContainerSpec(ID, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), Limits.DEFAULT, RestartPolicy.ALWAYS, null, null,
        false, io.berth.protocol.spec.Storage.SHARED, 5);
  }

  @Test
  void aFailOverMovesARunningContainerToItsTargetWithAPendingStartAndACopyIsAnsweredFromTheState() {
    kit.<ContainerReply>runCommand(r -> new ContainerCommand.Define(sharedSpec(), HOST, "least allocated", "198.18.1.1", 16, true, 1, ALICE, r));
    assertInstanceOf(ContainerState.Running.class, awaitState(ContainerState.Running.class));
    HostId target = HostId.of("node-2");
    // The survivors ask the entity wherever its shard now is (here, where it was).
    var elsewhere = kit;
    var wrongHost = elsewhere.<ContainerReply>runCommand(r -> new ContainerCommand.FailOver(HostId.of("node-7"), target, "x", 2, ALICE, r));
    assertEquals(Code.WRONG_PHASE, assertInstanceOf(ContainerReply.Refused.class, wrongHost.reply()).rejection().code());
    assertTrue(wrongHost.events().isEmpty(), "a refused failover persists nothing");
    var moved = elsewhere.<ContainerReply>runCommand(r -> new ContainerCommand.FailOver(HOST, target, "failover from fenced host node-1", 2, ALICE, r));
    assertEquals(2, moved.events().size(), moved.events().toString());
    assertInstanceOf(ReservationAccepted.class, moved.events().get(0));
    ContainerFailedOver e = assertInstanceOf(ContainerFailedOver.class, moved.events().get(1));
    assertEquals(HOST, e.from());
    assertEquals(target, e.to());
    ContainerState.Stopped after = assertInstanceOf(ContainerState.Stopped.class, moved.state());
    assertEquals(java.util.Optional.of(target), after.data().host());
    assertEquals(Operation.START, after.data().pending().orElseThrow().operation(), "it ran: a start is pending on its new host");
    assertEquals(2, after.lastReservation());
    var copy = elsewhere.<ContainerReply>runCommand(r -> new ContainerCommand.FailOver(HOST, target, "again", 2, ALICE, r));
    assertTrue(copy.events().isEmpty(), "a copy persists nothing");
    assertInstanceOf(ContainerReply.Done.class, copy.reply());
  }

  // --- checkpoints --------------------------------------------------------------------------------

  private ContainerSpec checkpointedSpec() {
    return sharedSpec().withCheckpointEvery(Duration.ofSeconds(30));
  }

  @Test
  void aScheduleIsSetByItsRulesRecordedOnceAndHandedToTheHostsScheduler() {
    kit.<ContainerReply>runCommand(r -> new ContainerCommand.Define(sharedSpec(), HOST, "least allocated", "198.18.1.1", 16, true, 1, ALICE, r));
    awaitState(ContainerState.Running.class);
    assertFalse(runtime.calls.stream().anyMatch(c -> c.startsWith("schedule")), "no schedule, nothing scheduled: " + runtime.calls);
    for (Duration bad : List.of(Duration.ofSeconds(5), Duration.ofHours(25))) {
      var refused = kit.<ContainerReply>runCommand(r -> new ContainerCommand.SetCheckpointSchedule(bad, ALICE, r));
      var rejection = assertInstanceOf(ContainerReply.Refused.class, refused.reply()).rejection();
      assertEquals(Code.INVALID, rejection.code());
      assertEquals("checkpointEvery", rejection.field());
      assertTrue(rejection.message().contains("from 10s to 24h"), rejection.message());
      assertTrue(refused.events().isEmpty(), "a refused schedule persists nothing");
    }
    var set = kit.<ContainerReply>runCommand(r -> new ContainerCommand.SetCheckpointSchedule(Duration.ofSeconds(30), ALICE, r));
    assertInstanceOf(ContainerReply.Done.class, set.reply());
    assertEquals(Duration.ofSeconds(30), assertInstanceOf(CheckpointScheduleSet.class, set.events().get(0)).every());
    assertEquals(Duration.ofSeconds(30), ((ContainerState.Live) set.state()).data().spec().checkpointEvery());
    assertEquals(Duration.ofSeconds(30), runtime.schedules.get(ID), "its host's scheduler takes it");
    var again = kit.<ContainerReply>runCommand(r -> new ContainerCommand.SetCheckpointSchedule(Duration.ofSeconds(30), ALICE, r));
    assertTrue(again.events().isEmpty(), "the same schedule again records nothing");
    var off = kit.<ContainerReply>runCommand(r -> new ContainerCommand.SetCheckpointSchedule(Duration.ZERO, ALICE, r));
    assertEquals(Duration.ZERO, assertInstanceOf(CheckpointScheduleSet.class, off.events().get(0)).every());
    assertFalse(runtime.schedules.containsKey(ID), "off: no more checkpoints");
    assertTrue(runtime.calls.contains("schedule " + ID + " PT0S"), runtime.calls.toString());
  }

  @Test
  void aLocalContainersScheduleIsRefusedNamingSharedStorage() {
    define(RestartPolicy.NEVER);
    var refused = kit.<ContainerReply>runCommand(r -> new ContainerCommand.SetCheckpointSchedule(Duration.ofSeconds(30), ALICE, r));
    var rejection = assertInstanceOf(ContainerReply.Refused.class, refused.reply()).rejection();
    assertEquals("checkpointEvery", rejection.field());
    assertTrue(rejection.message().contains("needs --storage shared"), rejection.message());
    assertTrue(refused.events().isEmpty());
  }

  @Test
  void aStartedContainerWithASchedulesIsScheduledOnItsHost() {
    kit.<ContainerReply>runCommand(r -> new ContainerCommand.Define(checkpointedSpec(), HOST, "x", "198.18.1.1", 16, true, 1, ALICE, r));
    awaitState(ContainerState.Running.class);
    assertEquals(Duration.ofSeconds(30), runtime.schedules.get(ID), runtime.calls.toString());
  }

  /** Runs a checkpointed container on HOST, then fails it over to node-2 with {@code latest} as its newest checkpoint. */
  private java.util.List<ContainerEvent> failOverWith(java.util.function.Function<ContainerState.Running, ContainerRuntime.CheckpointFacts> latest) {
    kit.<ContainerReply>runCommand(r -> new ContainerCommand.Define(checkpointedSpec(), HOST, "x", "198.18.1.1", 16, true, 1, ALICE, r));
    ContainerState.Running running = awaitState(ContainerState.Running.class);
    runtime.latest = latest.apply(running);
    kit.runCommand(new ContainerCommand.FailOver(HOST, HostId.of("node-2"), "failover from fenced host node-1", 2, ALICE, probe.ref()));
    assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    return persisted();
  }

  private java.util.List<ContainerEvent> persisted() {
    return kit.persistenceTestKit().persistedInStorage("container|" + ID).stream().map(ContainerEvent.class::cast).toList();
  }

  @Test
  void aFailOverRestoresTheLatestCheckpointOfTheCopyThatRanAndNamesItsAge() {
    java.time.Instant[] taken = new java.time.Instant[1];
    var events = failOverWith(r -> new ContainerRuntime.CheckpointFacts(7, taken[0] = r.since(), 81, HOST.value(), r.pid()));
    ContainerFailedOver e = assertInstanceOf(ContainerFailedOver.class, events.get(events.size() - 1));
    assertEquals(7, e.checkpoint());
    assertEquals(taken[0], e.checkpointTakenAt());
    assertEquals(Duration.between(taken[0], e.meta().at()).toMillis(), e.checkpointAgeMillis(), "its age when it failed over");
    assertEquals(7, ((ContainerState.Live) kit.getState()).data().restoreCheckpoint(), kit.getState().toString());
    // On its new host (where nothing of it runs yet) the pending start restores it.
    runtime.running.remove(ID);
    HostId target = HostId.of("node-2");
    ActorRef<ContainerCommand> there = testKit.spawn(ContainerEntity.create(ID.value(), deps(target)));
    try {
      there.tell(new ContainerCommand.Get(probe.ref()));
      probe.receiveMessage(Duration.ofSeconds(5));
      awaitCall("restore " + ID + " checkpoint 7");
      awaitStartedOnTarget();
      assertFalse(persisted().stream().anyMatch(x -> x instanceof CheckpointRestoreFailed), persisted().toString());
      assertEquals(Duration.ofSeconds(30), runtime.schedules.get(ID), "checkpointed on its new host too");
    } finally {
      testKit.stop(there);
    }
  }

  @Test
  void aRestoreThatFailsStartsColdAndRecordsWhy() {
    var events = failOverWith(r -> new ContainerRuntime.CheckpointFacts(3, java.time.Instant.now(), 81, HOST.value(), r.pid()));
    assertEquals(3, assertInstanceOf(ContainerFailedOver.class, events.get(events.size() - 1)).checkpoint());
    runtime.restoreFails = "restore of checkpoint 3 failed: criu restore: File /var/log/app has bad size";
    runtime.running.remove(ID);
    ActorRef<ContainerCommand> there = testKit.spawn(ContainerEntity.create(ID.value(), deps(HostId.of("node-2"))));
    try {
      there.tell(new ContainerCommand.Get(probe.ref()));
      probe.receiveMessage(Duration.ofSeconds(5));
      awaitStartedOnTarget();
      var all = persisted();
      CheckpointRestoreFailed failed = all.stream().filter(CheckpointRestoreFailed.class::isInstance).map(CheckpointRestoreFailed.class::cast)
          .findFirst().orElseThrow(() -> new AssertionError("no CheckpointRestoreFailed in " + all));
      assertEquals(3, failed.checkpoint());
      assertTrue(failed.cause().contains("bad size"), failed.cause());
      assertInstanceOf(ContainerStarted.class, all.get(all.indexOf(failed) + 1), "then started cold, in the same write");
    } finally {
      testKit.stop(there);
    }
  }

  @Test
  void aCheckpointOfAnotherIncarnationIsNotRestored() {
    var events = failOverWith(r -> new ContainerRuntime.CheckpointFacts(5, java.time.Instant.now(), 81, HOST.value(), r.pid() + 1));
    ContainerFailedOver e = assertInstanceOf(ContainerFailedOver.class, events.get(events.size() - 1));
    assertEquals(0, e.checkpoint(), "a checkpoint of another init is not of the copy that ran");
    assertEquals(0, ((ContainerState.Live) kit.getState()).data().restoreCheckpoint());
  }

  private void awaitCall(String call) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!runtime.calls.contains(call) && System.nanoTime() < deadline) sleep(20);
    assertTrue(runtime.calls.contains(call), "no '" + call + "' within 5 s: " + runtime.calls);
  }

  /** Waits for its start on node-2, the failover's target (the start on node-1 before it does not count). */
  private void awaitStartedOnTarget() {
    java.util.function.BooleanSupplier started = () -> persisted().stream()
        .anyMatch(e -> e instanceof ContainerStarted s && s.host().equals(HostId.of("node-2")));
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!started.getAsBoolean() && System.nanoTime() < deadline) sleep(20);
    assertTrue(started.getAsBoolean(), "not started on node-2 within 5 s: " + persisted());
  }

  @Test
  void aContainerOnTheHostItsEntityRunsOnIsNeverMarkedLost() {
    define(RestartPolicy.NEVER);
    start();
    var refused = kit.<ContainerReply>runCommand(r -> new ContainerCommand.MarkLost(HOST, "host node-1 was fenced", ALICE, r));
    assertTrue(assertInstanceOf(ContainerReply.Refused.class, refused.reply()).rejection().message().contains("is back"), refused.toString());
    assertTrue(refused.events().isEmpty());
  }

  @Test
  void aLostContainerRefusesEverythingButARecoveryWhichRunsItOnTheNewHost() {
    define(RestartPolicy.NEVER);
    start();
    // Its host is gone: the entity recovers on a survivor (node-2) from the same log.
    HostId survivor = HostId.of("node-2");
    ActorRef<ContainerCommand> there = testKit.spawn(ContainerEntity.create(ID.value(), deps(survivor)));
    there.tell(new ContainerCommand.MarkLost(HOST, "host node-1 was fenced", ALICE, probe.ref()));
    ContainerState.Lost l = assertInstanceOf(ContainerState.Lost.class,
        assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5))).state());
    assertTrue(l.wasRunning());
    assertEquals("lost", l.phase());
    there.tell(new ContainerCommand.Start(ALICE, probe.ref()));
    ContainerReply.Refused refused = assertInstanceOf(ContainerReply.Refused.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertTrue(refused.rejection().message().contains("berth ct recover " + ID + " --empty"), refused.toString());
    int before = runtime.calls.size();
    there.tell(new ContainerCommand.Recover(survivor, true, "ct recover --empty", 2, ALICE, probe.ref()));
    ContainerState recovered = assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5))).state();
    assertEquals(java.util.Optional.of(survivor), ((ContainerState.Live) recovered).data().host());
    // The entity is on the recovered container's new host: it starts it there at once.
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (runtime.calls.size() == before && System.nanoTime() < deadline) sleep(20);
    assertEquals("start " + ID + " 198.18.1.1/16", runtime.calls.get(before), runtime.calls.toString());
    there.tell(new ContainerCommand.Recover(survivor, true, "a copy", 2, ALICE, probe.ref()));
    assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)), "a copy is answered from the state");
    testKit.stop(there);
  }

  @Test
  void aRecoveryConfirmedWhereTheEntityIsNotOnTheNewHostWakesItThereInsteadOfStartingIt() {
    define(RestartPolicy.NEVER);
    start();
    // The entity answers on node-3 while the recovery puts the container on node-2: the start waits for the shard's
    // move, and a message must reach the entity there (one sent during the hand-off can be dropped).
    HostId elsewhere = HostId.of("node-3");
    ScriptedMigration migration = new ScriptedMigration(runtime, testKit.createTestProbe());
    ActorRef<ContainerCommand> onNode3 = testKit.spawn(ContainerEntity.create(ID.value(), new ContainerEntity.Deps(elsewhere, runtime, blocking,
        execs, Clock.systemUTC(), e -> Set.of("berth"), migration, migration, io.berth.node.migration.MigrationSettings.DEFAULT)));
    onNode3.tell(new ContainerCommand.MarkLost(HOST, "host node-1 was fenced", ALICE, probe.ref()));
    assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    int before = runtime.calls.size();
    onNode3.tell(new ContainerCommand.Recover(HostId.of("node-2"), true, "ct recover --empty", 2, ALICE, probe.ref()));
    assertInstanceOf(ContainerReply.Done.class, probe.receiveMessage(Duration.ofSeconds(5)));
    assertEquals(List.of("wake " + ID), migration.calls, "woken where its shard goes");
    assertEquals(before, runtime.calls.size(), "nothing started on node-3: " + runtime.calls);
    testKit.stop(onNode3);
  }

  private <S extends ContainerState> S awaitState(Class<S> type) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline) {
      if (type.isInstance(kit.getState())) return type.cast(kit.getState());
      sleep(20);
    }
    throw new AssertionError("the entity did not become " + type.getSimpleName() + " within 5 s: it is " + kit.getState());
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private ContainerState.Running awaitRunningOtherThan(long pid, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    ContainerState last = null;
    while (System.nanoTime() < deadline) {
      last = kit.getState();
      if (last instanceof ContainerState.Running r && r.pid() != pid) return r;
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new AssertionError("container did not run (again) within " + within + "; last state " + last);
  }
}
