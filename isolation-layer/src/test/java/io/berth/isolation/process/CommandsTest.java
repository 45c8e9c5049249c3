package io.berth.isolation.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.isolation.nativ.Syscalls;
import java.io.FileOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Host tools run for real: output, bounds, timeouts, and what a running command costs the JVM in threads. */
class CommandsTest {
  private static final Duration BOUND = Duration.ofSeconds(20);
  private final List<Integer> leftBehind = new ArrayList<>();
  private final List<Commands.Running> running = new ArrayList<>();

  @BeforeEach
  void linux() {
    assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "runs Linux tools");
  }

  @AfterEach
  void cleanUp() {
    for (int pid : leftBehind) {
      int fd = Syscalls.pidfdOpen(pid);
      if (fd < 0) continue;
      try {
        Syscalls.pidfdSendSignal(fd, 9, "left-behind " + pid);
      } finally {
        Syscalls.close(fd);
      }
    }
    running.forEach(Commands.Running::await); // bounded by their own timeouts
  }

  @Test
  void capturesBothStreamsTheStatusAndStdin() {
    Commands.Result r = Commands.run(List.of("/bin/sh", "-c", "cat; echo oops >&2; exit 3"), "hello\n".getBytes(StandardCharsets.UTF_8),
        BOUND);
    assertEquals(3, r.exitCode());
    assertEquals("hello\n", r.stdout());
    assertEquals("oops\n", r.stderr());
    assertFalse(r.timedOut());
    assertFalse(r.truncated());
    assertEquals("/bin/sh -c cat; echo oops >&2; exit 3 exited 3: oops", r.describe());
  }

  /**
   * A binary still open for writing cannot be executed (ETXTBSY): as when another thread forked just after it was
   * written and the child still holds the descriptor. The exec is tried again and runs once the writer has closed it;
   * held open for good, it fails after the tries, saying so.
   */
  @Test
  void aBinaryStillOpenForWritingRunsOnceClosedAndFailsSayingSoWhenItStaysOpen() throws Exception {
    Path dir = Files.createTempDirectory("commands-busy");
    Path echo = dir.resolve("echo");
    try {
      Files.copy(Path.of("/bin/echo"), echo);
      Files.setPosixFilePermissions(echo, PosixFilePermissions.fromString("rwxr-xr-x"));
      FileOutputStream writer = new FileOutputStream(echo.toFile(), true);
      Thread closer = new Thread(() -> {
        try {
          Thread.sleep(80);
          writer.close();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      closer.start();
      Commands.Result r = Commands.run(List.of(echo.toString(), "ran"), null, BOUND);
      closer.join(BOUND.toMillis());
      assertEquals("ran\n", r.stdout(), r.describe());

      try (FileOutputStream held = new FileOutputStream(echo.toFile(), true)) {
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
            () -> Commands.run(List.of(echo.toString(), "never"), null, BOUND));
        assertTrue(e.getCause().getMessage().contains("Text file busy"), e.getCause().getMessage());
      }
    } finally {
      Files.deleteIfExists(echo);
      Files.deleteIfExists(dir);
    }
  }

  @Test
  void outputLargerThanAPipeArrivesWhole() {
    // About 1.3 MB: twenty pipes' worth, drained while the tool writes.
    Commands.Result r = Commands.run(List.of("seq", "1", "200000"), null, BOUND, 4 << 20);
    assertTrue(r.ok(), r.describe());
    String expected = IntStream.rangeClosed(1, 200000).mapToObj(Integer::toString).collect(Collectors.joining("\n", "", "\n"));
    assertEquals(expected, r.stdout());
    assertFalse(r.truncated());
  }

  @Test
  void outputPastTheBoundIsDroppedAndSaid() {
    long t0 = System.nanoTime();
    Commands.Result r = Commands.run(List.of("head", "-c", "5000000", "/dev/zero"), null, BOUND);
    assertTrue(r.ok(), "the tool ran to its end, not blocked on a full pipe: " + r.describe());
    assertEquals(Commands.DEFAULT_MAX_OUTPUT, r.stdout().length(), "bytes kept");
    assertTrue(r.truncated());
    assertTrue(r.describe().contains("output cut"), r.describe());
    assertTrue(System.nanoTime() - t0 < BOUND.toNanos());
  }

  @Test
  void aToolPastItsTimeoutIsKilledAndReportedSo() {
    long t0 = System.nanoTime();
    Commands.Result r = Commands.run(List.of("sleep", "30"), null, Duration.ofMillis(200));
    long took = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(r.timedOut(), r.describe());
    assertEquals(-1, r.exitCode());
    assertTrue(took < 5_000, "sleep 30 with a 200 ms timeout took " + took + " ms");
    assertTrue(r.describe().endsWith("timed out"), r.describe());
  }

  @Test
  void aTimedOutToolTakesWhatItStartedWithIt() throws Exception {
    java.nio.file.Path pidFile = java.nio.file.Files.createTempFile("berth-commands", ".pid");
    try {
      // The child has a session of its own (as a restore's shim has): only the tool's descendants name it.
      Commands.Result r = Commands.run(List.of("/bin/sh", "-c", "setsid sleep 60 & echo $! > " + pidFile + "; wait"), null, Duration.ofMillis(500));
      assertTrue(r.timedOut(), r.describe());
      long child = Long.parseLong(java.nio.file.Files.readString(pidFile).strip());
      assertGone(child);
    } finally {
      java.nio.file.Files.deleteIfExists(pidFile);
    }
  }

  @Test
  void aToolAbandonedByItsCallerEndsAtOnceWithEverythingBelowIt() throws Exception {
    java.nio.file.Path pidFile = java.nio.file.Files.createTempFile("berth-commands", ".pid");
    try {
      Commands.Running c = Commands.start(List.of("/bin/sh", "-c", "setsid sleep 60 & echo $! > " + pidFile + "; wait"), null, BOUND);
      long t0 = System.nanoTime();
      Commands.Result r = c.awaitUnless(() -> (System.nanoTime() - t0) > 300_000_000L && pidFile.toFile().length() > 0);
      long took = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(r.timedOut(), "an abandoned tool reads as timed out: " + r.describe());
      assertTrue(took < 5_000, "abandoned after 300 ms, it took " + took + " ms");
      assertGone(Long.parseLong(java.nio.file.Files.readString(pidFile).strip()));
      assertTrue(Commands.start(List.of("/bin/true"), null, BOUND).awaitUnless(() -> false).ok(), "never abandoned, it ends as it would");
    } finally {
      java.nio.file.Files.deleteIfExists(pidFile);
    }
  }

  /** The process is gone within 5 s (init reaps it once its parent, the killed shell, is gone). */
  private static void assertGone(long pid) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      if (System.nanoTime() > deadline) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        throw new AssertionError("process " + pid + ", started by the tool, still runs 5 s after the tool was killed");
      }
      Thread.sleep(20);
    }
  }

  @Test
  void aProcessLeftHoldingThePipeDoesNotHoldTheCaller() {
    long t0 = System.nanoTime();
    Commands.Result r = Commands.run(List.of("/bin/sh", "-c", "echo hi; sleep 60 & echo $! >&2"), null, BOUND);
    long took = (System.nanoTime() - t0) / 1_000_000;
    leftBehind.add(Integer.parseInt(r.stderr().strip()));
    assertTrue(r.ok(), r.describe());
    assertEquals("hi\n", r.stdout());
    assertTrue(took < 2_000, "the shell exited at once, its background sleep holds the pipe: took " + took + " ms");
  }

  @Test
  void startThenAwaitAnswersTheSameTwice() {
    Commands.Running c = Commands.start(List.of("/bin/echo", "x"), null, BOUND);
    Commands.Result a = c.await();
    assertSame(a, c.await());
    assertEquals("x\n", a.stdout());
  }

  @Test
  void runningCommandsCostNoThreadsBeyondTheJdksReaper() throws Exception {
    int n = 20;
    Set<Long> before = threadIds();
    for (int i = 0; i < n; i++) running.add(Commands.start(List.of("/bin/sh", "-c", "echo out; echo err >&2; sleep 1"), null, BOUND));
    Thread.sleep(200);
    List<String> added = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) if (!before.contains(t.getId())) added.add(t.getName());
    assertTrue(added.stream().allMatch(name -> name.startsWith("process reaper")),
        "threads started while " + n + " commands run must be the JDK's process reapers only: " + added);
    assertTrue(added.size() <= n, "at most one reaper per running child: " + added.size());
    for (Commands.Running c : running) {
      Commands.Result r = c.await();
      assertTrue(r.ok(), r.describe());
      assertEquals("out\n", r.stdout());
      assertEquals("err\n", r.stderr());
    }
  }

  private static Set<Long> threadIds() {
    Set<Long> ids = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) ids.add(t.getId());
    return ids;
  }
}
