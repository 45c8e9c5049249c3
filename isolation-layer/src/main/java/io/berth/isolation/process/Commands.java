package io.berth.isolation.process;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a host tool ({@code ip}, {@code criu}, {@code tar}, the helper) to completion with a bounded
 * wait, capturing its output. A process that outlives its timeout is killed and reported as such.
 *
 * <p><b>No thread of its own.</b> A running command costs the JDK's process reaper thread (shared, one per live
 * child) and nothing else: its stdout and stderr pipes are drained by the thread that awaits it, between waits
 * for its exit ({@link Process#waitFor(long, TimeUnit)} returns at the exit), reading only what the pipe holds
 * ({@link InputStream#available()}, FIONREAD on a pipe), so a read never blocks on a process that a tool left
 * behind holding its pipe (e.g. {@code sleep 60 &} under exec). Until {@link Running#await()} is called the
 * output waits in the pipe: a tool that writes more than a pipe holds (64 KiB) before then waits for the await.
 * The stdin given is written before any output is read (the tools here read all their input first).
 *
 * <p><b>Bounded output.</b> At most {@link #DEFAULT_MAX_OUTPUT} bytes of each stream are kept (or the bound
 * given); the rest is read and dropped, so the tool never blocks on it, and {@link Result#truncated()} says so.
 */
public final class Commands {
  /** What is kept of each of stdout and stderr unless a caller names another bound. */
  public static final int DEFAULT_MAX_OUTPUT = 1 << 20;
  /** The longest wait for the exit between two drains of the pipes while the tool writes nothing. */
  private static final long MAX_SLICE_MILLIS = 50;
  /** How often {@link Running#awaitUnless} asks whether to give up. */
  private static final long ABANDON_CHECK_MILLIS = 100;

  private Commands() {}

  /**
   * The outcome of a finished command.
   *
   * @param exitCode  its status (128+signal when a signal ended it), -1 when it timed out
   * @param truncated output past the bound was dropped (from stdout, stderr or both)
   */
  public record Result(List<String> argv, int exitCode, String stdout, String stderr, boolean timedOut, boolean truncated) {
    public boolean ok() {
      return exitCode == 0 && !timedOut;
    }

    /** A one-line account for error messages: the command, how it ended and what it said (its last 2000 chars). */
    public String describe() {
      String said = (stderr.isBlank() ? stdout : stderr).strip();
      if (said.length() > 2000) said = "..." + said.substring(said.length() - 2000);
      return String.join(" ", argv) + (timedOut ? " timed out" : " exited " + exitCode)
          + (truncated ? " (output cut: only the first bytes of each stream were kept)" : "") + (said.isEmpty() ? "" : ": " + said);
    }
  }

  public static Result run(List<String> argv, byte[] stdin, Duration timeout) {
    return start(argv, stdin, timeout).await();
  }

  /** {@link #run} keeping up to {@code maxOutput} bytes of each stream. */
  public static Result run(List<String> argv, byte[] stdin, Duration timeout, int maxOutput) {
    return start(argv, stdin, timeout, maxOutput).await();
  }

  /** Starts a tool and returns at once: {@link Running#await()} waits for it (within the timeout given here). */
  public static Running start(List<String> argv, byte[] stdin, Duration timeout) {
    return start(argv, stdin, timeout, DEFAULT_MAX_OUTPUT);
  }

  public static Running start(List<String> argv, byte[] stdin, Duration timeout, int maxOutput) {
    Process p = exec(new ProcessBuilder(argv));
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) in.write(stdin);
    } catch (IOException e) {
      // The tool closed its stdin early (it failed before reading); its exit status says why.
    }
    return new Running(List.copyOf(argv), p, maxOutput, System.nanoTime() + timeout.toNanos());
  }

  /**
   * Starts the process. An exec can fail with ETXTBSY ("Text file busy") when the binary was written just before and
   * another thread of this JVM forked meanwhile: the child holds the write descriptor until it execs (seen in CI, with
   * the helpers Berth installs at start). Nothing was started by a failed exec, so it is tried again, up to 5 times
   * 50 ms apart.
   */
  private static Process exec(ProcessBuilder pb) {
    String program = pb.command().get(0);
    for (int attempt = 1; ; attempt++) {
      try {
        return pb.start();
      } catch (IOException e) {
        if (attempt >= TEXT_BUSY_ATTEMPTS || !String.valueOf(e.getMessage()).contains("Text file busy")) {
          throw new UncheckedIOException("start " + program, e);
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new UncheckedIOException("start " + program, new java.io.InterruptedIOException("interrupted while the binary was busy"));
      }
    }
  }

  private static final int TEXT_BUSY_ATTEMPTS = 5;

  /** A tool started by {@link #start}: await it once (an undo may await it too: the second call answers the same). */
  public static final class Running {
    private final List<String> argv;
    private final Process p;
    private final Capture out;
    private final Capture err;
    private final long deadline;
    private Result result;

    private Running(List<String> argv, Process p, int maxOutput, long deadline) {
      this.argv = argv;
      this.p = p;
      this.out = new Capture(p.getInputStream(), maxOutput);
      this.err = new Capture(p.getErrorStream(), maxOutput);
      this.deadline = deadline;
    }

    public synchronized Result await() {
      return awaitUnless(() -> false);
    }

    /**
     * {@link #await()}, looking at {@code abandon} every {@value #ABANDON_CHECK_MILLIS} ms while the tool runs: once it
     * says true, the tool and every process below it (which a tool's children may have put in a session of their
     * own) are killed with SIGKILL, and the result reads as timed out. For a tool that waits on something that
     * another process's end makes hopeless (a CRIU restore whose lazy-pages daemon died).
     */
    public synchronized Result awaitUnless(java.util.function.BooleanSupplier abandon) {
      if (result != null) return result;
      boolean finished;
      try {
        finished = false;
        while (!finished && System.nanoTime() < deadline) {
          finished = drainUntilExit(Math.min(deadline, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ABANDON_CHECK_MILLIS)));
          if (!finished && abandon.getAsBoolean()) {
            killTree();
            drainUntilExit(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
            break;
          }
        }
        if (!finished && p.isAlive()) {
          List<ProcessHandle> below = p.descendants().toList();
          p.destroy(); // SIGTERM first: the helper forwards it as SIGKILL to what it runs
          if (!drainUntilExit(System.nanoTime() + TimeUnit.SECONDS.toNanos(2))) {
            p.destroyForcibly();
            drainUntilExit(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
          }
          // What it started goes with it: a timed-out restore's shim and CRIU stayed behind without this.
          for (ProcessHandle h : below) h.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while running " + argv.get(0), e);
      }
      // What the tool wrote before it exited is in the pipe already; what a process it left behind writes later is
      // not waited for (the JDK reaper takes the pipe's rest and closes it when it sees the exit).
      out.drain();
      err.drain();
      out.close();
      err.close();
      result = new Result(argv, finished ? p.exitValue() : -1, out.text(), err.text(), !finished, out.dropped || err.dropped);
      return result;
    }

    /** SIGKILLs the tool's descendants (deepest first, as listed before any dies) and then the tool. */
    private void killTree() {
      List<ProcessHandle> below = p.descendants().toList();
      for (int i = below.size() - 1; i >= 0; i--) below.get(i).destroyForcibly();
      p.destroyForcibly();
    }

    /** Drains both pipes until the tool exits (true) or {@code until} passes (false). */
    private boolean drainUntilExit(long until) throws InterruptedException {
      long slice = 1;
      while (true) {
        boolean moved = out.drain() | err.drain();
        long left = until - System.nanoTime();
        if (left <= 0) return !p.isAlive();
        // A tool that is writing gets its pipes emptied every millisecond; a quiet one is looked at less often.
        slice = moved ? 1 : Math.min(MAX_SLICE_MILLIS, slice * 2);
        if (p.waitFor(Math.min(TimeUnit.MILLISECONDS.toNanos(slice), left), TimeUnit.NANOSECONDS)) return true;
      }
    }
  }

  /** One output stream: what the pipe holds is read without blocking; the first {@code max} bytes are kept. */
  private static final class Capture {
    private final InputStream in;
    private final int max;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final byte[] buf = new byte[8192];
    private boolean dropped;
    private boolean closed;

    Capture(InputStream in, int max) {
      this.in = in;
      this.max = max;
    }

    /** Reads what is available now; true when it read anything. */
    boolean drain() {
      if (closed) return false;
      boolean any = false;
      try {
        int a;
        while ((a = in.available()) > 0) {
          int n = in.read(buf, 0, Math.min(a, buf.length));
          if (n <= 0) break;
          any = true;
          int keep = Math.min(n, max - kept.size());
          if (keep > 0) kept.write(buf, 0, keep);
          if (keep < n) dropped = true;
        }
      } catch (IOException e) {
        // the stream was closed under us (the reaper swaps it at the exit): what was read is kept
      }
      return any;
    }

    void close() {
      closed = true;
      try {
        in.close();
      } catch (IOException e) {
        // nothing more to read either way
      }
    }

    String text() {
      return kept.toString(StandardCharsets.UTF_8);
    }
  }
}
