package io.berth.isolation;

import io.berth.isolation.checkpoint.CriuException;
import io.berth.isolation.checkpoint.HeldDump;
import io.berth.isolation.store.ContainerRecord;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A container dumped by CRIU and held frozen, from {@link IsolationLayer#checkpointHeld} or
 * {@link IsolationLayer#attachHeld}: its images are complete, its tasks stopped where they were, and
 * CRIU waits for one decision. {@link #commit}: CRIU kills the tasks (the container stays prepared and
 * stopped here, as after {@code checkpoint(id, dir, false)}); {@link #resume}: they go on, same init, no
 * restore. {@link #close} resumes a hold nobody decided. Without a decision within the hold's bound,
 * CRIU kills the source (see {@link IsolationLayer#checkpointHeld}).
 */
public final class HeldCheckpoint implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HeldCheckpoint.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final IsolationLayer layer;
  private final ContainerId id;
  /** The record at the dump: the init's pid and start time, which a resume must find running again. */
  private final ContainerRecord dumped;
  private final HeldDump dump;
  private final long imageBytes;
  /** Post-copy: the pages are served after the commit, which returns once they all went (or the transfer broke). */
  private final boolean lazy;
  private HeldDump.Decision settled;
  private volatile long decidedNanos;
  private volatile long criuExitedNanos;

  HeldCheckpoint(IsolationLayer layer, ContainerId id, ContainerRecord dumped, HeldDump dump) {
    this.layer = layer;
    this.id = id;
    this.dumped = dumped;
    this.dump = dump;
    this.imageBytes = imageBytes(dump.imagesDir());
    this.lazy = dump.isLazy();
  }

  /** Whether the memory pages are served after the commit (post-copy) rather than written into the images. */
  public boolean isLazy() {
    return lazy;
  }

  public ContainerId id() {
    return id;
  }

  /** The images: complete from the hold on (what the target restores). */
  public Path imagesDir() {
    return dump.imagesDir();
  }

  /** The sum of the image files' sizes ({@code *.img}), read at the hold. */
  public long imageBytes() {
    return imageBytes;
  }

  /** System.nanoTime() when CRIU was launched (for an attached hold: from its pid file's time, to the clock's resolution). */
  public long dumpStartedNanos() {
    return dump.launchedNanos();
  }

  /** System.nanoTime() when the hold was seen reached (tasks dumped and frozen). */
  public long heldAtNanos() {
    return dump.heldAtNanos();
  }

  /** System.nanoTime() when {@link #commit} or {@link #resume} wrote its decision for the hook; 0 before. */
  public long decidedNanos() {
    return decidedNanos;
  }

  /** System.nanoTime() when CRIU's exit was seen after the decision (the source killed or resumed by then); 0 before. */
  public long criuExitedNanos() {
    return criuExitedNanos;
  }

  /** The init the dump froze. */
  public int initPid() {
    return dumped.initPid();
  }

  /** True while the hold waits for a decision (false once decided, or when its bound expired). */
  public boolean isWaiting() {
    return dump.isWaiting();
  }

  /**
   * CRIU kills the source's tasks: returns once CRIU has exited and the init is gone (its exit reported to
   * the listener as requested). Also returns when the bound had already expired (the same end; logged).
   *
   * @throws IsolationException when the hold ended with the source running, or CRIU or the init outlive
   *                            {@code timeout}
   */
  public synchronized void commit(Duration timeout) {
    settle(HeldDump.Decision.COMMIT, timeout);
  }

  /**
   * The source's tasks go on where they were: returns once CRIU has exited and the same init runs.
   *
   * @throws IsolationException when the hold's bound expired first (CRIU killed the source; its last state
   *                            is in the images), or CRIU outlives {@code timeout}
   */
  public synchronized void resume(Duration timeout) {
    settle(HeldDump.Decision.RESUME, timeout);
  }

  /**
   * Writes the commit for the hook and returns at once, without waiting for CRIU: for post-copy, where CRIU must
   * start serving the pages while the target's restore still runs (it needs some of them to complete). A later
   * {@link #commit} waits for the end. Never undone: from this moment the target's copy is the container.
   */
  public void decideCommit() {
    if (decidedNanos == 0) decidedNanos = System.nanoTime();
    dump.decide(HeldDump.Decision.COMMIT);
  }

  /** Resumes the hold unless {@link #commit} or {@link #resume} was called. */
  @Override
  public synchronized void close() {
    if (settled == null) resume(CLOSE_TIMEOUT);
  }

  private void settle(HeldDump.Decision decision, Duration timeout) {
    InvalidFieldException.required("timeout", timeout);
    if (timeout.isNegative() || timeout.isZero()) throw new InvalidFieldException("timeout", "must be positive", timeout);
    String step = decision == HeldDump.Decision.COMMIT ? "commit held checkpoint" : "resume held checkpoint";
    if (settled != null) {
      if (settled == decision) return;
      throw new ContainerStateException(step, id.value(), settled == HeldDump.Decision.COMMIT ? ContainerStatus.STOPPED : ContainerStatus.RUNNING,
          "its hold was settled already (" + settled.name().toLowerCase(java.util.Locale.ROOT) + ")");
    }
    layer.lockedForHold(id, () -> {
      long deadline = System.nanoTime() + timeout.toNanos();
      if (decision == HeldDump.Decision.COMMIT) layer.expectExit(id, true);
      try {
        if (decidedNanos == 0 || decision == HeldDump.Decision.RESUME) decidedNanos = System.nanoTime();
        if (dump.outcome().isEmpty()) dump.decide(decision);
        int status = dump.awaitExit(timeout);
        criuExitedNanos = dump.exitedNanos();
        HeldDump.Outcome outcome = dump.outcome().orElse(null);
        if (decision == HeldDump.Decision.COMMIT) {
          if (outcome != HeldDump.Outcome.COMMIT && outcome != HeldDump.Outcome.EXPIRED) {
            throw new IsolationException(step, id.value(), new CriuException("the hold ended without a kill (hook: " + outcome + ", criu exit "
                + status + "): the source may run on", dump.logTail()));
          }
          if (status != 0 && lazy && dump.sourceKilled()) {
            throw new IsolationException(step, id.value(), new CriuException("the memory pages' transfer failed after the commit (criu exited "
                + status + "); the source's tasks were killed: whether the target's copy has its memory whole, only the target knows",
                dump.logTail()));
          }
          if (status != 0) {
            throw new IsolationException(step, id.value(), new CriuException("criu exited " + status + " after the hold was committed", dump.logTail()));
          }
          if (!layer.awaitInitExit(dumped, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
            throw new IsolationException(step, id.value(), "init " + dumped.initPid() + " still alive after CRIU's kill");
          }
          if (outcome == HeldDump.Outcome.EXPIRED) LOG.warn("commit container={}: the hold's bound had expired first (same end)", id);
        } else {
          if (outcome == HeldDump.Outcome.COMMIT || outcome == HeldDump.Outcome.EXPIRED) {
            layer.awaitInitExit(dumped, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            throw new IsolationException(step, id.value(), "the hold " + (outcome == HeldDump.Outcome.EXPIRED ? "reached its bound" : "was committed")
                + " before the resume: CRIU killed the source; its last state is the checkpoint in " + dump.imagesDir());
          }
          if (!layer.initRunning(dumped)) {
            throw new IsolationException(step, id.value(), new CriuException("init " + dumped.initPid() + " does not run after the resume (hook: "
                + outcome + ", criu exit " + status + ")", dump.logTail()));
          }
          layer.expectExit(id, false);
          // A target may have restored and announced it before the move was called off: the segment must learn again that it is here.
          layer.announce(id, dumped);
        }
        LOG.info("{} container={} criuExitMs={}", step, id, String.format(java.util.Locale.ROOT, "%.1f", (criuExitedNanos - decidedNanos) / 1e6));
        return null;
      } catch (CriuException e) {
        throw new IsolationException(step, id.value(), e);
      } finally {
        if (!dump.criuAlive()) {
          settled = decision;
          layer.holdEnded(id, dump);
        }
      }
    });
  }

  private static long imageBytes(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      long sum = 0;
      for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".img")).toList()) sum += Files.size(p);
      return sum;
    } catch (IOException e) {
      throw new UncheckedIOException("size the images in " + dir, e);
    }
  }
}
