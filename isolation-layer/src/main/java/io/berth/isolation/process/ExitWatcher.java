package io.berth.isolation.process;

import io.berth.isolation.nativ.SyscallException;
import io.berth.isolation.nativ.Syscalls;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tells promptly when a shim exits (its container's init ended and the shim recorded how): one
 * daemon thread per watched shim waits on a pidfd with poll(2), which reports it readable when the
 * process exits (pidfd_open(2)). The shim is not our child, so waitpid is not an option; the pidfd
 * also rules out pid reuse.
 */
public final class ExitWatcher implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ExitWatcher.class);
  private static final int POLL_MILLIS = 500;
  private final Map<String, Thread> threads = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * Watches {@code shimPid}; calls {@code onExit} once when it exits (immediately when it is
   * already gone). Replaces an earlier watch under the same key.
   */
  public void watch(String key, int shimPid, Runnable onExit) {
    int fd = Syscalls.pidfdOpen(shimPid);
    if (fd < 0) {
      onExit.run();
      return;
    }
    Thread t = new Thread(() -> loop(key, fd, onExit), "berth-exit-" + key);
    t.setDaemon(true);
    Thread old = threads.put(key, t);
    if (old != null) old.interrupt();
    t.start();
  }

  /** Stops watching {@code key}; no callback follows. */
  public void cancel(String key) {
    Thread t = threads.remove(key);
    if (t != null) t.interrupt();
  }

  private void loop(String key, int fd, Runnable onExit) {
    boolean failing = false;
    try {
      while (!closed && !Thread.currentThread().isInterrupted()) {
        boolean exited;
        try {
          exited = Syscalls.pollExited(fd, POLL_MILLIS);
          failing = false;
        } catch (SyscallException e) {
          // A watch that died would leave the container's exit unseen: say so and keep polling.
          if (!failing) LOG.error("watching the exit of {} (pidfd {}): {}; polling again", key, fd, e.getMessage());
          failing = true;
          sleep();
          continue;
        }
        if (exited) {
          if (threads.remove(key, Thread.currentThread())) onExit.run();
          return;
        }
      }
    } finally {
      Syscalls.close(fd);
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(POLL_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    threads.values().forEach(Thread::interrupt);
    threads.clear();
  }
}
