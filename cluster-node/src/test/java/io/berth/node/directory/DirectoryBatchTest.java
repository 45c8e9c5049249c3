package io.berth.node.directory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.berth.node.placement.HostCandidate;
import io.berth.node.placement.HostCondition;
import io.berth.node.placement.PlacementPolicy;
import io.berth.node.saga.SagaSettings;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryEvent;
import io.berth.protocol.directory.DirectoryEvent.ContainerReserved;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.TemplateRef;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The directory under many creates at once: they are decided together while a write is in flight, each against the
 * allocations the ones before it left, in one write; its view of the hosts is its own (read in the background), and
 * a cordon is honoured by every create that arrives once the view's bound has passed. The directory runs as it does
 * in the product (spawned, the testkit's in-memory journal, every message through the Berth serializer); the
 * container entities and the host entities are the test's (unit test only; the real path is {@code ThreeNodeTest}).
 */
class DirectoryBatchTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      PersistenceTestKitPlugin.getInstance().config()
          .withFallback(ConfigFactory.parseString("pekko.actor.serialize-messages = on")).withFallback(ConfigFactory.load()));
  private static final PersistenceTestKit journal = PersistenceTestKit.create(testKit.system());

  private static final String PID = Directory.PERSISTENCE_ID.id();
  private static final HostId H1 = HostId.of("node-1");
  private static final HostId H2 = HostId.of("node-2");
  private static final Limits QUARTER = Limits.DEFAULT.withMemoryBytes(64L << 20).withCpuMillis(250);
  private static final HostCapacity ONE_CPU = new HostCapacity(1000, 1L << 30, 4096);
  private static final SagaSettings SAGAS = new SagaSettings(Duration.ofSeconds(3), Duration.ofSeconds(20));
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final AtomicReference<List<HostCandidate>> hosts = new AtomicReference<>();
  private final AtomicInteger hostReads = new AtomicInteger();
  /** The events of each write the journal took, in order. */
  private final List<List<DirectoryEvent>> writes = new CopyOnWriteArrayList<>();
  /** How long the journal holds its next write, so that what is sent meanwhile queues behind it. */
  private volatile long holdNextWriteMillis;
  private TestProbe<ContainerCommand> entities;
  private ActorRef<DirectoryCommand> directory;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    journal.clearAll();
    journal.resetPolicy();
    entities = testKit.createTestProbe();
    hosts.set(List.of(HostCandidate.ready(H1, ONE_CPU, Map.of()), HostCandidate.ready(H2, ONE_CPU, Map.of())));
    journal.withPolicy(new org.apache.pekko.persistence.testkit.ProcessingPolicy<JournalOperation>() {
      @Override
      public ProcessingResult tryProcess(String persistenceId, JournalOperation operation) {
        if (operation instanceof WriteEvents w && persistenceId.equals(PID)) {
          List<DirectoryEvent> events = new ArrayList<>();
          for (Object o : w.getBatch()) events.add((DirectoryEvent) (o instanceof Tagged t ? t.payload() : o));
          writes.add(events);
          long hold = holdNextWriteMillis;
          holdNextWriteMillis = 0;
          sleep(hold);
        }
        return ProcessingSuccess.getInstance();
      }
    });
  }

  @AfterEach
  void tearDown() {
    if (directory != null) testKit.stop(directory, WAIT);
    journal.resetPolicy();
  }

  @Test
  void manyCreatesAtOnceNeverOvercommitNorShareAnAddressAndAreWrittenTogether() {
    start(Duration.ofSeconds(4), Duration.ofSeconds(2));
    // Room for 8 on the two hosts (1 cpu each, a quarter per container); 12 asked at once, while the first one's
    // write is in flight.
    List<TestProbe<ContainerReply>> callers = new ArrayList<>();
    for (int i = 0; i < 12; i++) callers.add(testKit.createTestProbe());
    holdNextWriteMillis = 500;
    directory.tell(new DirectoryCommand.CreateContainer(spec("web-0", QUARTER), true, context(0), callers.get(0).ref()));
    await("the first create's write began", () -> writes.size() == 1);
    for (int i = 1; i < 12; i++) {
      directory.tell(new DirectoryCommand.CreateContainer(spec("web-" + i, QUARTER), true, context(i), callers.get(i).ref()));
    }
    List<ContainerCommand.Define> defines = new ArrayList<>();
    for (int i = 0; i < 8; i++) defines.add(entities.expectMessageClass(ContainerCommand.Define.class, WAIT));
    entities.expectNoMessage(Duration.ofMillis(300));

    Map<HostId, Long> cpu = new HashMap<>();
    Set<String> addresses = new HashSet<>();
    for (ContainerCommand.Define d : defines) {
      cpu.merge(d.host(), (long) d.spec().limits().cpuMillis(), Long::sum);
      assertTrue(addresses.add(d.address()), "address " + d.address() + " given twice");
      assertTrue(d.placementDecision().contains(d.host().value()), d.placementDecision());
    }
    assertEquals(Map.of(H1, 1000L, H2, 1000L), cpu, "each host full, none beyond its capacity");
    int refused = 0;
    for (int i = 0; i < 12; i++) {
      int n = i;
      boolean defined = defines.stream().anyMatch(d -> d.spec().id().value().equals("web-" + n));
      if (!defined) {
        ContainerReply.Refused r = callers.get(i).expectMessageClass(ContainerReply.Refused.class, WAIT);
        assertEquals(Code.NO_CAPACITY, r.rejection().code(), r.toString());
        assertTrue(r.rejection().message().contains("node-1") && r.rejection().message().contains("node-2"), r.rejection().message());
        refused++;
      }
    }
    assertEquals(4, refused);

    // The first create went alone; the 11 that arrived during its write were decided together in the next one.
    List<ContainerReserved> reserved = reservedIn(writes);
    assertEquals(8, reserved.size());
    assertEquals(1, reservedIn(writes.subList(0, 1)).size());
    assertEquals(7, reservedIn(writes.subList(1, 2)).size(), "one write for the creates that waited: " + writes);
    // Each decision has its own reason, principal and correlation, and the reservations are numbered in order.
    for (int i = 0; i < reserved.size(); i++) {
      ContainerReserved r = reserved.get(i);
      assertEquals(i + 1, r.reservation());
      assertTrue(r.decision().contains(r.host().value()), r.decision());
      int n = Integer.parseInt(r.container().value().substring("web-".length()));
      assertEquals("user-" + n, r.meta().principal());
      assertEquals("corr-" + n, r.meta().correlationId());
    }
    assertTrue(hostReads.get() <= 2, "the hosts were read " + hostReads.get() + " times for 12 creates (once at start, not per create)");

    // Every container answers: each caller at once, each confirmation recorded; those that came during a write in one.
    int before = writes.size();
    holdNextWriteMillis = 500;
    defines.get(0).replyTo().tell(new ContainerReply.Done(defined(defines.get(0))));
    await("the first confirmation's write began", () -> writes.size() == before + 1);
    for (ContainerCommand.Define d : defines.subList(1, 8)) d.replyTo().tell(new ContainerReply.Done(defined(d)));
    for (ContainerCommand.Define d : defines) {
      int n = Integer.parseInt(d.spec().id().value().substring("web-".length()));
      callers.get(n).expectMessageClass(ContainerReply.Done.class, WAIT);
    }
    await("every confirmation written", () -> confirmedIn(writes) == 8);
    assertEquals(before + 2, writes.size(), "8 confirmations in 2 writes: " + writes.subList(before, writes.size()));
    assertEquals(8, read().allocations().size());
    assertTrue(read().reservations().isEmpty());
  }

  @Test
  void aBatchWithOneRefusedCreatePersistsTheOthersEachWithItsReason() {
    start(Duration.ofSeconds(4), Duration.ofSeconds(2));
    TestProbe<ContainerReply> first = testKit.createTestProbe();
    TestProbe<ContainerReply> small = testKit.createTestProbe();
    TestProbe<ContainerReply> huge = testKit.createTestProbe();
    TestProbe<ContainerReply> pinned = testKit.createTestProbe();
    holdNextWriteMillis = 500;
    directory.tell(new DirectoryCommand.CreateContainer(spec("first", QUARTER), false, context(0), first.ref()));
    await("the first create's write began", () -> writes.size() == 1);
    directory.tell(new DirectoryCommand.CreateContainer(spec("small", QUARTER), false, context(1), small.ref()));
    directory.tell(new DirectoryCommand.CreateContainer(spec("huge", QUARTER.withCpuMillis(2000)), false, context(2), huge.ref()));
    directory.tell(new DirectoryCommand.CreateContainer(spec("pinned", QUARTER).withPlacement(pin(H2)), false, context(3), pinned.ref()));

    ContainerReply.Refused refusal = huge.expectMessageClass(ContainerReply.Refused.class, WAIT);
    assertEquals(Code.NO_CAPACITY, refusal.rejection().code());
    assertTrue(refusal.rejection().message().contains("huge"), refusal.rejection().message());
    List<ContainerCommand.Define> defines = List.of(entities.expectMessageClass(ContainerCommand.Define.class, WAIT),
        entities.expectMessageClass(ContainerCommand.Define.class, WAIT), entities.expectMessageClass(ContainerCommand.Define.class, WAIT));
    assertEquals(List.of("first", "small", "pinned"), defines.stream().map(d -> d.spec().id().value()).toList());

    assertEquals(List.of("first"), reservedIn(writes.subList(0, 1)).stream().map(r -> r.container().value()).toList());
    List<ContainerReserved> second = reservedIn(writes.subList(1, 2));
    assertEquals(List.of("small", "pinned"), second.stream().map(r -> r.container().value()).toList(), "the refused one holds nothing");
    // Decided against the allocation the first left: node-1 holds it, so the next goes to node-2; each its own reason.
    assertEquals(H1, reservedIn(writes.subList(0, 1)).get(0).host());
    assertEquals(H2, second.get(0).host());
    assertTrue(second.get(0).decision().startsWith("least loaded of 2 fitting hosts (node-2"), second.get(0).decision());
    assertTrue(second.get(1).decision().startsWith("pinned by --host to node-2"), second.get(1).decision());
    assertEquals(List.of("user-1", "user-3"), second.stream().map(r -> r.meta().principal()).toList());
    // One chain: each event links to the one before it, across the decisions of one write.
    assertEquals(io.berth.protocol.event.EventHashes.hashOf(reservedIn(writes.subList(0, 1)).get(0)), second.get(0).meta().prevHash());
    assertEquals(io.berth.protocol.event.EventHashes.hashOf(second.get(0)), second.get(1).meta().prevHash());
  }

  @Test
  void aCordonIsHonouredByTheNextCreateOnceTheViewsBoundHasPassed() {
    Duration bound = Duration.ofMillis(400);
    start(bound, Duration.ofMillis(150));
    TestProbe<ContainerReply> caller = testKit.createTestProbe();
    directory.tell(new DirectoryCommand.CreateContainer(spec("before", QUARTER).withPlacement(pin(H1)), false, context(0), caller.ref()));
    ContainerCommand.Define before = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    assertEquals(H1, before.host());
    before.replyTo().tell(new ContainerReply.Done(defined(before)));
    caller.expectMessageClass(ContainerReply.Done.class, WAIT);

    // The operator cordons node-1; its entity has it durable now. ClusterOperations answers after the bound.
    hosts.set(List.of(HostCandidate.ready(H1, ONE_CPU, Map.of()).withCondition(HostCondition.CORDONED), HostCandidate.ready(H2, ONE_CPU, Map.of())));
    sleep(bound.toMillis());

    directory.tell(new DirectoryCommand.CreateContainer(spec("after", QUARTER).withPlacement(pin(H1)), false, context(1), caller.ref()));
    ContainerReply.Refused refused = caller.expectMessageClass(ContainerReply.Refused.class, WAIT);
    assertEquals(Code.NO_CAPACITY, refused.rejection().code());
    assertTrue(refused.rejection().message().contains("cordoned"), refused.rejection().message());
    directory.tell(new DirectoryCommand.CreateContainer(spec("elsewhere", QUARTER), false, context(2), caller.ref()));
    assertEquals(H2, entities.expectMessageClass(ContainerCommand.Define.class, WAIT).host(), "not on the cordoned host");
  }

  @Test
  void aMemberThatLeftMakesTheNextCreateWaitForANewRead() {
    // A long bound: only the change of membership can make the directory read the hosts again.
    start(Duration.ofSeconds(30), Duration.ofSeconds(20));
    TestProbe<ContainerReply> caller = testKit.createTestProbe();
    directory.tell(new DirectoryCommand.CreateContainer(spec("one", QUARTER), false, context(0), caller.ref()));
    ContainerCommand.Define one = entities.expectMessageClass(ContainerCommand.Define.class, WAIT);
    assertEquals(H1, one.host());
    one.replyTo().tell(new ContainerReply.Done(defined(one)));
    caller.expectMessageClass(ContainerReply.Done.class, WAIT);
    int reads = hostReads.get();
    hosts.set(List.of(HostCandidate.ready(H2, ONE_CPU, Map.of())));
    directory.tell(new DirectoryCommand.CreateContainer(spec("two", QUARTER.withCpuMillis(100)), false, context(1), caller.ref()));
    assertEquals(H2, entities.expectMessageClass(ContainerCommand.Define.class, WAIT).host());
    assertEquals(reads + 1, hostReads.get(), "read once more, for the create that came after node-1 left");
  }

  // --- helpers -------------------------------------------------------------------------------------

  private void start(Duration bound, Duration refresh) {
    ActorRef<ContainerCommand> to = entities.ref();
    DirectoryPorts ports = new DirectoryPorts() {
      @Override
      public Map<HostId, Boolean> members() {
        Map<HostId, Boolean> members = new TreeMap<>();
        hosts.get().forEach(h -> members.put(h.id(), true));
        return members;
      }

      @Override
      public CompletionStage<List<HostCandidate>> hosts(Map<HostId, Boolean> members) {
        hostReads.incrementAndGet();
        return CompletableFuture.completedFuture(hosts.get().stream().filter(h -> members.containsKey(h.id())).toList());
      }

      @Override
      public CompletionStage<ContainerReply> ask(ContainerId container, Function<ActorRef<ContainerReply>, ContainerCommand> make, Duration timeout) {
        return AskPattern.ask(to, make::apply, timeout, testKit.scheduler());
      }
    };
    var settings = new Directory.Settings(AddressPool.parse("pool", "198.18.1.1-198.18.1.20", 16), PlacementPolicy.LEAST_ALLOCATED, SAGAS,
        Clock.systemUTC(), e -> Set.of("berth"), bound, refresh);
    directory = testKit.spawn(Directory.create(settings, ports));
    await("the directory read the hosts", () -> hostReads.get() >= 1);
  }

  private io.berth.protocol.directory.DirectoryState read() {
    var reply = AskPattern.<DirectoryCommand, io.berth.protocol.directory.DirectoryReply>ask(directory, DirectoryCommand.Read::new, WAIT,
        testKit.scheduler()).toCompletableFuture().join();
    return ((io.berth.protocol.directory.DirectoryReply.Snapshot) reply).state();
  }

  private static List<ContainerReserved> reservedIn(List<List<DirectoryEvent>> ws) {
    return ws.stream().flatMap(List::stream).filter(ContainerReserved.class::isInstance).map(ContainerReserved.class::cast).toList();
  }

  private static long confirmedIn(List<List<DirectoryEvent>> ws) {
    return ws.stream().flatMap(List::stream).filter(DirectoryEvent.ReservationConfirmed.class::isInstance).count();
  }

  private static ContainerSpec spec(String name, Limits limits) {
    return new ContainerSpec(ContainerId.of(name), TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), limits, null, null, null);
  }

  private static PlacementConstraints pin(HostId host) {
    return new PlacementConstraints(Optional.of(host), Map.of(), "");
  }

  private static CommandContext context(int n) {
    return new CommandContext("user-" + n, "testing", "corr-" + n);
  }

  /** The entity's state once it took part in the define's reservation and defined the container. */
  private static ContainerState defined(ContainerCommand.Define d) {
    EventMeta meta = new EventMeta(Instant.now(), "alice", "", "corr", "");
    return ContainerState.empty(d.spec().id())
        .apply(new ContainerEvent.ReservationAccepted(meta, d.reservation()))
        .apply(new ContainerEvent.ContainerDefined(meta, d.spec()))
        .apply(new ContainerEvent.ContainerPlaced(meta, d.host(), d.placementDecision()))
        .apply(new ContainerEvent.AddressAssigned(meta, d.address(), d.prefixLength()));
  }

  private static void await(String what, java.util.function.BooleanSupplier done) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError(what + " did not happen within " + WAIT);
      sleep(20);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
