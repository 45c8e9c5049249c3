package io.berth.node.container;

import io.berth.node.agent.ContainerRuntime;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A test double of the host's runtime for the entity unit tests only: it records the calls and keeps
 * pids in memory, so the entity's logic (intents, outcomes, phases, replies) is checked without a kernel.
 * The real runtime is exercised by the isolation layer's tests and the node's integration tests.
 */
final class RecordingRuntime implements ContainerRuntime {
  final List<String> calls = new CopyOnWriteArrayList<>();
  final Map<ContainerId, Long> running = new ConcurrentHashMap<>();
  final Map<ContainerId, Consumer<Exit>> watchers = new ConcurrentHashMap<>();
  final Map<ContainerId, Exit> lastExits = new ConcurrentHashMap<>();
  private final AtomicLong nextPid = new AtomicLong(1000);
  volatile RuntimeException failStartWith;
  /** When set, starts and limit changes wait for it (an operation under way, for as long as a test needs). */
  volatile java.util.concurrent.CountDownLatch holdStarts;
  volatile java.util.concurrent.CountDownLatch holdLimits;
  /** When set, execs wait for it (a long-running exec, e.g. a tenant's {@code sleep 3600}). */
  volatile java.util.concurrent.CountDownLatch holdExecs;
  final java.util.concurrent.atomic.AtomicInteger execsRunning = new java.util.concurrent.atomic.AtomicInteger();

  @Override
  public long start(ContainerSpec spec, String address, int prefixLength) {
    await(holdStarts);
    calls.add("start " + spec.id() + " " + address + "/" + prefixLength);
    if (failStartWith != null) throw failStartWith;
    long pid = nextPid.incrementAndGet();
    running.put(spec.id(), pid);
    return pid;
  }

  @Override
  public Exit stop(ContainerId id, Duration timeout) {
    calls.add("stop " + id);
    running.remove(id);
    return new Exit(143, 15);
  }

  @Override
  public Optional<Exit> kill(ContainerId id, int signal, Duration wait) {
    calls.add("kill " + id + " " + signal);
    running.remove(id);
    return Optional.of(new Exit(128 + signal, signal));
  }

  @Override
  public void destroy(ContainerId id) {
    calls.add("destroy " + id);
    running.remove(id);
  }

  @Override
  public void setLimits(ContainerId id, Limits limits) {
    await(holdLimits);
    calls.add("limits " + id + " " + limits);
  }

  @Override
  public ExecOutput exec(ContainerId id, List<String> argv, Duration timeout) {
    calls.add("exec " + id + " " + argv);
    execsRunning.incrementAndGet();
    try {
      await(holdExecs);
    } finally {
      execsRunning.decrementAndGet();
    }
    return new ExecOutput(0, String.join(" ", argv) + "\n", "", false);
  }

  /** Set by a test: why the node may not act now (as after a stall of its JVM). */
  volatile String mayNotAct;

  @Override
  public java.util.Optional<String> mayNotAct() {
    return java.util.Optional.ofNullable(mayNotAct);
  }

  @Override
  public Observed observe(ContainerId id) {
    return new Observed(running.getOrDefault(id, 0L), true, Optional.ofNullable(lastExits.get(id)));
  }

  @Override
  public void watchExit(ContainerId id, long pid, Consumer<Exit> onExit) {
    watchers.put(id, onExit);
  }

  /** What {@link #latestCheckpoint} answers; and, when set, why {@link #startFromCheckpoint} could not restore (it starts cold). */
  volatile CheckpointFacts latest;
  volatile String restoreFails;
  final Map<ContainerId, Duration> schedules = new ConcurrentHashMap<>();

  @Override
  public Restored startFromCheckpoint(ContainerSpec spec, String address, int prefixLength, long checkpoint) {
    calls.add("restore " + spec.id() + " checkpoint " + checkpoint);
    long pid = nextPid.incrementAndGet();
    running.put(spec.id(), pid);
    return new Restored(pid, restoreFails == null ? "" : restoreFails);
  }

  @Override
  public Optional<CheckpointFacts> latestCheckpoint(ContainerId id) {
    return Optional.ofNullable(latest);
  }

  @Override
  public void scheduleCheckpoints(ContainerId id, Duration every) {
    calls.add("schedule " + id + " " + every);
    if (every.isZero()) schedules.remove(id);
    else schedules.put(id, every);
  }

  private static void await(java.util.concurrent.CountDownLatch latch) {
    try {
      if (latch != null && !latch.await(10, java.util.concurrent.TimeUnit.SECONDS)) throw new IllegalStateException("held for 10 s: nobody let it go");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The init ends by itself, as the kernel would report it. */
  void exit(ContainerId id, int code) {
    running.remove(id);
    watchers.remove(id).accept(new Exit(code, 0));
  }

  /** The guest rebooted itself (a systemd's reboot, ended by the kernel's SIGHUP). */
  void reboot(ContainerId id) {
    running.remove(id);
    watchers.remove(id).accept(new Exit(0, 0, true));
  }
}
