package io.berth.node.directory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.berth.node.placement.HostCandidate;
import io.berth.node.placement.PlacementPolicy;
import io.berth.node.saga.SagaSettings;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryEvent;
import io.berth.protocol.directory.DirectoryEvent.*;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.directory.Reservation;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.FishingOutcome;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The directory's sagas, step by step: reserve, ask the container's entity, confirm; ask again on a timeout,
 * release only on an answer; after recovery, settle every unconfirmed reservation by asking the entity. The
 * journal is the testkit's in-memory one and the container entities are a probe (unit test only; the real path is
 * {@code CreateSagaTest} and {@code ThreeNodeTest}); every command, event and state goes through the real Berth
 * serializer.
 */
class DirectoryTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(PersistenceTestKitPlugin.getInstance().config())
          .withFallback(ConfigFactory.parseString("pekko.actor.serialize-messages = on")).withFallback(ConfigFactory.load()));

  private static final String PID = Directory.PERSISTENCE_ID.id();
  private static final HostId H1 = HostId.of("node-1");
  private static final HostId H2 = HostId.of("node-2");
  private static final ContainerId WEB = ContainerId.of("web-1");
  private static final ContainerId DB = ContainerId.of("db-1");
  private static final Limits SMALL = Limits.DEFAULT.withMemoryBytes(64L << 20).withCpuMillis(250);
  private static final CommandContext ALICE = new CommandContext("alice", "testing", "corr-1");
  private static final SagaSettings SAGAS = new SagaSettings(Duration.ofMillis(300), Duration.ofSeconds(2));
  private static final Duration WAIT = Duration.ofSeconds(5);

  private TestProbe<ContainerCommand> entities;
  private TestProbe<ContainerReply> caller;
  private EventSourcedBehaviorTestKit<DirectoryCommand, DirectoryEvent, DirectoryState> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private List<HostCandidate> upHosts;

  @BeforeEach
  void setUp() {
    entities = testKit.createTestProbe();
    caller = testKit.createTestProbe();
    // Mutable: a test takes a host away (down, fenced) as the cluster would.
    List<HostCandidate> hosts = new java.util.concurrent.CopyOnWriteArrayList<>(List.of(
        HostCandidate.ready(H1, new HostCapacity(2000, 1L << 30, 4096), Map.of()),
        HostCandidate.ready(H2, new HostCapacity(2000, 1L << 30, 4096), Map.of())));
    upHosts = hosts;
    ActorRef<ContainerCommand> to = entities.ref();
    DirectoryPorts ports = new DirectoryPorts() {
      @Override
      public Map<HostId, Boolean> members() {
        Map<HostId, Boolean> members = new java.util.TreeMap<>();
        hosts.forEach(h -> members.put(h.id(), true));
        return members;
      }

      @Override
      public CompletionStage<List<HostCandidate>> hosts(Map<HostId, Boolean> members) {
        return CompletableFuture.completedFuture(hosts);
      }

      @Override
      public CompletionStage<ContainerReply> ask(ContainerId container, Function<ActorRef<ContainerReply>, ContainerCommand> make, Duration timeout) {
        return AskPattern.ask(to, make::apply, timeout, testKit.scheduler());
      }
    };
    var settings = new Directory.Settings(AddressPool.parse("pool", "198.18.1.1-198.18.1.20", 16), PlacementPolicy.LEAST_ALLOCATED, SAGAS,
        Clock.systemUTC(), e -> Set.of("berth"));
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), Directory.create(settings, ports));
    kit.clear();
  }

  // --- create --------------------------------------------------------------------------------------

  @Test
  void aCreateIsReservedThenDefinedByItsEntityThenConfirmed() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), true, ALICE, caller.ref()));
    ContainerCommand.Define define = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    assertEquals(1, define.reservation());
    assertEquals(H1, define.host(), "least allocated; the tie goes to the smallest id");
    assertEquals("198.18.1.1", define.address());
    assertTrue(define.start());
    // Step 1 is durable before the entity is asked: the name, the share and the address are held.
    Reservation r = kit.getState().reservations().get(WEB);
    assertEquals(Reservation.Kind.CREATE, r.kind());
    assertFalse(kit.getState().allocations().containsKey(WEB));

    define.replyTo().tell(new ContainerReply.Done(defined(WEB, 1, SMALL)));
    assertInstanceOf(ContainerState.Defined.class, caller.expectMessageClass(ContainerReply.Done.class, WAIT).state());
    assertEquals(SMALL, kit.getState().allocations().get(WEB).limits());
    assertTrue(kit.getState().reservations().isEmpty());
    assertEquals(List.of(ContainerReserved.class, ReservationConfirmed.class), journalTypes());
  }

  @Test
  void aDefineNotAnsweredInTimeIsAskedAgainAndItsAddressStaysHeld() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), true, ALICE, caller.ref()));
    ContainerCommand.Define first = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    ContainerCommand.Define again = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    assertEquals(first.reservation(), again.reservation(), "the same step, asked again");
    assertEquals(List.of(ContainerReserved.class), journalTypes(), "a timeout releases nothing");

    // Meanwhile another create gets another address: the first one's is held.
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(DB), true, ALICE, caller.ref()));
    ContainerCommand.Define other = fish(ContainerCommand.Define.class, d -> d.spec().id().equals(DB));
    assertEquals("198.18.1.2", other.address());
    assertEquals(2, other.reservation());

    // The entity answers a later copy: confirmed, and the caller gets the entity's answer.
    other.replyTo().tell(new ContainerReply.Done(defined(DB, 2, SMALL)));
    caller.expectMessageClass(ContainerReply.Done.class, WAIT);
    ContainerCommand.Define copy = fish(ContainerCommand.Define.class, d -> d.spec().id().equals(WEB));
    copy.replyTo().tell(new ContainerReply.Done(defined(WEB, 1, SMALL)));
    caller.expectMessageClass(ContainerReply.Done.class, WAIT);
    assertEquals(Set.of(WEB, DB), kit.getState().allocations().keySet());
    assertEquals("198.18.1.1", kit.getState().allocations().get(WEB).address());
  }

  @Test
  void theRefusalOfTheOnlyDefineSentReleasesTheReservation() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), false, ALICE, caller.ref()));
    ContainerCommand.Define define = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    define.replyTo().tell(refused(Code.ALREADY_EXISTS, "container web-1 exists already"));
    assertEquals(Code.ALREADY_EXISTS, caller.expectMessageClass(ContainerReply.Refused.class, WAIT).rejection().code());
    assertFalse(kit.getState().holds(WEB));
    assertEquals(List.of(ContainerReserved.class, ReservationReleased.class), journalTypes());
  }

  @Test
  void aRefusalAfterSeveralCopiesIsSettledBeforeAnythingIsReleased() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), false, ALICE, caller.ref()));
    entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    ContainerCommand.Define copy = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    // An earlier copy may still arrive: the refusal of this one alone does not tell what the entity will do.
    copy.replyTo().tell(refused(Code.WRONG_PHASE, "container web-1 is destroyed"));
    ContainerCommand.Settle settle = fish(ContainerCommand.Settle.class, s -> true);
    assertEquals(1, settle.reservation());
    assertEquals(List.of(ContainerReserved.class), journalTypes(), "nothing is released before the entity answers the settle");
    settle.replyTo().tell(new ContainerReply.Done(declined(WEB, 1)));
    ContainerReply.Refused answer = caller.expectMessageClass(ContainerReply.Refused.class, WAIT);
    assertEquals(Code.WRONG_PHASE, answer.rejection().code(), "the caller gets the entity's own answer");
    assertFalse(kit.getState().holds(WEB));
    assertEquals(List.of(ContainerReserved.class, ReservationReleased.class), journalTypes());
  }

  @Test
  void aDefinedContainerWhoseStartFailedIsConfirmedAndTheCallerToldWhy() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), true, ALICE, caller.ref()));
    ContainerCommand.Define define = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    define.replyTo().tell(refused(Code.FAILED, "start container web-1 failed: template busybox: not found"));
    // FAILED is in the entity's log: ask what it holds.
    ContainerCommand.Settle settle = fish(ContainerCommand.Settle.class, s -> true);
    settle.replyTo().tell(new ContainerReply.Done(defined(WEB, 1, SMALL)));
    assertEquals(Code.FAILED, caller.expectMessageClass(ContainerReply.Refused.class, WAIT).rejection().code());
    assertTrue(kit.getState().allocations().containsKey(WEB), "it exists, stopped, and keeps its allocation");
  }

  @Test
  void whenPatienceIsSpentTheCreateIsSettledAndReleasedOnTheEntitysAnswer() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), true, ALICE, caller.ref()));
    // The entity never answers a define (its host is gone, say): after the patience the directory settles.
    ContainerCommand.Settle settle = fish(ContainerCommand.Settle.class, s -> true);
    settle.replyTo().tell(new ContainerReply.Done(declined(WEB, 1)));
    ContainerReply.Refused answer = caller.expectMessageClass(ContainerReply.Refused.class, WAIT);
    assertEquals(Code.UNAVAILABLE, answer.rejection().code());
    assertTrue(answer.rejection().message().contains("did not happen"), answer.toString());
    assertTrue(kit.getState().held().isEmpty());
  }

  @Test
  void afterRecoveryAnUnconfirmedCreateWhoseContainerWasDefinedIsConfirmed() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), true, ALICE, caller.ref()));
    entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    // The directory's node dies before the answer: a new directory recovers from the log.
    kit.restart();
    ContainerCommand.Settle settle = fish(ContainerCommand.Settle.class, s -> true);
    assertEquals(1, settle.reservation());
    settle.replyTo().tell(new ContainerReply.Done(defined(WEB, 1, SMALL)));
    awaitState("web-1 is confirmed", s -> s.allocations().containsKey(WEB) && s.reservations().isEmpty());
    List<EventMeta> metas = journalMetas();
    assertEquals(List.of(ContainerReserved.class, ReservationConfirmed.class), journalTypes());
    assertEquals(EventMeta.SYSTEM_PRINCIPAL, metas.get(1).principal(), "Berth settled it by itself, and says so");
    assertEquals("corr-1", metas.get(1).correlationId(), "under the create's correlation id");
  }

  @Test
  void afterRecoveryAnUnconfirmedCreateWhoseContainerWasNotDefinedIsReleased() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), true, ALICE, caller.ref()));
    entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    kit.restart();
    ContainerCommand.Settle settle = fish(ContainerCommand.Settle.class, s -> true);
    // No answer at first: asked again, nothing released.
    ContainerCommand.Settle again = fish(ContainerCommand.Settle.class, s -> true);
    assertEquals(List.of(ContainerReserved.class), journalTypes());
    // The entity had not defined it, and declined the reservation when asked: released.
    again.replyTo().tell(new ContainerReply.Done(declined(WEB, 1)));
    awaitState("web-1 is released", s -> !s.holds(WEB));
    assertEquals(List.of(ContainerReserved.class, ReservationReleased.class), journalTypes());
    assertEquals(settle.reservation(), again.reservation());
  }

  // --- resize --------------------------------------------------------------------------------------

  @Test
  void aResizeHoldsTheLargerLimitsThenTheAllocationFollowsTheEntity() {
    allocated(WEB, SMALL);
    Limits bigger = SMALL.withMemoryBytes(128L << 20).withCpuMillis(100);
    kit.runCommand(new DirectoryCommand.ResizeContainer(WEB, bigger, ALICE, caller.ref()));
    ContainerCommand.SetLimits set = entities.expectMessageClass(ContainerCommand.SetLimits.class, WAIT);
    assertEquals(bigger, set.limits());
    Limits held = kit.getState().held().get(0).limits();
    assertEquals(128L << 20, held.memoryBytes(), "the new, larger memory is held");
    assertEquals(250, held.cpuMillis(), "the old, larger cpu is held until the entity settles");
    set.replyTo().tell(new ContainerReply.Done(limited(WEB, set.reservation(), bigger)));
    caller.expectMessageClass(ContainerReply.Done.class, WAIT);
    assertEquals(bigger, kit.getState().allocations().get(WEB).limits());
    assertTrue(kit.getState().reservations().isEmpty());
  }

  @Test
  void aResizeTheEntityRefusedReleasesTheReservationAndKeepsTheLimits() {
    allocated(WEB, SMALL);
    kit.runCommand(new DirectoryCommand.ResizeContainer(WEB, SMALL.withPids(64), ALICE, caller.ref()));
    ContainerCommand.SetLimits set = entities.expectMessageClass(ContainerCommand.SetLimits.class, WAIT);
    set.replyTo().tell(refused(Code.WRONG_PHASE, "container web-1 is migrating; set limits needs defined, running or stopped"));
    assertEquals(Code.WRONG_PHASE, caller.expectMessageClass(ContainerReply.Refused.class, WAIT).rejection().code());
    assertEquals(SMALL, kit.getState().allocations().get(WEB).limits());
    assertTrue(kit.getState().reservations().isEmpty());
  }

  @Test
  void aResizeBeyondTheHostIsRefusedAndReservesNothing() {
    allocated(WEB, SMALL);
    int before = journalTypes().size();
    var result = kit.<ContainerReply>runCommand(r -> new DirectoryCommand.ResizeContainer(WEB, SMALL.withMemoryBytes(4L << 30), ALICE, r));
    // The refusal comes once the hosts are read (a private message later): wait for it on the kit's reply probe.
    ContainerReply reply = result.reply();
    assertEquals(Code.NO_CAPACITY, assertInstanceOf(ContainerReply.Refused.class, reply).rejection().code());
    assertEquals(before, journalTypes().size());
    entities.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aResizeOfAContainerWhoseHostDoesNotAnswerIsUnavailableNotNotFound() {
    allocated(WEB, SMALL);
    HostId host = kit.getState().allocations().get(WEB).host();
    upHosts.removeIf(h -> h.id().equals(host));
    int before = journalTypes().size();
    var result = kit.<ContainerReply>runCommand(r -> new DirectoryCommand.ResizeContainer(WEB, SMALL.withPids(64), ALICE, r));
    var rejection = assertInstanceOf(ContainerReply.Refused.class, result.reply()).rejection();
    assertEquals(Code.UNAVAILABLE, rejection.code(), rejection.toString());
    assertEquals("host", rejection.field());
    assertTrue(rejection.message().contains("host " + host + " of container " + WEB + " is not reachable"), rejection.message());
    assertEquals(before, journalTypes().size(), "nothing reserved");
    entities.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void afterRecoveryAResizeIsSettledAndTheAllocationFollowsWhatTheEntityRecorded() {
    allocated(WEB, SMALL);
    kit.runCommand(new DirectoryCommand.ResizeContainer(WEB, SMALL.withPids(1024), ALICE, caller.ref()));
    ContainerCommand.SetLimits set = entities.expectMessageClass(ContainerCommand.SetLimits.class, WAIT);
    kit.restart();
    ContainerCommand.Settle settle = fish(ContainerCommand.Settle.class, s -> true);
    assertEquals(set.reservation(), settle.reservation());
    // The change was interrupted on the entity's side too: it kept its limits (and declined the reservation).
    settle.replyTo().tell(new ContainerReply.Done(limited(WEB, set.reservation(), SMALL)));
    awaitState("the resize is settled", s -> s.reservations().isEmpty());
    assertEquals(SMALL, kit.getState().allocations().get(WEB).limits());
    assertEquals(ReservationReleased.class, journalTypes().get(journalTypes().size() - 1));
  }

  @Test
  void aDestroyReleasesTheReservationOfASagaUnderWay() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), true, ALICE, caller.ref()));
    ContainerCommand.Define define = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    var released = kit.<DirectoryReply>runCommand(r -> new DirectoryCommand.Release(WEB, ALICE, r));
    assertFalse(assertInstanceOf(DirectoryReply.Done.class, released.reply()).state().holds(WEB));
    assertEquals(Code.NOT_FOUND, caller.expectMessageClass(ContainerReply.Refused.class, WAIT).rejection().code());
    // A late answer of the entity changes nothing.
    define.replyTo().tell(new ContainerReply.Done(defined(WEB, 1, SMALL)));
    entities.expectNoMessage(Duration.ofMillis(800));
    assertFalse(kit.getState().holds(WEB));
  }

  @Test
  void aNameIsLocatedWhileBeingCreatedAndUnknownNamesAreNot() {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(WEB), true, ALICE, caller.ref()));
    ContainerCommand.Define define = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    var located = kit.<DirectoryReply>runCommand(r -> new DirectoryCommand.Locate(WEB, r));
    assertEquals(java.util.Optional.of(H1), assertInstanceOf(DirectoryReply.Located.class, located.reply()).host());
    var unknown = kit.<DirectoryReply>runCommand(r -> new DirectoryCommand.Locate(ContainerId.of("web-9"), r));
    assertTrue(assertInstanceOf(DirectoryReply.Located.class, unknown.reply()).host().isEmpty());
    var busy = kit.<ContainerReply>runCommand(r -> new DirectoryCommand.CreateContainer(spec(WEB), true, ALICE, r));
    assertEquals(Code.BUSY, assertInstanceOf(ContainerReply.Refused.class, busy.reply()).rejection().code());
    define.replyTo().tell(new ContainerReply.Done(defined(WEB, 1, SMALL)));
    caller.expectMessageClass(ContainerReply.Done.class, WAIT);
  }

  // --- helpers -------------------------------------------------------------------------------------

  private static ContainerSpec spec(ContainerId id) {
    return new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), SMALL, null, null, null);
  }

  private static EventMeta meta() {
    return new EventMeta(Instant.now(), "alice", "", "corr-1", "");
  }

  /** The entity's state after it took part in {@code reservation} and defined the container. */
  private static ContainerState defined(ContainerId id, long reservation, Limits limits) {
    return ContainerState.empty(id)
        .apply(new ContainerEvent.ReservationAccepted(meta(), reservation))
        .apply(new ContainerEvent.ContainerDefined(meta(), new ContainerSpec(id, TemplateRef.of("busybox"), null, null, limits, null, null, null)))
        .apply(new ContainerEvent.ContainerPlaced(meta(), H1, "least allocated"))
        .apply(new ContainerEvent.AddressAssigned(meta(), "198.18.1.1", 16));
  }

  /** The entity's state after it declined {@code reservation} without ever being defined. */
  private static ContainerState declined(ContainerId id, long reservation) {
    return ContainerState.empty(id).apply(new ContainerEvent.ReservationDeclined(meta(), reservation));
  }

  /** A defined container whose limits are {@code limits} after it took part in (or declined) {@code reservation}. */
  private static ContainerState limited(ContainerId id, long reservation, Limits limits) {
    return defined(id, reservation - 1, SMALL)
        .apply(new ContainerEvent.ReservationAccepted(meta(), reservation))
        .apply(new ContainerEvent.LimitsChangeRequested(meta(), limits))
        .apply(new ContainerEvent.LimitsChanged(meta(), limits));
  }

  private static ContainerReply refused(Code code, String message) {
    return new ContainerReply.Refused(new Rejection(code, "", message));
  }

  /** An allocated container, as a log of the directory holds it. */
  private void allocated(ContainerId id, Limits limits) {
    kit.runCommand(new DirectoryCommand.CreateContainer(spec(id).withLimits(limits), false, ALICE, caller.ref()));
    ContainerCommand.Define define = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    define.replyTo().tell(new ContainerReply.Done(defined(id, define.reservation(), limits)));
    caller.expectMessageClass(ContainerReply.Done.class, WAIT);
    // The caller is answered before the confirmation is durable; the state is read after it (commands wait for it).
    awaitState(id + " is confirmed", s -> s.allocations().containsKey(id) && s.reservations().isEmpty());
  }

  private <M extends ContainerCommand> M fish(Class<M> type, Predicate<M> which) {
    List<ContainerCommand> seen = entities.fishForMessage(Duration.ofSeconds(10), m -> type.isInstance(m) && which.test(type.cast(m))
        ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
    return type.cast(seen.get(seen.size() - 1));
  }

  private void awaitState(String what, Predicate<DirectoryState> done) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (done.test(kit.getState())) return;
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new AssertionError(what + " did not happen within " + WAIT + "; state " + kit.getState());
  }

  private List<Class<?>> journalTypes() {
    return kit.persistenceTestKit().persistedInStorage(PID).stream().<Class<?>>map(Object::getClass).toList();
  }

  private List<EventMeta> journalMetas() {
    return kit.persistenceTestKit().persistedInStorage(PID).stream().map(e -> ((DirectoryEvent) e).meta()).toList();
  }
}
