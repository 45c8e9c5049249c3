package io.berth.chaos;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Samples every host's kernel for the copies of one container (a host runs one when a process of the container's
 * pids cgroup there can run: {@link Berth#hostsExecuting}), every {@code every}, from construction until {@link #close}; the first sample that finds it
 * on two hosts at once is kept, with its time. The checker behind "never two copies": {@link #assertNoOverlap}.
 */
final class CopySampler implements AutoCloseable {
  private final java.util.function.Supplier<List<String>> probe;
  private final String container;
  private final Duration every;
  private final Thread thread;
  private final AtomicReference<String> overlap = new AtomicReference<>();
  private final List<String> transitions = new ArrayList<>();
  private final java.util.Set<String> seenOn = new java.util.TreeSet<>();
  private volatile boolean sampling = true;
  private volatile int samples;

  CopySampler(Berth berth, String container, Duration every) {
    this(() -> berth.hostsExecuting(container), container, every);
  }

  /** Samples what {@code probe} says: the hosts running the container now (a unit test hands in its own). */
  CopySampler(java.util.function.Supplier<List<String>> probe, String container, Duration every) {
    this.probe = probe;
    this.container = container;
    this.every = every;
    this.thread = new Thread(this::run, "copy-sampler-" + container);
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    List<String> last = List.of();
    while (sampling) {
      List<String> on = probe.get();
      samples++;
      if (!on.equals(last)) {
        synchronized (transitions) {
          transitions.add(Instant.now() + " " + on);
          seenOn.addAll(on);
        }
        last = on;
      }
      if (on.size() > 1) overlap.compareAndSet(null, "two copies of " + container + " at " + Instant.now() + ": " + on);
      try {
        Thread.sleep(every.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Fails when any sample saw two copies, or when it did not sample at all (then it checked nothing). */
  void assertNoOverlap() {
    close();
    String seen;
    synchronized (transitions) {
      seen = String.join("; ", transitions);
    }
    if (overlap.get() != null) throw new AssertionError(overlap.get() + " (hosts running it over time: " + seen + ")");
    if (samples < 20) throw new AssertionError("the sampler of " + container + " ran only " + samples + " times: it saw too little to tell");
    System.out.println("sampler " + container + ": " + samples + " samples every " + every.toMillis() + " ms, never two copies: " + seen);
  }

  /** The first overlap seen (container, time, hosts), or null. */
  String overlap() {
    return overlap.get();
  }

  int samples() {
    return samples;
  }

  String container() {
    return container;
  }

  /** Every host it was seen running on over the sampling, at one time or another. */
  java.util.Set<String> hostsSeen() {
    synchronized (transitions) {
      return java.util.Set.copyOf(seenOn);
    }
  }

  /** When the set of hosts running it changed, and to what. */
  String transitions() {
    synchronized (transitions) {
      return String.join("; ", transitions);
    }
  }

  @Override
  public void close() {
    sampling = false;
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
