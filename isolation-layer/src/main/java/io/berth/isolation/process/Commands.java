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
 */
public final class Commands {
  private static final long LINGER_MILLIS = 300;

  private Commands() {}

  /**
   * The outcome of a finished command.
   *
   * @param exitCode its status (128+signal when a signal ended it), -1 when it timed out
   */
  public record Result(List<String> argv, int exitCode, String stdout, String stderr, boolean timedOut) {
    public boolean ok() {
      return exitCode == 0 && !timedOut;
    }

    /** A one-line account for error messages: the command, how it ended and what it said. */
    public String describe() {
      String said = (stderr.isBlank() ? stdout : stderr).strip();
      if (said.length() > 2000) said = "..." + said.substring(said.length() - 2000);
      return String.join(" ", argv) + (timedOut ? " timed out" : " exited " + exitCode) + (said.isEmpty() ? "" : ": " + said);
    }
  }

  public static Result run(List<String> argv, byte[] stdin, Duration timeout) {
    return start(argv, stdin, timeout).await();
  }

  /** Starts a tool and returns at once: {@link Running#await()} waits for it (within the timeout given here). */
  public static Running start(List<String> argv, byte[] stdin, Duration timeout) {
    ProcessBuilder pb = new ProcessBuilder(argv);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("start " + argv.get(0), e);
    }
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread errReader = new Thread(() -> copy(p.getErrorStream(), err), "stderr-" + argv.get(0));
    errReader.setDaemon(true);
    errReader.start();
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) in.write(stdin);
    } catch (IOException e) {
      // The tool closed its stdin early (it failed before reading); its exit status says why.
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Thread outReader = new Thread(() -> copy(p.getInputStream(), out), "stdout-" + argv.get(0));
    outReader.setDaemon(true);
    outReader.start();
    return new Running(List.copyOf(argv), p, out, err, outReader, errReader, System.nanoTime() + timeout.toNanos());
  }

  /** A tool started by {@link #start}: await it once (an undo may await it too: the second call answers the same). */
  public static final class Running {
    private final List<String> argv;
    private final Process p;
    private final ByteArrayOutputStream out;
    private final ByteArrayOutputStream err;
    private final Thread outReader;
    private final Thread errReader;
    private final long deadline;
    private Result result;

    private Running(List<String> argv, Process p, ByteArrayOutputStream out, ByteArrayOutputStream err, Thread outReader,
        Thread errReader, long deadline) {
      this.argv = argv;
      this.p = p;
      this.out = out;
      this.err = err;
      this.outReader = outReader;
      this.errReader = errReader;
      this.deadline = deadline;
    }

    public synchronized Result await() {
      if (result != null) return result;
      boolean finished;
      try {
        finished = p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (!finished) {
          p.destroy(); // SIGTERM first: the helper forwards it as SIGKILL to what it runs
          if (!p.waitFor(2, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
          }
        }
        // What the tool wrote is in the pipe already; a background process it left holding the pipe
        // (e.g. `sleep 60 &` under exec) must not hold the caller too, so the wait is short.
        outReader.join(LINGER_MILLIS);
        errReader.join(LINGER_MILLIS);
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while running " + argv.get(0), e);
      }
      String o;
      String e;
      synchronized (out) {
        o = out.toString(StandardCharsets.UTF_8);
      }
      synchronized (err) {
        e = err.toString(StandardCharsets.UTF_8);
      }
      result = new Result(argv, finished ? p.exitValue() : -1, o, e, !finished);
      return result;
    }
  }

  private static void copy(InputStream in, ByteArrayOutputStream to) {
    byte[] buf = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buf)) > 0) {
        synchronized (to) {
          to.write(buf, 0, n);
        }
      }
    } catch (IOException e) {
      // stream closed when the process was killed: what was read so far is kept
    }
  }
}
