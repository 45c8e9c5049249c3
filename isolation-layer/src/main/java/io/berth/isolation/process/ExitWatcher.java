package io.berth.isolation.process;

import io.berth.isolation.nativ.SyscallException;
import io.berth.isolation.nativ.Syscalls;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tells promptly when a shim exits (its container's init ended and the shim recorded how). The shim is not our
 * child, so waitpid is not an option: each watched shim has a pidfd, which becomes readable when the process exits
 * (pidfd_open(2)) and rules out pid reuse. <b>One thread</b> per watcher waits on all of them at once with
 * epoll(7), so a host's hundreds of containers cost a descriptor and a few hundred bytes each, not a thread each.
 *
 * <ul>
 *   <li>{@link #watch} and {@link #cancel} change the epoll set from the caller's thread (epoll_ctl(2) is safe
 *       beside a thread waiting in epoll_wait(2), and a descriptor added during the wait is reported by it). An
 *       eventfd in the set wakes the waiting thread only for {@link #close}.
 *   <li>Callbacks run on a small pool ({@value #CALLBACK_THREADS} threads at most, started on demand, gone after
 *       {@value #CALLBACK_IDLE_SECONDS} s idle), never on the epoll thread nor on the caller of {@code watch}: a
 *       callback may block (the layer's reads the exit file, its listener may do more) without delaying the
 *       report of other exits; exits are reported in the order they were seen.
 *   <li>A failing epoll_wait is logged and retried after {@value #RETRY_MILLIS} ms, for as long as the watcher
 *       is open: a wait that died would leave every container's exit unseen.
 * </ul>
 */
public final class ExitWatcher implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ExitWatcher.class);
  static final int CALLBACK_THREADS = 4;
  static final int CALLBACK_IDLE_SECONDS = 30;
  static final int RETRY_MILLIS = 500;
  private static final int MAX_EVENTS = 64;
  private static final long WAKE = 0; // the eventfd's data in the epoll set; watches count from 1
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  /**
   * One watch. {@code pidfd} is open (and in the epoll set) while {@link #open} holds its token; once its exit was
   * seen the descriptor is closed and the watch stays under its key until its callback begins, so a cancel or a
   * replacing watch before then still suppresses the callback.
   */
  private record Watch(String key, int pidfd, long token, Runnable onExit) {}

  private final Object lock = new Object();
  private final String name = "berth-exit-watcher-" + INSTANCES.incrementAndGet();
  /** Every watch whose callback has not begun, by key. */
  private final Map<String, Watch> watches = new HashMap<>();
  /** The watches whose pidfd is open, by the token epoll reports. */
  private final Map<Long, Watch> open = new HashMap<>();
  private final ThreadPoolExecutor callbacks;
  private long nextToken = WAKE + 1;
  private int epfd = -1;
  private int wakeFd = -1;
  private Thread thread;
  private boolean closed;

  public ExitWatcher() {
    AtomicInteger n = new AtomicInteger();
    callbacks = new ThreadPoolExecutor(CALLBACK_THREADS, CALLBACK_THREADS, CALLBACK_IDLE_SECONDS, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, name + "-callback-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    callbacks.allowCoreThreadTimeOut(true);
  }

  /**
   * Watches {@code pid}; calls {@code onExit} once when it exits (at once, on the callback pool, when it is already
   * gone). Replaces an earlier watch under the same key, whose callback then does not run.
   *
   * @throws IllegalStateException after {@link #close}
   */
  public void watch(String key, int pid, Runnable onExit) {
    synchronized (lock) {
      if (closed) throw new IllegalStateException("exit watcher closed: cannot watch " + key + " (pid " + pid + ")");
      startThread();
      Watch old = watches.remove(key);
      if (old != null) release(old);
      int fd = Syscalls.pidfdOpen(pid);
      Watch w = new Watch(key, fd, nextToken++, onExit);
      watches.put(key, w);
      if (fd < 0) {
        report(w); // gone already (ESRCH)
        return;
      }
      try {
        Syscalls.epollAdd(epfd, fd, Syscalls.EPOLLIN, w.token(), "pidfd of " + key + " (pid " + pid + ")");
      } catch (RuntimeException e) {
        watches.remove(key);
        Syscalls.close(fd);
        throw e;
      }
      open.put(w.token(), w);
    }
  }

  /** Stops watching {@code key}: no callback follows (unless it has already begun; it is not waited for). */
  public void cancel(String key) {
    synchronized (lock) {
      Watch w = watches.remove(key);
      if (w != null) release(w);
    }
  }

  /** How many watches are waiting for their process's exit (their pidfd open). */
  public int watching() {
    synchronized (lock) {
      return open.size();
    }
  }

  /** The callback's pidfd, if still open, leaves the epoll set and is closed. Under the lock. */
  private void release(Watch w) {
    if (open.remove(w.token()) == null) return;
    try {
      Syscalls.epollDelete(epfd, w.pidfd(), "pidfd of " + w.key());
    } catch (SyscallException e) {
      LOG.error("exit watcher: removing the pidfd of {} from the epoll set: {}; closing it anyway", w.key(), e.getMessage());
    }
    Syscalls.close(w.pidfd());
  }

  /** Hands the callback to the pool; it runs only if its watch is still the one under its key then. Under the lock. */
  private void report(Watch w) {
    if (closed) return; // the pool is shut down; no callback begins after close()
    callbacks.execute(() -> {
      synchronized (lock) {
        if (!watches.remove(w.key(), w)) return; // cancelled, replaced or closed meanwhile
      }
      try {
        w.onExit().run();
      } catch (RuntimeException e) {
        LOG.error("exit callback of {} failed", w.key(), e);
      }
    });
  }

  private void startThread() {
    if (thread != null) return;
    epfd = Syscalls.epollCreate();
    try {
      wakeFd = Syscalls.eventfd();
      Syscalls.epollAdd(epfd, wakeFd, Syscalls.EPOLLIN, WAKE, "the exit watcher's eventfd");
    } catch (RuntimeException e) {
      if (wakeFd >= 0) Syscalls.close(wakeFd);
      Syscalls.close(epfd);
      wakeFd = -1;
      epfd = -1;
      throw e;
    }
    thread = new Thread(this::loop, name);
    thread.setDaemon(true);
    thread.setUncaughtExceptionHandler((t, e) -> LOG.error("{} died: container exits are no longer reported", t.getName(), e));
    thread.start();
  }

  private void loop() {
    Syscalls.EpollEvents events = new Syscalls.EpollEvents(MAX_EVENTS);
    boolean failing = false;
    try {
      while (true) {
        synchronized (lock) {
          if (closed) return;
        }
        int n;
        try {
          n = Syscalls.epollWait(epfd, events, -1);
          if (failing) LOG.info("exit watcher: epoll_wait works again");
          failing = false;
        } catch (SyscallException e) {
          if (!failing) LOG.error("exit watcher: {}; waiting again every {} ms", e.getMessage(), RETRY_MILLIS);
          failing = true;
          pause();
          continue;
        }
        for (int i = 0; i < n; i++) {
          long token = events.data(i);
          try {
            if (token == WAKE) Syscalls.eventfdDrain(wakeFd);
            else exited(token);
          } catch (RuntimeException e) {
            LOG.error("exit watcher: handling event {}", token, e);
          }
        }
      }
    } finally {
      closeDescriptors();
    }
  }

  private void exited(long token) {
    synchronized (lock) {
      Watch w = open.get(token);
      if (w == null) return; // cancelled or replaced after epoll_wait returned: its descriptor is closed already
      release(w);
      report(w);
    }
  }

  private static void pause() {
    try {
      Thread.sleep(RETRY_MILLIS);
    } catch (InterruptedException e) {
      // close() does not interrupt; someone else did: the loop checks whether the watcher is closed
    }
  }

  private void closeDescriptors() {
    synchronized (lock) {
      for (Watch w : new ArrayList<>(open.values())) release(w);
      watches.clear();
      List<Integer> fds = new ArrayList<>(List.of(wakeFd, epfd));
      wakeFd = -1;
      epfd = -1;
      for (int fd : fds) if (fd >= 0) Syscalls.close(fd);
    }
  }

  /**
   * Stops watching: no callback begins after this returns; the epoll thread ends and every descriptor is closed
   * before it returns (bounded: 5 s, logged if the thread has not ended).
   */
  @Override
  public void close() {
    Thread t;
    synchronized (lock) {
      if (closed) return;
      closed = true;
      watches.clear(); // queued callbacks find their watch gone
      t = thread;
      if (t != null) Syscalls.eventfdSignal(wakeFd);
    }
    callbacks.shutdown();
    if (t == null) return;
    try {
      t.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (t.isAlive()) LOG.error("{} did not end within 5 s of close(); its descriptors stay open until it does", t.getName());
  }
}
