package io.berth.node.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.berth.node.exec.ExecPool;
import io.berth.node.exec.ExecSettings;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerEvent;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Execs run on the host's own bounded pool: long ones do not take the threads that start containers, and one past
 * the pool's threads and queue is refused at once, naming the settings. The blocking executor here has 2 threads, as
 * many as the exec pool: with execs on it (as before), two held execs would have held every thread and the start
 * below would have waited for them.
 */
class ExecPoolTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(PersistenceTestKitPlugin.getInstance().config())
          .withFallback(ConfigFactory.parseString("pekko.actor.serialize-messages = on")).withFallback(ConfigFactory.load()));
  private static final ExecutorService blocking = Executors.newFixedThreadPool(2);
  private static final ExecPool execs = new ExecPool("node-1", new ExecSettings(2, 1));
  private static final HostId HOST = HostId.of("node-1");
  private static final CommandContext ALICE = new CommandContext("alice", "testing", "corr-1");
  private static final AtomicInteger RUNS = new AtomicInteger();

  private final RecordingRuntime runtime = new RecordingRuntime();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
    execs.close();
    blocking.shutdownNow();
  }

  @Test
  void longExecsNeitherStallAStartNorQueueWithoutBound() {
    EventSourcedBehaviorTestKit<ContainerCommand, ContainerEvent, ContainerState> first = running("exec-a");
    CountDownLatch hold = new CountDownLatch(1);
    runtime.holdExecs = hold;
    TestProbe<ContainerReply> execReplies = testKit.createTestProbe();
    try {
      // Two run, one waits: the pool's threads and its queue.
      for (int i = 0; i < 3; i++) first.runCommand(exec(execReplies));
      awaitRunning(2);
      // The fourth is refused at once, nothing ran for it.
      TestProbe<ContainerReply> refusedProbe = testKit.createTestProbe();
      first.runCommand(exec(refusedProbe));
      ContainerReply.Refused refused = assertInstanceOf(ContainerReply.Refused.class, refusedProbe.receiveMessage(Duration.ofSeconds(5)));
      assertEquals(Code.BUSY, refused.rejection().code());
      assertEquals("exec", refused.rejection().field());
      assertTrue(refused.rejection().message().contains("berth.exec.threads"), refused.rejection().message());
      assertEquals(3, runtime.calls.stream().filter(c -> c.startsWith("exec ")).count() + execs.waiting(), "2 running + 1 waiting");

      // While both exec threads are held, another container on this host starts.
      running("exec-b");
      assertEquals(2, runtime.execsRunning.get(), "the execs were still running when the start completed");
      execReplies.expectNoMessage(Duration.ZERO);
    } finally {
      hold.countDown();
    }
    for (int i = 0; i < 3; i++) {
      ContainerReply.ExecResult r = assertInstanceOf(ContainerReply.ExecResult.class, execReplies.receiveMessage(Duration.ofSeconds(10)));
      assertEquals(0, r.exitCode());
    }
  }

  @Test
  void badPoolSettingsNameTheKeyAndTheRule() {
    var threads = org.junit.jupiter.api.Assertions.assertThrows(io.berth.protocol.InvalidFieldException.class, () -> new ExecSettings(0, 1));
    assertEquals("berth.exec.threads: must be 1-256 (got 0)", threads.getMessage());
    var queue = org.junit.jupiter.api.Assertions.assertThrows(io.berth.protocol.InvalidFieldException.class, () -> new ExecSettings(2, -1));
    assertEquals("berth.exec.queue: must be 0-4096 (got -1)", queue.getMessage());
  }

  private ContainerCommand.Exec exec(TestProbe<ContainerReply> replies) {
    return new ContainerCommand.Exec(List.of("/bin/sleep", "3600"), 3_600_000, ALICE, replies.ref());
  }

  private void awaitRunning(int n) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (runtime.execsRunning.get() < n) {
      if (System.nanoTime() > deadline) throw new AssertionError(n + " execs did not start within 10 s (" + runtime.execsRunning.get() + " did)");
      sleep(10);
    }
  }

  /** A container defined on this host and started, through its own entity. */
  private EventSourcedBehaviorTestKit<ContainerCommand, ContainerEvent, ContainerState> running(String name) {
    ContainerId id = ContainerId.of(name + "-" + RUNS.incrementAndGet());
    ScriptedMigration migration = new ScriptedMigration(runtime, testKit.createTestProbe());
    var deps = new ContainerEntity.Deps(HOST, runtime, blocking, execs, Clock.systemUTC(), e -> Set.of("berth"), migration, migration,
        io.berth.node.migration.MigrationSettings.DEFAULT);
    EventSourcedBehaviorTestKit<ContainerCommand, ContainerEvent, ContainerState> kit =
        EventSourcedBehaviorTestKit.create(testKit.system(), ContainerEntity.create(id.value(), deps));
    ContainerSpec spec = new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), Limits.DEFAULT,
        RestartPolicy.NEVER, null, null);
    assertInstanceOf(ContainerReply.Done.class, kit.<ContainerReply>runCommand(
        r -> new ContainerCommand.Define(spec, HOST, "least allocated", "198.18.1." + RUNS.get(), 16, false, 1, ALICE, r)).reply());
    TestProbe<ContainerReply> started = testKit.createTestProbe();
    kit.runCommand(new ContainerCommand.Start(ALICE, started.ref()));
    ContainerReply.Done done = assertInstanceOf(ContainerReply.Done.class, started.receiveMessage(Duration.ofSeconds(10)),
        "the start of " + id + " was not answered within 10 s while execs ran");
    assertInstanceOf(ContainerState.Running.class, done.state());
    return kit;
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
