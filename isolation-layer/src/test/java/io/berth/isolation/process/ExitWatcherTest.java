package io.berth.isolation.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.isolation.nativ.Syscalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The exit watcher against the real kernel: real processes (not children of this JVM, as the shims are not), real
 * pidfds in one epoll set, the JVM's own thread and descriptor counts read from /proc/self.
 */
class ExitWatcherTest {
  private static final int SIGKILL = 9;
  private static final Duration BOUND = Duration.ofSeconds(20);

  /** Every process a test started: pid and the test's own pidfd (it kills through it: no pid-reuse race). */
  private final List<int[]> started = new ArrayList<>();
  private final List<Process> children = new ArrayList<>();

  @BeforeEach
  void linux() {
    assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "pidfds and epoll are Linux's");
  }

  @AfterEach
  void killEverything() {
    for (int[] p : started) {
      try {
        Syscalls.pidfdSendSignal(p[1], SIGKILL, "test process " + p[0]);
      } finally {
        Syscalls.close(p[1]);
      }
    }
    started.clear();
    children.forEach(Process::destroyForcibly);
    children.clear();
  }

  @Test
  void oneThreadWatchesThreeHundredProcessesAndReportsEachExitOnce() throws Exception {
    int n = 300;
    List<Integer> pids = sleepers(n);
    // Taken after the sleepers' launcher exited (the JDK's reaper thread for it may linger, idle, either way).
    int threads = tasks();
    int fds = descriptors();
    int javaThreads = ManagementFactory.getThreadMXBean().getThreadCount();
    Map<String, AtomicInteger> reported = new ConcurrentHashMap<>();
    CountDownLatch all = new CountDownLatch(n);
    ExitWatcher w = new ExitWatcher();
    try {
      for (int i = 0; i < n; i++) {
        String key = "p" + i;
        w.watch(key, pids.get(i), () -> {
          reported.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
          all.countDown();
        });
      }
      assertEquals(n, w.watching(), "watches waiting for an exit");
      assertTrue(tasks() <= threads + 1, "watching " + n + " processes: the JVM had " + threads + " threads, now " + tasks()
          + " (one epoll thread expected): " + taskNames());
      assertTrue(ManagementFactory.getThreadMXBean().getThreadCount() <= javaThreads + 1, "Java threads watching " + n + " processes: "
          + ManagementFactory.getThreadMXBean().getThreadCount() + ", before " + javaThreads);
      assertEquals(1, threadNames().stream().filter(t -> t.startsWith("berth-exit-watcher")).count(), "exit watcher threads");
      assertEquals(fds + n + 2, descriptors(), "descriptors while watching: one pidfd each, the epoll fd and the eventfd");
      for (int[] p : started) Syscalls.pidfdSendSignal(p[1], SIGKILL, "sleeper " + p[0]);
      assertTrue(all.await(BOUND.toSeconds(), TimeUnit.SECONDS), "exits reported: " + (n - all.getCount()) + " of " + n
          + " within " + BOUND.toSeconds() + " s");
      assertTrue(tasks() <= threads + 1 + ExitWatcher.CALLBACK_THREADS, "threads while reporting: " + taskNames());
      Thread.sleep(300); // a second report would come about now
      assertEquals(n, reported.size());
      reported.forEach((k, c) -> assertEquals(1, c.get(), "reports of " + k));
      assertEquals(0, w.watching(), "watches left after every process exited");
      assertEquals(fds + 2, descriptors(), "descriptors once every exit was reported: the pidfds closed");
    } finally {
      w.close();
    }
    assertEquals(fds, descriptors(), "descriptors after close(): the epoll fd and eventfd closed too");
    await("the watcher's threads ended after close()", () -> threadNames().stream().noneMatch(t -> t.startsWith("berth-exit-watcher")));
    assertTrue(tasks() <= threads, "threads after close(): " + tasks() + ", before " + threads + ": " + taskNames());
  }

  @Test
  void aCancelledWatchReportsNothing() throws Exception {
    List<Integer> pids = sleepers(2);
    CountDownLatch kept = new CountDownLatch(1);
    AtomicInteger cancelled = new AtomicInteger();
    try (ExitWatcher w = new ExitWatcher()) {
      w.watch("cancelled", pids.get(0), cancelled::incrementAndGet);
      w.watch("kept", pids.get(1), kept::countDown);
      w.cancel("cancelled");
      assertEquals(1, w.watching());
      killAll();
      assertTrue(kept.await(BOUND.toSeconds(), TimeUnit.SECONDS), "the watch left in place reported its exit");
      Thread.sleep(300);
      assertEquals(0, cancelled.get(), "callbacks of the cancelled watch");
    }
  }

  @Test
  void aWatchUnderTheSameKeyReplacesTheEarlierOne() throws Exception {
    List<Integer> pids = sleepers(2);
    AtomicInteger first = new AtomicInteger();
    CountDownLatch second = new CountDownLatch(1);
    try (ExitWatcher w = new ExitWatcher()) {
      w.watch("k", pids.get(0), first::incrementAndGet);
      w.watch("k", pids.get(1), second::countDown);
      assertEquals(1, w.watching(), "one watch under k");
      Syscalls.pidfdSendSignal(started.get(0)[1], SIGKILL, "first");
      int firstFd = started.get(0)[1];
      await("the first process gone", () -> Syscalls.pollExited(firstFd, 10));
      Thread.sleep(300);
      assertEquals(0, first.get(), "callbacks of the replaced watch");
      Syscalls.pidfdSendSignal(started.get(1)[1], SIGKILL, "second");
      assertTrue(second.await(BOUND.toSeconds(), TimeUnit.SECONDS), "the replacing watch reported its process's exit");
      assertEquals(0, first.get());
    }
  }

  @Test
  void aProcessAlreadyGoneIsReportedAtOnce() throws Exception {
    CountDownLatch reaped = new CountDownLatch(1);
    CountDownLatch zombie = new CountDownLatch(1);
    int z = zombie();
    try (ExitWatcher w = new ExitWatcher()) {
      // No such process (pids stay below pid_max, at most 2^22): pidfd_open says ESRCH.
      w.watch("reaped", Integer.MAX_VALUE, reaped::countDown);
      // Exited but not reaped yet: the pidfd opens and is readable from the start.
      w.watch("zombie", z, zombie::countDown);
      assertTrue(reaped.await(5, TimeUnit.SECONDS), "a pid that does not exist was reported gone");
      assertTrue(zombie.await(5, TimeUnit.SECONDS), "an exited (zombie) process was reported gone");
    }
  }

  @Test
  void aSlowCallbackDoesNotDelayOtherExits() throws Exception {
    List<Integer> pids = sleepers(2);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch slowBegan = new CountDownLatch(1);
    CountDownLatch fast = new CountDownLatch(1);
    try (ExitWatcher w = new ExitWatcher()) {
      w.watch("slow", pids.get(0), () -> {
        slowBegan.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      w.watch("fast", pids.get(1), fast::countDown);
      Syscalls.pidfdSendSignal(started.get(0)[1], SIGKILL, "slow");
      assertTrue(slowBegan.await(BOUND.toSeconds(), TimeUnit.SECONDS), "the slow callback began");
      Syscalls.pidfdSendSignal(started.get(1)[1], SIGKILL, "fast");
      assertTrue(fast.await(BOUND.toSeconds(), TimeUnit.SECONDS), "the second exit was reported while the first callback blocked");
    } finally {
      release.countDown();
    }
  }

  @Test
  void closeEndsTheThreadClosesEveryDescriptorAndReportsNothingMore() throws Exception {
    List<Integer> pids = sleepers(10);
    int fds = descriptors();
    AtomicInteger calls = new AtomicInteger();
    ExitWatcher w = new ExitWatcher();
    for (int i = 0; i < pids.size(); i++) w.watch("c" + i, pids.get(i), calls::incrementAndGet);
    assertEquals(fds + 12, descriptors());
    w.close();
    assertEquals(fds, descriptors(), "descriptors after close()");
    assertTrue(threadNames().stream().noneMatch(t -> t.startsWith("berth-exit-watcher") && !t.contains("callback")),
        "the epoll thread ended within close(): " + threadNames());
    killAll();
    Thread.sleep(300);
    assertEquals(0, calls.get(), "callbacks after close()");
    assertThrows(IllegalStateException.class, () -> w.watch("late", pids.get(0), () -> {}));
    w.close(); // twice is fine
  }

  // ---- processes ---------------------------------------------------------------------------------------------

  /**
   * {@code n} {@code sleep}s that are not this JVM's children (their shell has exited; the JDK keeps a reaper
   * thread only for its own children), each with a pidfd of the test's to kill it by.
   */
  private List<Integer> sleepers(int n) throws Exception {
    Process sh = new ProcessBuilder("/bin/sh", "-c", "i=0; while [ $i -lt " + n + " ]; do sleep 100000 </dev/null >/dev/null 2>&1 & echo $!;"
        + " i=$((i+1)); done").redirectErrorStream(true).start();
    String out = new String(sh.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    if (!sh.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS)) {
      sh.destroyForcibly();
      fail("the launcher of " + n + " sleepers did not exit within " + BOUND.toSeconds() + " s");
    }
    List<Integer> pids = new ArrayList<>();
    for (String line : out.strip().split("\n")) {
      int pid = Integer.parseInt(line.strip());
      int fd = Syscalls.pidfdOpen(pid);
      if (fd < 0) fail("sleeper " + pid + " was gone before the test could watch it");
      started.add(new int[] {pid, fd});
      pids.add(pid);
    }
    assertEquals(n, pids.size(), "sleepers started");
    return pids;
  }

  private void killAll() {
    for (int[] p : started) Syscalls.pidfdSendSignal(p[1], SIGKILL, "sleeper " + p[0]);
  }

  /**
   * The pid of an exited, unreaped process: the child of a shell that then became a sleep that never waits. The child
   * outlives the exec (a child that ended before it was once reaped by the shell in CI), so only the sleep is its parent.
   */
  private int zombie() throws Exception {
    Process p = new ProcessBuilder("/bin/sh", "-c", "sleep 0.3 & echo $!; exec sleep 100000").redirectErrorStream(true).start();
    children.add(p);
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = p.getInputStream().read()) != '\n') {
      if (c < 0) fail("the zombie's parent said nothing");
      line.append((char) c);
    }
    int pid = Integer.parseInt(line.toString().strip());
    await("process " + pid + " a zombie (exited, not reaped)", () -> zombie(pid));
    return pid;
  }

  private static boolean zombie(int pid) {
    try {
      String stat = Files.readString(Path.of("/proc", pid + "/stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException e) {
      return false;
    }
  }

  // ---- the JVM's own view ------------------------------------------------------------------------------------

  /**
   * The process's threads as the kernel counts them, but for those that come and go whatever the watcher does: the
   * JDK's process reapers (its pool of them waits on the test's own sleepers and grows when many exit at once), and
   * HotSpot's compiler and GC workers (started as its load needs them). CI saw one more after close() than before.
   */
  private static int tasks() {
    return taskNames().size();
  }

  /** The names ({@code comm}) of the threads {@link #tasks()} counts, sorted. */
  private static List<String> taskNames() {
    List<String> names = new java.util.ArrayList<>();
    for (String task : list("/proc/self/task")) {
      try {
        String comm = Files.readString(Path.of("/proc/self/task", task, "comm")).strip();
        if (!comm.equals("process reaper") && !comm.matches("C[12] CompilerThre.*|GC Thread#.*|G1 .*")) names.add(comm);
      } catch (IOException gone) {
        // ended while listed
      }
    }
    java.util.Collections.sort(names);
    return names;
  }

  /**
   * The watcher's kinds of descriptor this JVM holds: pidfds, epoll and eventfd instances. Counting every descriptor
   * failed in CI: other descriptors of the JVM (a finished test's pipes, closed by a cleaner) come and go meanwhile.
   */
  private static int descriptors() {
    int n = 0;
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : s.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.equals("anon_inode:[pidfd]") || target.equals("anon_inode:[eventpoll]") || target.equals("anon_inode:[eventfd]")) n++;
        } catch (IOException gone) {
          // closed while listed (the directory stream's own descriptor among them)
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return n;
  }

  private static List<String> list(String dir) {
    try (var s = Files.list(Path.of(dir))) {
      return s.map(p -> p.getFileName().toString()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> threadNames() {
    return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted().toList();
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) return;
      Thread.sleep(10);
    }
    fail(what + ": not within " + BOUND.toSeconds() + " s");
  }
}
