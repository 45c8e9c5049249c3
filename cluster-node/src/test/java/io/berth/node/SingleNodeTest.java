package io.berth.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.node.ops.BerthOperations.AuditEntry;
import io.berth.node.ops.BerthOperations.EntityRef;
import io.berth.node.ops.ClusterOperations;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One real node: the embedded Cassandra, the real isolation layer, the real entities and directory. Each
 * step of a container's life is checked on the kernel's view and in the journal.
 */
class SingleNodeTest {
  private static TestNode node;
  private static ClusterOperations ops;

  @BeforeAll
  static void start() throws Exception {
    HostRequirements.requireRootLinux();
    // A small exec pool (2 at once, 1 waiting), to fill it; checkpoints every 2 s, to see one taken.
    node = TestNode.start("sn", TestNode.newRun(), 1, List.of(), TestNode.freePort(), com.typesafe.config.ConfigFactory.parseString(
        "berth.exec { threads = 2, queue = 1 }\nberth.persistence.audit { checkpoint-every = 2s, max-unsigned-age = 0 }"));
    ops = node.node().services().operations();
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static ContainerSpec spec(String id, String... command) {
    return new ContainerSpec(ContainerId.of(id), TemplateRef.of("busybox"), null, List.of(command),
        Limits.DEFAULT.withMemoryBytes(64L << 20).withCpuMillis(500).withPids(64), RestartPolicy.NEVER, null, null);
  }

  @Test
  void aContainerLivesAndDiesOnTheKernelAndInTheLog() throws Exception {
    CommandContext alice = new CommandContext("alice", "integration test", null);
    String name = node.unique("web");
    ContainerId id = ContainerId.of(name);

    ContainerReply created = await(ops.create(spec(name, "/bin/sleep", "3600"), true, alice));
    ContainerState.Running running = assertInstanceOf(ContainerState.Running.class, assertInstanceOf(ContainerReply.Done.class, created).state());
    long pid = running.pid();
    assertTrue(Files.exists(Path.of("/proc/" + pid)), "init " + pid + " runs");
    assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")), Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/pid")),
        "the init has its own pid namespace");
    assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/net")), Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")),
        "the init has its own net namespace");
    Path memoryLimit = node.cgroupFile("memory", name, "memory.limit_in_bytes");
    assertEquals(64L << 20, Long.parseLong(Files.readString(memoryLimit).trim()), "memory limit in " + memoryLimit);

    ContainerReply.ExecResult hostname = assertInstanceOf(ContainerReply.ExecResult.class,
        await(ops.exec(id, List.of("/bin/hostname"), 10_000, alice)));
    assertEquals(name, hostname.stdout().trim());
    assertEquals(0, hostname.exitCode());
    // A command the container does not have is the caller's mistake, named by its field (it was a 500: the soak's fuzzer).
    ContainerReply.Refused missing = assertInstanceOf(ContainerReply.Refused.class,
        await(ops.exec(id, List.of("/usr/bin/no-such-tool"), 10_000, alice)));
    assertEquals("command[0]", missing.rejection().field(), missing.toString());

    // Raise the memory limit: the cgroup follows, the event says so.
    ContainerReply resized = await(ops.setLimits(id, running.data().spec().limits().withMemoryBytes(96L << 20), alice));
    assertInstanceOf(ContainerReply.Done.class, resized, resized.toString());
    assertEquals(96L << 20, Long.parseLong(Files.readString(memoryLimit).trim()));
    // The resize saga is settled: the directory's allocation follows the limits the entity recorded.
    var directory = await(ops.readDirectory());
    assertEquals(96L << 20, directory.allocations().get(id).limits().memoryBytes());
    assertTrue(directory.reservations().isEmpty(), "no reservation is left: " + directory.reservations());

    // Bad input persists nothing: a limit beyond the host is refused by placement's fit check.
    ContainerReply tooMuch = await(ops.setLimits(id, running.data().spec().limits().withMemoryBytes(1L << 45), alice));
    assertEquals(Code.NO_CAPACITY, assertInstanceOf(ContainerReply.Refused.class, tooMuch).rejection().code());
    assertEquals(directory, await(ops.readDirectory()), "a refused resize reserves nothing");

    ContainerReply stopped = await(ops.stop(id, 2000, alice));
    assertInstanceOf(ContainerState.Stopped.class, assertInstanceOf(ContainerReply.Done.class, stopped).state());
    HostRequirements.await("init " + pid + " is gone", Duration.ofSeconds(10), () -> !Files.exists(Path.of("/proc/" + pid)));

    ContainerReply restarted = await(ops.start(id, alice));
    long pid2 = assertInstanceOf(ContainerState.Running.class, assertInstanceOf(ContainerReply.Done.class, restarted).state()).pid();
    assertNotEquals(pid, pid2);

    ContainerReply destroyed = await(ops.destroy(id, alice));
    assertInstanceOf(ContainerState.Destroyed.class, assertInstanceOf(ContainerReply.Done.class, destroyed).state());
    HostRequirements.await("init " + pid2 + " is gone", Duration.ofSeconds(10), () -> !Files.exists(Path.of("/proc/" + pid2)));
    assertFalse(Files.exists(memoryLimit.getParent()), "cgroup " + memoryLimit.getParent() + " is removed");
    assertFalse(node.mountsMention(name), "no mount of " + name + " is left");

    // The journal holds every step, with who asked and why, in order.
    List<AuditEntry> history = await(ops.history(EntityRef.container(id), 1, 100));
    List<String> types = history.stream().map(AuditEntry::type).toList();
    assertEquals(List.of("ReservationAccepted", "ContainerDefined", "ContainerPlaced", "AddressAssigned", "StartRequested", "ContainerStarted",
        "ReservationAccepted", "LimitsChangeRequested", "LimitsChanged", "StopRequested", "ContainerStopped", "StartRequested", "ContainerStarted",
        "DestroyRequested", "ContainerDestroyed"), types);
    assertEquals("alice", history.get(0).principal());
    assertTrue(await(ops.verify(java.util.Optional.of(EntityRef.container(id)))).brokenLinks().isEmpty(), "the hash chain holds");
  }

  @Test
  void anExitIsNoticedAtOnceAndTheRestartPolicyRestartsWithBackoff() throws Exception {
    CommandContext alice = new CommandContext("alice", "", null);
    // never: the exit is recorded with its code, and it stays stopped
    String once = node.unique("once");
    ContainerSpec exits = new ContainerSpec(ContainerId.of(once), TemplateRef.of("busybox"), null,
        List.of("/bin/sh", "-c", "sleep 1; exit 3"), Limits.DEFAULT.withMemoryBytes(16L << 20).withCpuMillis(100), RestartPolicy.NEVER, null, null);
    assertInstanceOf(ContainerReply.Done.class, await(ops.create(exits, true, alice)));
    HostRequirements.await(once + " is recorded as stopped with exit code 3", Duration.ofSeconds(10), () -> {
      try {
        return await(ops.get(ContainerId.of(once))) instanceof ContainerState.Stopped s
            && s.data().lastExit().map(e -> e.exitCode() == 3).orElse(false);
      } catch (Exception e) {
        return false;
      }
    });
    List<String> onceTypes = await(ops.history(EntityRef.container(ContainerId.of(once)), 1, 100)).stream().map(AuditEntry::type).toList();
    assertEquals("ContainerExited", onceTypes.get(onceTypes.size() - 1), onceTypes.toString());

    // on-failure: it runs again after each failure, with a growing delay
    String flaky = node.unique("flaky");
    ContainerSpec failing = new ContainerSpec(ContainerId.of(flaky), TemplateRef.of("busybox"), null,
        List.of("/bin/sh", "-c", "sleep 0.2; exit 1"), Limits.DEFAULT.withMemoryBytes(16L << 20).withCpuMillis(100), RestartPolicy.ON_FAILURE, null, null);
    assertInstanceOf(ContainerReply.Done.class, await(ops.create(failing, true, alice)));
    HostRequirements.await(flaky + " is restarted twice by its policy", Duration.ofSeconds(20), () -> {
      try {
        return await(ops.history(EntityRef.container(ContainerId.of(flaky)), 1, 100)).stream()
            .filter(e -> e.type().equals("ContainerStarted")).count() >= 3;
      } catch (Exception e) {
        return false;
      }
    });
    List<AuditEntry> restarts = await(ops.history(EntityRef.container(ContainerId.of(flaky)), 1, 100)).stream()
        .filter(e -> e.type().equals("RestartScheduled")).toList();
    assertTrue(restarts.size() >= 2, restarts.toString());
    assertEquals("berth", restarts.get(0).principal(), "Berth restarts by itself, and says so");
    // Whether its restart waits for its backoff or runs just now, a destroy goes through (never "busy").
    ContainerReply destroyed = await(ops.destroy(ContainerId.of(flaky), alice));
    assertInstanceOf(ContainerReply.Done.class, destroyed, destroyed.toString());
    assertInstanceOf(ContainerReply.Done.class, await(ops.destroy(ContainerId.of(once), alice)));
  }

  @Test
  void aStopDuringTheRestartBackoffCallsTheRestartOff() throws Exception {
    CommandContext alice = new CommandContext("alice", "", null);
    String name = node.unique("loop");
    ContainerId loop = ContainerId.of(name);
    ContainerSpec failing = new ContainerSpec(loop, TemplateRef.of("busybox"), null,
        List.of("/bin/sh", "-c", "exit 1"), Limits.DEFAULT.withMemoryBytes(16L << 20).withCpuMillis(100), RestartPolicy.ON_FAILURE, null, null);
    assertInstanceOf(ContainerReply.Done.class, await(ops.create(failing, true, alice)));
    try {
      // The second restart waits 2 s: long enough to be caught waiting.
      HostRequirements.await(name + " waits for its second restart's backoff", Duration.ofSeconds(20), () -> {
        try {
          return await(ops.get(loop)) instanceof ContainerState.Stopped s && s.data().restartAttempts() >= 2
              && s.data().pending().map(p -> p.operation() == io.berth.protocol.container.Operation.RESTART).orElse(false);
        } catch (Exception e) {
          return false;
        }
      });
      ContainerReply stopped = await(ops.stop(loop, 1000, alice));
      ContainerState.Stopped after = assertInstanceOf(ContainerState.Stopped.class, assertInstanceOf(ContainerReply.Done.class, stopped, stopped.toString()).state());
      assertTrue(after.data().pending().isEmpty(), "nothing is pending after the stop: " + after);
      // It ends before its entity watches it: the status is still the one its shim recorded, not "unknown".
      assertEquals(1, after.data().lastExit().orElseThrow().exitCode(), "the exit code of an init that ended at once: " + after);
      long starts = countOf(loop, "ContainerStarted");
      AuditEntry last = await(ops.history(EntityRef.container(loop), 1, 200)).stream().reduce((x, y) -> y).orElseThrow();
      assertEquals("OperationFailed", last.type(), "the called-off restart is recorded");
      assertEquals("alice", last.principal(), "by whoever called it off");
      // The longest backoff it could have been waiting for is 4 s: past it, it has still not run again.
      Thread.sleep(5_000);
      assertEquals(starts, countOf(loop, "ContainerStarted"), "no restart after the stop");
      assertInstanceOf(ContainerState.Stopped.class, await(ops.get(loop)));
    } finally {
      await(ops.destroy(loop, alice));
    }
  }

  private long countOf(ContainerId id, String type) throws Exception {
    return await(ops.history(EntityRef.container(id), 1, 200)).stream().filter(e -> e.type().equals(type)).count();
  }

  @Test
  void badInputIsRefusedAndLeavesNothing() throws Exception {
    CommandContext alice = new CommandContext("alice", "", null);
    String name = node.unique("bad");
    ContainerReply reply = await(ops.create(new ContainerSpec(ContainerId.of(name), TemplateRef.of("no-such-template"), null,
        List.of("/bin/true"), Limits.DEFAULT.withCpuMillis(100), null, null, null), true, alice));
    // Defined (placement does not know templates) but the start fails naming the template: nothing runs.
    if (reply instanceof ContainerReply.Refused refused) {
      assertTrue(refused.rejection().message().contains("template"), refused.toString());
    } else {
      throw new AssertionError("expected a refusal naming the template, got " + reply);
    }
    assertFalse(node.mountsMention(name));
    await(ops.destroy(ContainerId.of(name), alice));
  }

  @Test
  void unknownContainersAreNotFound() throws Exception {
    ContainerReply reply = await(ops.start(ContainerId.of(node.unique("ghost")), new CommandContext("alice", "", null)));
    assertEquals(Code.NOT_FOUND, assertInstanceOf(ContainerReply.Refused.class, reply).rejection().code());
  }

  @Test
  void longExecsFillOnlyTheirOwnPoolAndAStartOnTheSameNodeGoesAhead() throws Exception {
    CommandContext alice = new CommandContext("alice", "exec pool", null);
    String busy = node.unique("execs");
    ContainerId busyId = ContainerId.of(busy);
    assertInstanceOf(ContainerReply.Done.class, await(ops.create(spec(busy, "/bin/sleep", "3600"), true, alice)));
    // Two long execs run, one waits, the fourth is refused at once (whichever of the four the entity takes last).
    List<java.util.concurrent.CompletableFuture<ContainerReply>> execs = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) execs.add(ops.exec(busyId, List.of("/bin/sleep", "120"), 150_000, alice).toCompletableFuture());
    try {
      java.util.concurrent.CompletableFuture.anyOf(execs.toArray(java.util.concurrent.CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      List<ContainerReply> answered = execs.stream().filter(java.util.concurrent.CompletableFuture::isDone).map(java.util.concurrent.CompletableFuture::join).toList();
      assertEquals(1, answered.size(), "only the refused exec is answered: " + answered);
      ContainerReply.Refused refused = assertInstanceOf(ContainerReply.Refused.class, answered.get(0));
      assertEquals(Code.BUSY, refused.rejection().code(), refused.toString());
      assertTrue(refused.rejection().message().contains("berth.exec.threads"), refused.toString());

      // Meanwhile a container on the same node is created and started: its start does not wait for the execs.
      String other = node.unique("starts");
      ContainerReply started = await(ops.create(spec(other, "/bin/sleep", "3600"), true, alice));
      assertInstanceOf(ContainerState.Running.class, assertInstanceOf(ContainerReply.Done.class, started).state());
      assertEquals(3, execs.stream().filter(f -> !f.isDone()).count(), "the three long execs were still running when the start completed; answered: "
          + execs.stream().filter(java.util.concurrent.CompletableFuture::isDone).map(f -> f.handle((r, e) -> e == null ? r.toString() : e.toString()).join()).toList());
      assertInstanceOf(ContainerReply.Done.class, await(ops.destroy(ContainerId.of(other), alice)));
    } finally {
      // The execs' processes live in the container's pid namespace: they end with it.
      await(ops.destroy(busyId, alice));
    }
    for (var f : execs) assertTrue(f.get(60, TimeUnit.SECONDS) != null, "every exec was answered once its container was gone");
  }

  @Test
  void theNodeSignsCheckpointsWithAKeyKeptOutsideCassandra() throws Exception {
    Path key = node.dataRoot().resolve("audit").resolve(io.berth.persistence.audit.CheckpointSigner.KEY_FILE);
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(key)), key + " is 0600");
    CommandContext alice = new CommandContext("alice", "checkpoints", null);
    String name = node.unique("signed");
    ContainerId id = ContainerId.of(name);
    assertInstanceOf(ContainerReply.Done.class, await(ops.create(spec(name, "/bin/sleep", "3600"), true, alice)));
    long events = await(ops.history(EntityRef.container(id), 1, 100)).size();
    var audit = new io.berth.persistence.audit.AuditService(node.node().system());
    String pid = io.berth.persistence.audit.AuditService.persistenceId(id);
    HostRequirements.await("a checkpoint of " + pid + " covers its " + events + " events", Duration.ofSeconds(30), () -> {
      try {
        return await(audit.verify(pid)) instanceof io.berth.persistence.audit.ChainReport.Intact ok && ok.signedUpTo() >= events;
      } catch (Exception e) {
        return false;
      }
    });
    String signer = await(audit.checkpoints().of(pid)).get(0).signer();
    assertTrue(signer.startsWith(node.hostId() + ":"), "signed by this node's key: " + signer);
    assertInstanceOf(ContainerReply.Done.class, await(ops.destroy(id, alice)));
  }

  @Test
  void execOutputIsCappedAndTheReplySaysSo() throws Exception {
    CommandContext alice = new CommandContext("alice", "exec output", null);
    String name = node.unique("yes");
    ContainerId id = ContainerId.of(name);
    assertInstanceOf(ContainerReply.Done.class, await(ops.create(spec(name, "/bin/sleep", "3600"), true, alice)));
    try {
      // 3 MB of "y\n": the node keeps the first bytes of each stream (1 MiB), reads and drops the rest.
      ContainerReply.ExecResult flood = assertInstanceOf(ContainerReply.ExecResult.class,
          await(ops.exec(id, List.of("/bin/sh", "-c", "yes | head -c 3000000"), 30_000, alice)));
      assertTrue(flood.truncated(), "the reply says the output was cut");
      assertTrue(flood.stdout().length() <= io.berth.isolation.process.Commands.DEFAULT_MAX_OUTPUT, "at most the bound is kept: " + flood.stdout().length());
      assertTrue(flood.stdout().startsWith("y\ny\n"), "what is kept is the output's start");
      ContainerReply.ExecResult small = assertInstanceOf(ContainerReply.ExecResult.class, await(ops.exec(id, List.of("/bin/echo", "hi"), 10_000, alice)));
      assertEquals("hi\n", small.stdout());
      assertFalse(small.truncated(), "a small output is whole");
    } finally {
      await(ops.destroy(id, alice));
    }
  }
}
