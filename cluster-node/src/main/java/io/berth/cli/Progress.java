package io.berth.cli;

import java.io.PrintStream;

/**
 * Progress for anything longer than a second, on stderr: a spinner with the elapsed time when stderr is a
 * terminal (the launcher tells, as Java cannot ask isatty(2)), one "waiting for ..." line otherwise. Nothing at
 * all when the answer comes within the second.
 */
final class Progress implements AutoCloseable {
  private static final String FRAMES = "|/-\\";
  private final PrintStream err;
  private final String what;
  private final boolean terminal;
  private final long startNanos = System.nanoTime();
  private final Thread thread;
  private volatile boolean done;
  private boolean drew;

  private Progress(PrintStream err, String what, boolean terminal) {
    this.err = err;
    this.what = what;
    this.terminal = terminal;
    this.thread = new Thread(this::run, "berth-progress");
    thread.setDaemon(true);
    thread.start();
  }

  static Progress start(PrintStream err, String what, boolean terminal) {
    return new Progress(err, what, terminal);
  }

  private void run() {
    try {
      Thread.sleep(1000);
      if (done) return;
      synchronized (this) {
        if (done) return;
        if (!terminal) {
          err.println("berth: waiting for " + what + " ...");
          return;
        }
      }
      for (int frame = 0; !done; frame++) {
        synchronized (this) {
          if (done) return;
          double s = (System.nanoTime() - startNanos) / 1e9;
          err.print(String.format("\r%c %s (%.1fs)", FRAMES.charAt(frame % FRAMES.length()), what, s));
          err.flush();
          drew = true;
        }
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      done = true;
      if (drew) {
        err.print("\r\033[K");
        err.flush();
      }
    }
    thread.interrupt();
  }
}
