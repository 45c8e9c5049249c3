package io.berth.node.checkpoint;

import io.berth.protocol.ids.ContainerId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one scheduler of a host's periodic checkpoints: a single timer that, once a {@code tick}, takes the checkpoints
 * that are due, at most {@code parallel} at a time (each freezes its container and writes its memory to shared
 * storage: a host of many containers must not freeze them all at once), never two of the same container, earliest due
 * first. Not a timer per container: a host runs hundreds.
 *
 * <p>A container is scheduled by its entity when it starts or is adopted here and when its schedule changes; it is
 * checkpointed only while it runs (a stopped one is skipped, no failure); its next one is due {@code every} after the
 * last one ended, so a slow dump never piles up. A failed checkpoint is logged (its record on shared storage shows it
 * in {@code ct show}) and the container runs on. The layer's per-container lock keeps a checkpoint apart from a stop
 * or a migration of the same container.
 */
public final class CheckpointScheduler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointScheduler.class);

  /** What the scheduler needs of the host: {@link io.berth.node.agent.IsolationRuntime} gives the real layer's. */
  public interface Host {
    /** Whether the container's init runs here now. */
    boolean running(ContainerId id);

    /** Takes one checkpoint (blocking); throws when it failed, having recorded why. */
    void checkpoint(ContainerId id);

    /** Deletes the container's kept checkpoints (its schedule was turned off). */
    void deleteCheckpoints(ContainerId id);
  }

  private record Entry(Duration every, Instant due) {}

  private final Host host;
  private final Executor blocking;
  private final Clock clock;
  private final int parallel;
  private final Map<ContainerId, Entry> entries = new ConcurrentHashMap<>();
  private final Set<ContainerId> inFlight = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer;

  public CheckpointScheduler(Host host, Executor blocking, Clock clock, Duration tick, int parallel) {
    if (parallel < 1) throw new IllegalArgumentException("parallel: must be at least 1 (got " + parallel + ")");
    this.host = host;
    this.blocking = blocking;
    this.clock = clock;
    this.parallel = parallel;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "berth-checkpoints");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::round, tick.toMillis(), tick.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Checkpoints {@code id} every {@code every} while it runs here; {@link Duration#ZERO}: no more, its kept ones deleted. */
  public void schedule(ContainerId id, Duration every) {
    if (every.isZero()) {
      if (entries.remove(id) != null) LOG.info("container={} checkpoints off", id);
      blocking.execute(() -> {
        try {
          host.deleteCheckpoints(id);
        } catch (RuntimeException e) {
          LOG.warn("container={} could not delete its checkpoints: {}", id, e.getMessage());
        }
      });
      return;
    }
    Entry before = entries.put(id, new Entry(every, clock.instant().plus(every)));
    if (before == null || !before.every().equals(every)) LOG.info("container={} checkpointed every {} s", id, every.toSeconds());
  }

  /** Forgets the container (destroyed, or no longer on this host); its checkpoints stay. */
  public void remove(ContainerId id) {
    entries.remove(id);
  }

  /** How often the container is checkpointed here, if it is. */
  public java.util.Optional<Duration> scheduled(ContainerId id) {
    return java.util.Optional.ofNullable(entries.get(id)).map(Entry::every);
  }

  /** One tick: starts the due checkpoints, earliest first, while fewer than {@code parallel} run. */
  void round() {
    try {
      Instant now = clock.instant();
      var due = entries.entrySet().stream().filter(e -> !e.getValue().due().isAfter(now) && !inFlight.contains(e.getKey()))
          .sorted(Comparator.comparing(e -> e.getValue().due())).map(Map.Entry::getKey).toList();
      for (ContainerId id : due) {
        if (inFlight.size() >= parallel) break;
        if (!inFlight.add(id)) continue;
        // Due again, now that it is ours? The list above may have read its entry just before the checkpoint that
        // ended meanwhile moved its due time on (take updates the entry before it leaves inFlight), and a second
        // checkpoint right after the first would be one too many.
        Entry entry = entries.get(id);
        if (entry == null || entry.due().isAfter(now)) {
          inFlight.remove(id);
          continue;
        }
        blocking.execute(() -> take(id));
      }
    } catch (RuntimeException e) {
      LOG.error("checkpoint round failed: {}", e.toString(), e);
    }
  }

  private void take(ContainerId id) {
    try {
      if (host.running(id)) host.checkpoint(id);
    } catch (RuntimeException e) {
      if (entries.containsKey(id)) LOG.warn("container={} checkpoint failed (it runs on): {}", id, e.getMessage());
    } finally {
      entries.computeIfPresent(id, (k, e) -> new Entry(e.every(), clock.instant().plus(e.every())));
      inFlight.remove(id);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
