package io.berth.node.exec;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The host's own threads for {@code exec}: a fixed number run at once, a bounded number wait, and the next one is
 * refused at once ({@link ExecPoolFullException}) rather than queued without bound. A tenant's exec may run for as
 * long as its timeout allows; on the blocking dispatcher that starts, stops and migrations use, a few long ones
 * would hold every thread and those would wait behind them (runc and Incus give exec its own pool for this reason).
 *
 * <p>Admission is counted, not left to the executor's queue: a bounded queue handed tasks to idle threads through
 * itself, so two execs in quick succession could find it full before an idle thread had taken the first, and the
 * second was refused with threads free (CI saw it). Here an exec is admitted while fewer than threads + queue are in,
 * and the executor's own queue has no bound.
 */
public final class ExecPool implements AutoCloseable {
  private final String host;
  private final ExecSettings settings;
  private final ThreadPoolExecutor pool;
  /** One permit per exec running or waiting: threads + queue in all. */
  private final Semaphore admitted;

  public ExecPool(String host, ExecSettings settings) {
    this.host = host;
    this.settings = settings;
    this.admitted = new Semaphore(settings.threads() + settings.queue());
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(settings.threads(), settings.threads(), 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "berth-exec-" + n.incrementAndGet());
      // An exec still running when the node stops must not keep the JVM alive: its process dies with the container.
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.AbortPolicy());
  }

  /**
   * Runs {@code work} on one of the pool's threads.
   *
   * @throws ExecPoolFullException when every thread is busy and the queue is full: nothing was started
   */
  public <T> CompletableFuture<T> submit(Supplier<T> work) {
    if (pool.isShutdown()) throw new ExecPoolFullException("host " + host + " is stopping: exec refused");
    if (!admitted.tryAcquire()) {
      throw new ExecPoolFullException("host " + host + " runs " + settings.threads() + " execs at once and holds " + settings.queue()
          + " waiting (berth.exec.threads, berth.exec.queue): all are taken; try again when one ends");
    }
    try {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return work.get();
        } finally {
          admitted.release();
        }
      }, pool);
    } catch (RejectedExecutionException e) {
      admitted.release();
      throw new ExecPoolFullException("host " + host + " is stopping: exec refused");
    }
  }

  /** Execs running now (for tests and the host's status). */
  public int running() {
    return pool.getActiveCount();
  }

  /** Execs waiting for a thread. */
  public int waiting() {
    return pool.getQueue().size();
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
