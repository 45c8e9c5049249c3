package io.berth.node.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The pool's own counting: threads + queue admitted, the next refused, also in bursts that find its threads idle. */
class ExecPoolAdmissionTest {
  @Test
  void aBurstIsAdmittedUpToThreadsPlusQueueAlsoWhenItsThreadsAreIdleAlready() throws Exception {
    try (ExecPool pool = new ExecPool("h1", new ExecSettings(2, 1))) {
      // Each round: the threads exist and idle (from the round before), three execs come at once and are all
      // admitted, the fourth is refused. A queue that handed work to idle threads refused the second now and then.
      for (int round = 0; round < 300; round++) {
        CountDownLatch hold = new CountDownLatch(1);
        List<CompletableFuture<Integer>> in = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          int n = i;
          in.add(pool.submit(() -> {
            await(hold);
            return n;
          }));
        }
        int r = round;
        ExecPoolFullException full = assertThrows(ExecPoolFullException.class, () -> pool.submit(() -> 9), "round " + r + ": the fourth is refused");
        assertTrue(full.getMessage().contains("berth.exec.threads"), full.getMessage());
        hold.countDown();
        for (int i = 0; i < 3; i++) assertEquals(i, in.get(i).get(10, TimeUnit.SECONDS), "round " + round + ": exec " + i + " ran");
      }
    }
  }

  @Test
  void atMostThreadsRunAtOnce() throws Exception {
    try (ExecPool pool = new ExecPool("h1", new ExecSettings(2, 4))) {
      CountDownLatch hold = new CountDownLatch(1);
      List<CompletableFuture<Boolean>> in = new ArrayList<>();
      for (int i = 0; i < 6; i++) in.add(pool.submit(() -> await(hold)));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (pool.running() < 2 && System.nanoTime() < deadline) Thread.sleep(5);
      assertEquals(2, pool.running(), "two run");
      assertEquals(4, pool.waiting(), "four wait");
      hold.countDown();
      for (var f : in) assertTrue(f.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void aStoppedPoolRefuses() {
    ExecPool pool = new ExecPool("h1", new ExecSettings(1, 0));
    pool.close();
    ExecPoolFullException e = assertThrows(ExecPoolFullException.class, () -> pool.submit(() -> 1));
    assertTrue(e.getMessage().contains("stopping"), e.getMessage());
  }

  private static boolean await(CountDownLatch latch) {
    try {
      return latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
