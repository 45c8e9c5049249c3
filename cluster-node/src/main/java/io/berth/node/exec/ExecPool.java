package io.berth.node.exec;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The host's own threads for {@code exec}: a fixed number run at once, a bounded number wait, and the next one is
 * refused at once ({@link ExecPoolFullException}) rather than queued without bound. A tenant's exec may run for as
 * long as its timeout allows; on the blocking dispatcher that starts, stops and migrations use, a few long ones
 * would hold every thread and those would wait behind them (runc and Incus give exec its own pool for this reason).
 */
public final class ExecPool implements AutoCloseable {
  private final String host;
  private final ExecSettings settings;
  private final ThreadPoolExecutor pool;

  public ExecPool(String host, ExecSettings settings) {
    this.host = host;
    this.settings = settings;
    BlockingQueue<Runnable> queue = settings.queue() == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(settings.queue());
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(settings.threads(), settings.threads(), 0, TimeUnit.MILLISECONDS, queue, r -> {
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
    try {
      return CompletableFuture.supplyAsync(work, pool);
    } catch (RejectedExecutionException e) {
      if (pool.isShutdown()) throw new ExecPoolFullException("host " + host + " is stopping: exec refused");
      throw new ExecPoolFullException("host " + host + " runs " + settings.threads() + " execs at once and holds " + settings.queue()
          + " waiting (berth.exec.threads, berth.exec.queue): all are taken; try again when one ends");
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
