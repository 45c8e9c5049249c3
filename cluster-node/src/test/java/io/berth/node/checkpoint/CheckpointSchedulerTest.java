package io.berth.node.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.ids.ContainerId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The host's one scheduler, on a clock the test moves and a host that records what it is asked. */
class CheckpointSchedulerTest {
  private final ExecutorService blocking = Executors.newFixedThreadPool(8);
  private final MovableClock clock = new MovableClock();
  private final FakeHost host = new FakeHost();
  /** A long tick: the test runs each round itself. */
  private final CheckpointScheduler scheduler = new CheckpointScheduler(host, blocking, clock, Duration.ofSeconds(10), 2);

  @AfterEach
  void close() {
    scheduler.close();
    blocking.shutdownNow();
  }

  @Test
  void dueContainersAreCheckpointedAtMostParallelAtOnceNeverTwiceTheSameAndStoppedOnesSkipped() throws Exception {
    ContainerId a = ContainerId.of("a");
    ContainerId b = ContainerId.of("b");
    ContainerId c = ContainerId.of("c");
    ContainerId stopped = ContainerId.of("stopped");
    for (ContainerId id : List.of(a, b, c, stopped)) scheduler.schedule(id, Duration.ofSeconds(30));
    host.running.addAll(Set.of(a, b, c));
    scheduler.round();
    assertEquals(0, host.taken.size(), "nothing is due before its period");

    clock.advance(Duration.ofSeconds(31));
    host.hold = new CountDownLatch(1);
    scheduler.round();
    awaitTrue("two checkpoints under way", () -> host.inProgress.get() == 2);
    scheduler.round();
    scheduler.round();
    Thread.sleep(100);
    assertEquals(2, host.maxInProgress.get(), "at most parallel (2) at once");
    host.hold.countDown();
    awaitTrue("the third taken in a later round", () -> {
      scheduler.round();
      return host.taken.size() == 3;
    });
    assertEquals(Set.of(a, b, c), Set.copyOf(host.taken), "each once; the stopped one skipped");
    Thread.sleep(100);
    scheduler.round();
    assertEquals(3, host.taken.size(), "each is due again only a period after its last one ended");
    assertEquals(1, host.maxSameAtOnce.get(), "never two of the same container at once");
  }

  @Test
  void aFailedCheckpointLeavesTheScheduleAndOffDeletesTheKeptOnes() throws Exception {
    ContainerId a = ContainerId.of("a");
    host.running.add(a);
    host.fail = true;
    scheduler.schedule(a, Duration.ofSeconds(10));
    clock.advance(Duration.ofSeconds(11));
    scheduler.round();
    awaitTrue("the failing checkpoint tried", () -> host.tried.get() == 1);
    assertEquals(Duration.ofSeconds(10), scheduler.scheduled(a).orElseThrow(), "a failure keeps the schedule");
    scheduler.schedule(a, Duration.ZERO);
    awaitTrue("its checkpoints deleted", () -> host.deleted.contains(a));
    assertTrue(scheduler.scheduled(a).isEmpty());
  }

  private static void awaitTrue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) return;
      Thread.sleep(10);
    }
    throw new AssertionError("within 5 s, no " + what);
  }

  private static final class FakeHost implements CheckpointScheduler.Host {
    final Set<ContainerId> running = ConcurrentHashMap.newKeySet();
    final List<ContainerId> taken = new CopyOnWriteArrayList<>();
    final Set<ContainerId> deleted = ConcurrentHashMap.newKeySet();
    final AtomicInteger inProgress = new AtomicInteger();
    final AtomicInteger maxInProgress = new AtomicInteger();
    final AtomicInteger maxSameAtOnce = new AtomicInteger();
    final AtomicInteger tried = new AtomicInteger();
    final Map<ContainerId, AtomicInteger> perContainer = new ConcurrentHashMap<>();
    volatile CountDownLatch hold;
    volatile boolean fail;

    @Override
    public boolean running(ContainerId id) {
      return running.contains(id);
    }

    @Override
    public void checkpoint(ContainerId id) {
      tried.incrementAndGet();
      if (fail) throw new IllegalStateException("criu dump failed");
      int now = inProgress.incrementAndGet();
      maxInProgress.accumulateAndGet(now, Math::max);
      maxSameAtOnce.accumulateAndGet(perContainer.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet(), Math::max);
      try {
        CountDownLatch h = hold;
        if (h != null && !h.await(5, TimeUnit.SECONDS)) throw new IllegalStateException("held for 5 s");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        perContainer.get(id).decrementAndGet();
        inProgress.decrementAndGet();
      }
      taken.add(id);
    }

    @Override
    public void deleteCheckpoints(ContainerId id) {
      deleted.add(id);
    }
  }

  private static final class MovableClock extends Clock {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
