package io.berth.node.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import io.berth.node.migration.MigrationSettings;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.container.PostCopy;
import io.berth.protocol.container.MigrationRecord;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The migration saga at the entity level: its steps as events, its compensations, and a crash of the entity at
 * each step (the testkit's restart: a new incarnation recovers from the log), with the source, the target and
 * the directory as a scripted double ({@link ScriptedMigration}). Whatever happens: exactly one copy runs (on the
 * source or on the target), and the log says which and why.
 */
class ContainerMigrationTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(PersistenceTestKitPlugin.getInstance().config())
          .withFallback(ConfigFactory.parseString("pekko.actor.serialize-messages = on")).withFallback(ConfigFactory.load()));
  private static final io.berth.node.exec.ExecPool execs = new io.berth.node.exec.ExecPool("node-1", io.berth.node.exec.ExecSettings.DEFAULT);
  private static final ExecutorService blocking = Executors.newFixedThreadPool(4);
  private static final HostId SOURCE = HostId.of("node-1");
  private static final HostId TARGET = HostId.of("node-2");
  private static final AtomicInteger TESTS = new AtomicInteger();
  private static final CommandContext ALICE = new CommandContext("alice", "maintenance", "corr-7");

  private ContainerId id;
  private RecordingRuntime runtime;
  private ScriptedMigration migration;
  private EventSourcedBehaviorTestKit<ContainerCommand, ContainerEvent, ContainerState> kit;
  private MigrationSettings settings;
  private TestProbe<ContainerReply> probe;

  @AfterAll
  static void shutdown() {
    execs.close();
    testKit.shutdownTestKit();
    blocking.shutdownNow();
  }

  @BeforeEach
  void setUp() {
    id = ContainerId.of("mig-" + TESTS.incrementAndGet());
    runtime = new RecordingRuntime();
    migration = new ScriptedMigration(runtime, testKit.createTestProbe());
    settings = new MigrationSettings(Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofSeconds(10), 0,
        java.nio.file.Path.of("/run/berth/test-migrations"), MigrationSettings.POST_COPY_FROM);
    var deps = new ContainerEntity.Deps(SOURCE, runtime, blocking, execs, Clock.systemUTC(), e -> Set.of("berth"), migration, migration, settings);
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), ContainerEntity.create(id.value(), deps));
    probe = testKit.createTestProbe();
  }

  @AfterEach
  void releaseHeldSteps() {
    migration.release();
  }

  private long runningOnSource() {
    ContainerSpec spec = new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), Limits.DEFAULT,
        RestartPolicy.NEVER, null, null);
    var defined = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Define(spec, SOURCE, "pinned", "198.18.1.9", 16, true, 1, ALICE, r));
    assertInstanceOf(ContainerReply.Done.class, defined.reply());
    ContainerState.Running r = awaitPhase(ContainerState.Running.class);
    return r.pid();
  }

  private ContainerReply migrate(MigrationMode mode, boolean forced) {
    return migrate(mode, forced, PostCopy.OFF);
  }

  private ContainerReply migrate(MigrationMode mode, boolean forced, PostCopy postCopy) {
    return kit.<ContainerReply>runCommand(r -> new ContainerCommand.Migrate(TARGET, mode, forced, postCopy, "least allocated", 2, ALICE, r)).reply();
  }

  @Test
  void aPostCopyMoveRecordsItsMemoryTransferBeforeTheRestore() {
    runningOnSource();
    migrate(MigrationMode.LIVE, false, PostCopy.ON);
    ContainerState.Running after = awaitSettled(ContainerState.Running.class);
    assertEquals(TARGET, after.data().host().orElseThrow());
    assertEquals(5000, after.pid(), "the restored init runs on: its memory arrived whole");
    assertEquals("127.0.0.1:2", migration.lazyPagesFrom, "the restore was told where its pages come from");
    MigrationRecord last = after.data().lastMigration().orElseThrow();
    assertTrue(last.postCopied() && last.memoryLost().isEmpty(), last.toString());
    assertEquals((4 << 20) + (2 << 20) + (8 << 20), last.bytes(), "pre-copy, images and the post-copied pages");
    assertEquals(List.of("ReservationAccepted", "MigrationRequested", "MigrationPreflightPassed", "RootfsPreCopied", "CheckpointTaken",
        "ImageTransferred", "MemoryPostCopied", "ContainerRestored", "ContainerMoved", "MigrationCompleted"), migrationEvents());
    assertEquals(List.of("prepare", "pre-copy " + id, "freeze " + id + " (post-copy)", "restore", "commit " + id, "awaitpostcopy",
        "remove " + id, "settle completed 2", "wake " + id), migration.calls);
  }

  @Test
  void aPostCopyCutShortRecordsTheLossAndTheCopyStartedAgainFromItsDisk() {
    runningOnSource();
    migration.loseMemory = "criu lazy-pages exited 1 before every page arrived (10 of 2048 pages)";
    migrate(MigrationMode.LIVE, false, PostCopy.ON);
    ContainerState.Running after = awaitSettled(ContainerState.Running.class);
    assertEquals(TARGET, after.data().host().orElseThrow());
    assertEquals(5001, after.pid(), "started again from its disk: a new init");
    MigrationRecord last = after.data().lastMigration().orElseThrow();
    assertEquals("completed", last.outcome());
    assertEquals(migration.loseMemory, last.memoryLost(), "the loss is in the record");
    assertTrue(migrationEvents().contains("MemoryPostCopied"), migrationEvents().toString());
  }

  @Test
  void postCopyOnWhereTheTargetCannotIsRefusedAndNothingChanges() {
    long pid = runningOnSource();
    migration.postCopyRefusal = "this kernel has no /dev/userfaultfd";
    migrate(MigrationMode.LIVE, false, PostCopy.ON);
    ContainerState.Running refused = awaitSettled(ContainerState.Running.class);
    assertEquals(SOURCE, refused.data().host().orElseThrow());
    assertEquals(pid, refused.pid(), "the same init: nothing was frozen");
    String cause = refused.data().lastMigration().orElseThrow().cause();
    assertTrue(cause.contains("no /dev/userfaultfd") && cause.contains("--post-copy on"), cause);
    assertFalse(migration.calls.stream().anyMatch(c -> c.startsWith("freeze")), migration.calls.toString());
  }

  @Test
  void postCopyAutoWhereTheTargetCannotMovesThePagesBeforeTheRestore() {
    runningOnSource();
    migration.postCopyRefusal = "this kernel has no /dev/userfaultfd";
    migrate(MigrationMode.LIVE, false, PostCopy.AUTO);
    ContainerState.Running after = awaitSettled(ContainerState.Running.class);
    assertEquals(TARGET, after.data().host().orElseThrow());
    assertEquals("", migration.lazyPagesFrom, "no post-copy");
    assertFalse(after.data().lastMigration().orElseThrow().postCopied());
  }

  @Test
  void aLiveMoveRecordsEveryStepAndEndsRunningOnTheTarget() {
    runningOnSource();
    ContainerReply accepted = migrate(MigrationMode.LIVE, false);
    assertInstanceOf(ContainerState.Migrating.class, assertInstanceOf(ContainerReply.Done.class, accepted).state());
    ContainerState.Running after = awaitSettled(ContainerState.Running.class);
    assertEquals(TARGET, after.data().host().orElseThrow());
    assertEquals(5000, after.pid(), "the pid of the restored init on the target");
    MigrationRecord last = after.data().lastMigration().orElseThrow();
    assertEquals("completed", last.outcome());
    assertEquals(MigrationMode.LIVE, last.mode());
    assertEquals((4 << 20) + (2 << 20), last.bytes());
    assertTrue(last.frozenMillis() >= 0, "frozen time measured: " + last);
    assertEquals(List.of("ReservationAccepted", "MigrationRequested", "MigrationPreflightPassed", "RootfsPreCopied", "CheckpointTaken",
        "ImageTransferred", "ContainerRestored", "ContainerMoved", "MigrationCompleted"), migrationEvents());
    assertEquals(List.of("prepare", "pre-copy " + id, "freeze " + id, "restore", "commit " + id, "remove " + id, "settle completed 2",
        "wake " + id), migration.calls);
    assertFalse(runtime.running.containsKey(id), "nothing of it runs on the source");
  }

  @Test
  void aRestoreTheTargetRefusesResumesTheHeldSourceWhereItWas() {
    long pid = runningOnSource();
    migration.failRestoreWith = "criu restore: no space left";
    migrate(MigrationMode.LIVE, false);
    ContainerState.Running after = awaitSettled(ContainerState.Running.class);
    assertEquals(SOURCE, after.data().host().orElseThrow());
    assertEquals(pid, after.pid(), "the same init: resumed, not restarted");
    MigrationRecord last = after.data().lastMigration().orElseThrow();
    assertEquals("aborted", last.outcome());
    assertTrue(last.cause().contains("no space left") && last.cause().contains("resumed where it was"), last.cause());
    assertTrue(migration.calls.containsAll(List.of("discard", "resume " + id, "settle aborted 2")), migration.calls.toString());
    assertFalse(migration.targetRuns.containsKey(id));
  }

  @Test
  void anUndoResumesTheSourceOnlyOnceTheTargetSaidItDiscardedWhatItMade() {
    long pid = runningOnSource();
    migration.failRestoreWith = "criu restore: no space left";
    // The first discard's answer is lost (the target's node died, or the network): the source must stay held, since
    // the target may still run a copy, until a discard is answered.
    migration.answerLost.add("discard");
    migrate(MigrationMode.LIVE, false);
    ContainerState.Running after = awaitSettled(ContainerState.Running.class);
    assertEquals(SOURCE, after.data().host().orElseThrow());
    assertEquals(pid, after.pid(), "resumed where it was");
    List<String> calls = List.copyOf(migration.calls);
    int firstDiscard = calls.indexOf("discard");
    int lastDiscard = calls.lastIndexOf("discard");
    int resume = calls.indexOf("resume " + id);
    assertTrue(firstDiscard >= 0 && lastDiscard > firstDiscard, "the discard was asked again after its answer was lost: " + calls);
    assertTrue(resume > lastDiscard, "the source resumed only after the target answered the discard: " + calls);
  }

  @Test
  void whenLiveCannotWorkItGoesColdUnlessLiveWasAskedFor() {
    long pid = runningOnSource();
    migration.liveRefusal = "criu check: no userfaultfd";
    migrate(MigrationMode.LIVE, true);
    ContainerState.Running refused = awaitSettled(ContainerState.Running.class);
    assertEquals(pid, refused.pid());
    assertTrue(refused.data().lastMigration().orElseThrow().cause().contains("--live was asked for"), refused.data().lastMigration().toString());
    assertFalse(migration.calls.stream().anyMatch(c -> c.startsWith("freeze") || c.startsWith("cold-stop")), migration.calls.toString());

    var again = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Migrate(TARGET, MigrationMode.LIVE, false, PostCopy.OFF, "least allocated",
        3, ALICE, r));
    assertInstanceOf(ContainerReply.Done.class, again.reply());
    ContainerState.Running moved = awaitSettled(ContainerState.Running.class);
    MigrationRecord last = moved.data().lastMigration().orElseThrow();
    assertEquals("completed", last.outcome());
    assertEquals(MigrationMode.COLD, last.mode());
    assertEquals("criu check: no userfaultfd", last.fallbackReason());
    assertTrue(migration.calls.contains("cold-stop " + id), migration.calls.toString());
  }

  @Test
  void aLostRestoreAnswerIsSettledByAskingTheTargetNeverByTheTimeout() {
    runningOnSource();
    migration.answerLost.add("restore");
    migrate(MigrationMode.LIVE, false);
    ContainerState.Running after = awaitSettled(ContainerState.Running.class);
    assertEquals(TARGET, after.data().host().orElseThrow(), "the target had restored it: the move completes");
    assertTrue(migration.calls.contains("status"), migration.calls.toString());
    assertFalse(migration.calls.contains("resume " + id), "the source was never resumed: " + migration.calls);
  }

  @Test
  void anotherOperationDuringAMoveIsRefusedAsBusy() {
    runningOnSource();
    migration.holdAt.put("pre-copy", new CountDownLatch(1));
    migrate(MigrationMode.LIVE, false);
    var stop = kit.<ContainerReply>runCommand(r -> new ContainerCommand.Stop(1000, ALICE, r));
    assertEquals(io.berth.protocol.reply.Rejection.Code.BUSY, assertInstanceOf(ContainerReply.Refused.class, stop.reply()).rejection().code());
  }

  /**
   * The source's node dies after the target restored it, and the container's shard is allocated to a third host: the
   * entity recovered there asks the source host's agent to remove the source's copy (never removes anything of its
   * own host), and the move completes on the target.
   */
  @Test
  void aSagaRecoveredOnAThirdHostAsksTheSourceHostToRemoveItsCopy() {
    runningOnSource();
    migration.holdAt.put("remove", new CountDownLatch(1));
    migrate(MigrationMode.LIVE, false);
    awaitCall("remove");
    // The same log, replayed by an entity on node-3 (the source's node is gone; its held step never returns).
    migration.holdAt.remove("remove");
    recoverOn(HostId.of("node-3"), runtime);
    ContainerState.Running after = awaitSettled(ContainerState.Running.class);
    assertEquals(TARGET, after.data().host().orElseThrow());
    assertTrue(migration.calls.contains("onsource"), "the source host's agent was asked: " + migration.calls);
    assertEquals("completed", after.data().lastMigration().orElseThrow().outcome());
  }

  /**
   * The source's node dies after the target restored it, and the entity recovers on the target's node, whose kernel
   * lost the restored copy meanwhile (`berth down` took it): the move completes, and then the entity observes its own
   * host and runs it again there; had the copy survived, it adopts and watches it. Before, it showed running with no
   * process behind it until someone stopped it.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aSagaRecoveredOnTheTargetObservesWhatRunsThere(boolean copySurvived) {
    runningOnSource();
    migration.holdAt.put("remove", new CountDownLatch(1));
    migrate(MigrationMode.LIVE, false);
    awaitCall("remove");
    RecordingRuntime targetKernel = new RecordingRuntime();
    if (copySurvived) targetKernel.running.put(id, 4242L);
    migration.holdAt.remove("remove");
    String pid = recoverOn(TARGET, targetKernel);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    List<String> events = List.of();
    String expected = copySurvived ? "ContainerAdopted" : "ContainerStarted";
    while (System.nanoTime() < deadline) {
      events = kit.persistenceTestKit().persistedInStorage(pid).stream().map(e -> e.getClass().getSimpleName()).toList();
      if (events.contains("MigrationCompleted") && events.subList(events.lastIndexOf("MigrationCompleted"), events.size()).contains(expected)) break;
      sleep();
    }
    List<String> after = events.subList(Math.max(0, events.lastIndexOf("MigrationCompleted")), events.size());
    assertTrue(after.contains(expected), "after the move, " + expected + ": " + events + " calls " + migration.calls);
    ContainerState.Running running = assertInstanceOf(ContainerState.Running.class, kit.getState());
    assertEquals(TARGET, running.data().host().orElseThrow());
    assertEquals(targetKernel.running.get(id), running.pid(), "the pid the target's kernel runs");
    assertTrue(targetKernel.watchers.containsKey(id), "its exit is watched on the target");
    if (!copySurvived) assertTrue(after.contains("RestartScheduled"), "run again because it was lost with its host: " + after);
  }

  /**
   * The entity's node dies while a step runs: its next incarnation asks the target and finishes (the target runs
   * it) or undoes (it does not). Exactly one copy either way.
   */
  @ParameterizedTest
  @ValueSource(strings = {"prepare", "pre-copy", "freeze", "restore", "commit", "remove"})
  void aCrashAtEachStepEndsWithExactlyOneCopy(String step) {
    long pid = runningOnSource();
    migration.holdAt.put(step, new CountDownLatch(1));
    migrate(MigrationMode.LIVE, false);
    awaitCall(step);
    kit.restart();
    ContainerState.Running after = awaitSettled(ContainerState.Running.class);
    boolean onTarget = after.data().host().orElseThrow().equals(TARGET);
    boolean targetRan = List.of("commit", "remove").contains(step);
    assertEquals(targetRan, onTarget, "after a crash at " + step + ": " + after + " calls " + migration.calls);
    assertEquals(onTarget, migration.targetRuns.containsKey(id), "the target holds it iff it runs there");
    assertEquals(!onTarget, runtime.running.containsKey(id), "the source runs it iff it runs there");
    MigrationRecord last = after.data().lastMigration().orElseThrow();
    assertEquals(onTarget ? "completed" : "aborted", last.outcome());
    if (!onTarget) assertEquals(pid, after.pid(), "resumed (or never stopped), not restarted: " + last.cause());
  }

  // --- helpers -------------------------------------------------------------------------------------

  /**
   * The entity's log so far, recovered by a new entity on {@code host} with {@code kernel} as that host's runtime (the
   * node it ran on is gone); returns the persistence id.
   */
  private String recoverOn(HostId host, RecordingRuntime kernel) {
    var deps = new ContainerEntity.Deps(host, kernel, blocking, execs, Clock.systemUTC(), e -> Set.of("berth"), migration, migration, settings);
    String pid = org.apache.pekko.persistence.typed.PersistenceId.of(ContainerEntity.TYPE_KEY.name(), id.value()).id();
    List<Object> log = kit.persistenceTestKit().persistedInStorage(pid);
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), ContainerEntity.create(id.value(), deps));
    kit.persistenceTestKit().clearByPersistenceId(pid);
    kit.persistenceTestKit().persistForRecovery(pid, log);
    kit.restart();
    return pid;
  }

  private List<String> migrationEvents() {
    List<String> names = kit.persistenceTestKit().persistedInStorage("container|" + id.value()).stream()
        .map(e -> e.getClass().getSimpleName()).toList();
    // From the migration's own reservation on (the define's came first).
    int from = names.lastIndexOf("MigrationRequested") - 1;
    return names.subList(from, names.size());
  }

  private void awaitCall(String step) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (migration.calls.stream().noneMatch(c -> c.split(" ")[0].equals(step))) {
      if (System.nanoTime() > deadline) fail("the saga never reached step " + step + ": " + migration.calls);
      sleep();
    }
  }

  private <S extends ContainerState> S awaitPhase(Class<S> phase) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      ContainerState s = kit.getState();
      if (phase.isInstance(s) && ((ContainerState.Live) s).data().pending().isEmpty()) return phase.cast(s);
      if (System.nanoTime() > deadline) fail("the container never became " + phase.getSimpleName() + ": " + s + " calls " + migration.calls);
      sleep();
    }
  }

  /** The migration ended (no longer migrating): its final phase. */
  private <S extends ContainerState> S awaitSettled(Class<S> phase) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      ContainerState s = kit.getState();
      if (!(s instanceof ContainerState.Migrating) && ((ContainerState.Live) s).data().lastMigration().isPresent()) {
        return assertInstanceOf(phase, s, "calls " + migration.calls);
      }
      if (System.nanoTime() > deadline) fail("the migration never ended: " + s + " calls " + migration.calls);
      sleep();
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
