package io.berth.node.container;

import io.berth.node.migration.MigrationPorts;
import io.berth.node.migration.SourceRuntime;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.migration.MigrationCommand;
import io.berth.protocol.migration.MigrationReply;
import io.berth.protocol.migration.MigrationReply.Holding;
import io.berth.protocol.spec.ContainerSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;

/**
 * A test double for the entity's migration unit tests only: the source's kernel side (sharing the pids of a
 * {@link RecordingRuntime}), the target's agent and the directory, scripted in memory, recording every call. The
 * real ones are exercised by the isolation layer's held-checkpoint tests and the cluster's migration tests.
 */
final class ScriptedMigration implements SourceRuntime, MigrationPorts {
  final List<String> calls = new CopyOnWriteArrayList<>();
  private final RecordingRuntime runtime;
  private final TestProbe<Object> unusedProbe;
  /** What the target holds, by container (its kernel, in the real one). */
  final Map<ContainerId, Long> targetRuns = new ConcurrentHashMap<>();
  final Map<ContainerId, Boolean> held = new ConcurrentHashMap<>();
  volatile String liveRefusal;
  volatile String failRestoreWith;
  /** What the target's preflight says of post-copy (empty: it can). */
  volatile String postCopyRefusal = "";
  /** Post-copy is cut short on the target for this reason: its copy is started again from its disk (a new pid). */
  volatile String loseMemory;
  /** The relay the last restore was asked to take its pages from (empty: not post-copy). */
  volatile String lazyPagesFrom = "";
  /** When set, the named step waits for it (a step under way, for a crash injected there). */
  final Map<String, CountDownLatch> holdAt = new ConcurrentHashMap<>();
  /** Steps whose ask never gets an answer (the other side is down). */
  final java.util.Set<String> silent = ConcurrentHashMap.newKeySet();
  /** Steps the other side carries out but whose answer is lost. */
  final java.util.Set<String> answerLost = ConcurrentHashMap.newKeySet();
  private long nextTargetPid = 5000;

  ScriptedMigration(RecordingRuntime runtime, TestProbe<Object> unusedProbe) {
    this.runtime = runtime;
    this.unusedProbe = unusedProbe;
  }

  // --- the source ---------------------------------------------------------------------------------

  @Override
  public Optional<String> liveRefusal(ContainerId id) {
    return Optional.ofNullable(liveRefusal);
  }

  @Override
  public boolean hasDisk(ContainerId id) {
    return true;
  }

  @Override
  public Sent preCopyDisk(ContainerId id, String migrationId, MigrationReply.Prepared target) {
    step("pre-copy " + id);
    return new Sent(4 << 20, "a".repeat(64), 5);
  }

  @Override
  public Frozen freezeAndSend(ContainerId id, String migrationId, MigrationReply.Prepared target, io.berth.protocol.container.PostCopy postCopy) {
    // As if the container held more than post-copy-from: AUTO post-copies like ON.
    boolean lazy = postCopy != io.berth.protocol.container.PostCopy.OFF;
    step("freeze " + id + (lazy ? " (post-copy)" : ""));
    held.put(id, true);
    return new Frozen(1 << 20, new Sent(2 << 20, "b".repeat(64), 7), System.nanoTime(), false, lazy ? "127.0.0.1:2" : "");
  }

  @Override
  public Sent stopAndSend(ContainerId id, String migrationId, MigrationReply.Prepared target, boolean running) {
    step("cold-stop " + id);
    runtime.running.remove(id);
    return new Sent(3 << 20, "c".repeat(64), 9);
  }

  @Override
  public void commit(ContainerId id, String migrationId) {
    step("commit " + id);
    held.remove(id);
    runtime.running.remove(id);
  }

  @Override
  public long resumeOrRestart(ContainerId id, String migrationId, ContainerSpec spec, String address, int prefixLength, boolean ran) {
    step("resume " + id);
    held.remove(id);
    Long pid = runtime.running.get(id);
    if (pid != null || !ran) return pid == null ? 0 : pid;
    return runtime.start(spec, address, prefixLength);
  }

  @Override
  public boolean isHeld(ContainerId id, String migrationId) {
    return held.containsKey(id);
  }

  @Override
  public void removeLocal(ContainerId id, String migrationId) {
    step("remove " + id);
    runtime.running.remove(id);
  }

  // --- the target and the directory --------------------------------------------------------------

  @Override
  public CompletionStage<MigrationReply> askTarget(HostId host, Function<ActorRef<MigrationReply>, MigrationCommand> make, Duration timeout) {
    MigrationCommand c = make.apply(unusedProbe.ref().unsafeUpcast());
    String name = c.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
    if (silent.contains(name)) {
      calls.add(name + " (no answer)");
      return CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("no answer in time"));
    }
    CompletableFuture<MigrationReply> answer = CompletableFuture.supplyAsync(() -> {
      step(name);
      if (c instanceof MigrationCommand.Prepare p) {
        return new MigrationReply.Prepared(p.migrationId(), host, "127.0.0.1", 1, "token", "", "scripted target", "",
            p.postCopy() ? postCopyRefusal : "not asked for");
      }
      if (c instanceof MigrationCommand.Restore r) {
        if (failRestoreWith != null) return new MigrationReply.Failed(r.migrationId(), host, "restore", failRestoreWith);
        lazyPagesFrom = r.lazyPagesFrom();
        long pid = r.start() ? nextTargetPid++ : 0;
        targetRuns.put(r.container(), pid);
        return new MigrationReply.Holds(r.migrationId(), host, pid > 0 ? Holding.RUNNING : Holding.SET_UP, pid, 0, "");
      }
      if (c instanceof MigrationCommand.AwaitPostCopy a) {
        if (loseMemory == null) return new MigrationReply.Holds(a.migrationId(), host, Holding.RUNNING, targetRuns.get(a.container()), 8 << 20, "");
        long again = nextTargetPid++;
        targetRuns.put(a.container(), again);
        return new MigrationReply.Holds(a.migrationId(), host, Holding.RUNNING, again, 1 << 20, loseMemory);
      }
      if (c instanceof MigrationCommand.Status s) {
        Long pid = targetRuns.get(s.container());
        if (pid == null) return new MigrationReply.Holds(s.migrationId(), host, Holding.NOTHING, 0, 0, "");
        return new MigrationReply.Holds(s.migrationId(), host, pid > 0 ? Holding.RUNNING : Holding.SET_UP, pid, 0, "");
      }
      if (c instanceof MigrationCommand.OnSource o) {
        // The source host's agent, for an entity recovered elsewhere: the same source side as the local one.
        switch (o.action()) {
          case COMMIT -> commit(o.container(), o.migrationId());
          case REMOVE -> removeLocal(o.container(), o.migrationId());
          case RESUME -> {
            long pid = resumeOrRestart(o.container(), o.migrationId(), o.spec(), o.address(), o.prefixLength(), o.ran());
            return new MigrationReply.Holds(o.migrationId(), host, pid > 0 ? Holding.RUNNING : Holding.SET_UP, pid, 0, "");
          }
        }
        return new MigrationReply.Holds(o.migrationId(), host, Holding.NOTHING, 0, 0, "");
      }
      MigrationCommand.Discard d = (MigrationCommand.Discard) c;
      targetRuns.remove(d.container());
      return new MigrationReply.Holds(d.migrationId(), host, Holding.NOTHING, 0, 0, "");
    });
    if (!answerLost.remove(name)) return answer;
    return answer.thenCompose(r -> CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("the answer was lost")));
  }

  @Override
  public CompletionStage<DirectoryReply> askDirectory(Function<ActorRef<DirectoryReply>, DirectoryCommand> make, Duration timeout) {
    DirectoryCommand c = make.apply(unusedProbe.ref().unsafeUpcast());
    if (c instanceof DirectoryCommand.SettleMigration s) calls.add("settle " + (s.completed() ? "completed" : "aborted") + " " + s.reservation());
    return CompletableFuture.completedFuture(new DirectoryReply.Done(DirectoryState.EMPTY));
  }

  @Override
  public void wake(ContainerId id) {
    calls.add("wake " + id);
  }

  /** The latches a step waits on now (released at the end of a test). */
  final List<CountDownLatch> hit = new CopyOnWriteArrayList<>();

  /** Ends the test: held steps of a crashed incarnation end without effect. */
  void release() {
    crashed = true;
    holdAt.values().forEach(CountDownLatch::countDown);
    hit.forEach(CountDownLatch::countDown);
  }

  /** Set once the test has "crashed" the entity: work of the dead incarnation that was held never takes effect. */
  volatile boolean crashed;

  private void step(String name) {
    calls.add(name);
    CountDownLatch latch = holdAt.remove(name.split(" ")[0]);
    if (latch == null) return;
    hit.add(latch);
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (crashed) throw new IllegalStateException("the node of this step crashed");
  }
}
