package io.berth.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.berth.node.ops.BerthOperations.AuditEntry;
import io.berth.node.ops.BerthOperations.EntityRef;
import io.berth.node.ops.BerthOperations.HostView;
import io.berth.node.ops.ClusterOperations;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 9, bug 2, through the real path: three real nodes in one JVM on the shared Cassandra. A create is a saga
 * whose steps are events (the directory reserves, the container's entity defines, the directory confirms); a step
 * that times out is asked again, never compensated, and after the directory's node dies the new directory settles
 * every unconfirmed reservation by asking the container's entity.
 *
 * <p>A slow define is made real: every thread of node-2's blocking dispatcher (where container entities run their
 * kernel work) is held, so the define is durable but its start waits, as on a host whose kernel work is stuck.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CreateSagaTest {
  private static final List<TestNode> nodes = new ArrayList<>();
  private static final CommandContext OPS = new CommandContext("ops-team", "create saga test", null);
  /** The coordinator's step timeout on these nodes: a define not answered within it is asked again. */
  private static final Duration STEP = Duration.ofSeconds(2);
  /** Longer than the coordinator waits for one answer. */
  private static final Duration PAST_THE_STEP = STEP.plusMillis(1500);

  @BeforeAll
  static void start() throws Exception {
    HostRequirements.requireRootLinux();
    String run = TestNode.newRun();
    int seedPort = TestNode.freePort();
    List<String> seeds = List.of("127.0.0.1:" + seedPort);
    Config sagas = ConfigFactory.parseString("berth.sagas { step-timeout = " + STEP.toMillis() + "ms, patience = 20s }");
    try {
      nodes.add(TestNode.start("cs", run, 1, seeds, seedPort, sagas));
      for (int i = 2; i <= 3; i++) nodes.add(TestNode.start("cs", run, i, seeds, TestNode.freePort(), sagas));
    } catch (RuntimeException e) {
      stop();
      throw e;
    }
    ClusterOperations ops = nodes.get(2).node().services().operations();
    HostRequirements.await("all three hosts are registered and reachable", Duration.ofSeconds(30), () -> {
      try {
        return await(ops.hosts()).stream().filter(HostView::reachable).count() == 3;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @AfterAll
  static void stop() {
    for (int i = nodes.size() - 1; i >= 0; i--) nodes.get(i).close();
    nodes.clear();
  }

  @Test
  @Order(1)
  void aCreateWhoseDefineTimesOutKeepsItsAddressAndTheContainerRunsWithIt() throws Exception {
    TestNode slow = nodes.get(1);
    ClusterOperations ops = nodes.get(2).node().services().operations();
    String a = slow.unique("slow");
    String b = slow.unique("quick");
    try {
      CompletableFuture<ContainerReply> first;
      String bAddress;
      try (HeldPool held = HeldPool.of(slow)) {
        first = ops.create(spec(a, host(slow)), true, OPS).toCompletableFuture();
        // The define of a is durable on node-2, its start waits; the coordinator's ask of it times out.
        Thread.sleep(PAST_THE_STEP.toMillis());
        ContainerState.Running quick = running(await(ops.create(spec(b, host(nodes.get(2))), true, OPS)));
        bAddress = quick.data().address();
        DirectoryState directory = await(ops.readDirectory());
        assertTrue(directory.holds(ContainerId.of(a)), "the directory still holds " + a + " while its define is unanswered: " + directory);
      }
      // The start goes on now; the create answers once it runs.
      ContainerState.Running slowOne = awaitRunning(ops, a, Duration.ofSeconds(60));
      assertNotEquals(bAddress, slowOne.data().address(), "two containers were given one address");
      // The kernel's view: each container's eth0 holds its own address, not the other's.
      assertTrue(eth0(ops, a).contains(slowOne.data().address() + "/"), a + " eth0: " + eth0(ops, a));
      assertTrue(eth0(ops, b).contains(bAddress + "/"), b + " eth0: " + eth0(ops, b));
      assertTrue(!eth0(ops, a).contains(bAddress + "/"), a + " holds " + b + "'s address: " + eth0(ops, a));
      ContainerReply answer = first.get(60, TimeUnit.SECONDS);
      assertInstanceOf(ContainerState.Running.class, assertInstanceOf(ContainerReply.Done.class, answer, String.valueOf(answer)).state());
    } finally {
      await(ops.destroy(ContainerId.of(a), OPS));
      await(ops.destroy(ContainerId.of(b), OPS));
    }
  }

  /** Last: it ends node-1. */
  @Test
  @Order(2)
  void afterTheDirectorysNodeDiesTheNewDirectoryConfirmsACreateWhoseContainerWasDefined() throws Exception {
    TestNode coordinator = oldest();
    TestNode slow = nodes.get(1);
    TestNode caller = nodes.get(2);
    assertEquals(nodes.get(0), coordinator, "the directory singleton runs on the oldest member, node-1");
    ClusterOperations ops = caller.node().services().operations();
    String name = slow.unique("orphan");
    ContainerId id = ContainerId.of(name);
    try {
      CompletableFuture<ContainerReply> create;
      try (HeldPool held = HeldPool.of(slow)) {
        create = ops.create(spec(name, host(slow)), true, OPS).toCompletableFuture();
        HostRequirements.await(name + " is defined on " + slow.hostId() + " with its start pending", Duration.ofSeconds(30), () -> {
          try {
            return await(ops.get(id)) instanceof ContainerState.Defined d && d.data().pending().isPresent();
          } catch (Exception e) {
            return false;
          }
        });
        // The coordinator dies part-way: its ActorSystem ends, the directory singleton moves to node-2.
        coordinator.close();
        nodes.remove(coordinator);
        HostRequirements.await("the new directory confirms " + name + " (its entity answered that it holds it)", Duration.ofSeconds(90), () -> {
          try {
            DirectoryState d = await(ops.readDirectory());
            return d.allocations().containsKey(id) && !d.reservations().containsKey(id);
          } catch (Exception e) {
            return false;
          }
        });
      }
      ContainerState.Running running = awaitRunning(ops, name, Duration.ofSeconds(60));
      assertEquals(host(slow), running.data().host().orElseThrow());
      Path procs = slow.cgroupFile("pids", name, "cgroup.procs");
      assertTrue(Files.readAllLines(procs).contains(String.valueOf(running.pid())), "init " + running.pid() + " in " + procs);
      // The directory's log tells the story: reserved by the operator's create, confirmed by Berth after recovery.
      List<AuditEntry> story = await(ops.history(new EntityRef("directory", "cluster"), 1, 10_000)).stream()
          .filter(e -> String.valueOf(e.event()).contains(name)).toList();
      assertEquals(List.of("ContainerReserved", "ReservationConfirmed"), story.stream().map(AuditEntry::type).toList(), story.toString());
      assertEquals("ops-team", story.get(0).principal());
      assertEquals("berth", story.get(1).principal());
      // The caller's create asked the directory that died: whatever it answers when its wait ends (a timeout), the
      // directory keeps the container it holds (a timeout is never the decision to compensate).
      try {
        create.get(90, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException timedOut) {
        // the caller may see its wait end without an answer; what matters is the directory
      }
      assertTrue(await(ops.readDirectory()).allocations().containsKey(id), "the directory still holds " + name + " after the caller's wait ended");
    } finally {
      await(ops.destroy(id, OPS));
    }
  }

  // --- helpers -------------------------------------------------------------------------------------

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(90, TimeUnit.SECONDS);
  }

  private static HostId host(TestNode node) {
    return HostId.of(node.hostId());
  }

  private static ContainerSpec spec(String name, HostId host) {
    return new ContainerSpec(ContainerId.of(name), TemplateRef.of("busybox"), null, List.of("/bin/sleep", "3600"),
        Limits.DEFAULT.withMemoryBytes(16L << 20).withCpuMillis(100).withPids(32), RestartPolicy.NEVER, null,
        new PlacementConstraints(Optional.of(host), Map.of(), ""));
  }

  private static ContainerState.Running running(ContainerReply reply) {
    return assertInstanceOf(ContainerState.Running.class, assertInstanceOf(ContainerReply.Done.class, reply, String.valueOf(reply)).state());
  }

  private static ContainerState.Running awaitRunning(ClusterOperations ops, String name, Duration within) {
    ContainerState[] last = new ContainerState[1];
    HostRequirements.await(name + " runs (last seen: " + java.util.Arrays.toString(last) + ")", within, () -> {
      try {
        last[0] = await(ops.get(ContainerId.of(name)));
        return last[0] instanceof ContainerState.Running;
      } catch (Exception e) {
        return false;
      }
    });
    return (ContainerState.Running) last[0];
  }

  private static String eth0(ClusterOperations ops, String name) throws Exception {
    ContainerReply reply = await(ops.exec(ContainerId.of(name), List.of("/sbin/ip", "-4", "addr", "show", "dev", "eth0"), 10_000, OPS));
    return assertInstanceOf(ContainerReply.ExecResult.class, reply, String.valueOf(reply)).stdout();
  }

  /** The member that has been up longest: it runs the cluster singletons (the directory). */
  private static TestNode oldest() {
    Member oldest = null;
    for (Member m : Cluster.get(nodes.get(2).node().system()).state().getMembers()) {
      if (oldest == null || m.isOlderThan(oldest)) oldest = m;
    }
    for (TestNode n : nodes) {
      if (Cluster.get(n.node().system()).selfMember().address().equals(oldest.address())) return n;
    }
    throw new AssertionError("no test node is the oldest member " + oldest);
  }

  /**
   * Holds every thread of a node's blocking dispatcher until closed: the node's kernel work (container starts)
   * queues behind it. Closed in {@code finally} (try-with-resources), also when a test fails.
   */
  private static final class HeldPool implements AutoCloseable {
    private final CountDownLatch release = new CountDownLatch(1);

    static HeldPool of(TestNode node) throws InterruptedException {
      var system = node.node().system();
      int threads = system.settings().config().getInt("pekko.actor.default-blocking-io-dispatcher.thread-pool-executor.fixed-pool-size");
      Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
      HeldPool held = new HeldPool();
      CountDownLatch holding = new CountDownLatch(threads);
      for (int i = 0; i < threads; i++) {
        blocking.execute(() -> {
          holding.countDown();
          try {
            held.release.await(120, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
      }
      if (!holding.await(10, TimeUnit.SECONDS)) {
        held.close();
        throw new AssertionError("could not hold the " + threads + " threads of " + node.hostId() + "'s blocking dispatcher within 10 s");
      }
      return held;
    }

    @Override
    public void close() {
      release.countDown();
    }
  }
}
