package io.berth.node.container;

import io.berth.node.container.ContainerEntity.MigrationStep;
import io.berth.node.migration.SourceRuntime;
import io.berth.protocol.container.ContainerData;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerEvent.*;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.ContainerState.Migrating;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.container.MigrationProgress;
import io.berth.protocol.container.MigrationProgress.Step;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.migration.MigrationCommand;
import io.berth.protocol.migration.MigrationReply;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The migration saga, run by the container's entity on the source host; every step is an event in the container's
 * log, so the entity's recovery knows where it stood.
 *
 * <p>Forward: preflight with the target's agent ({@code MigrationPreflightPassed}, or {@code MigrationFellBackToCold}
 * when live cannot work and the operator did not insist on it); the disk image's pre-copy while the container runs
 * ({@code RootfsPreCopied}); the freeze: CRIU dumps the container and <em>holds</em> it frozen while the images and
 * the disk's last delta go to the target ({@code CheckpointTaken}, {@code ImageTransferred}), or, cold, the stop;
 * the target restores it and answers; then the hold is committed (the source's tasks die) and
 * {@code ContainerRestored} records where it runs; the source's copy is removed, the directory moves the
 * allocation ({@code ContainerMoved}: the shard follows at the next rebalance) and {@code MigrationCompleted} ends it.
 *
 * <p>Back: a refusal or a failure before the target runs it resumes the held source where it was (same pid, no
 * second restore), or sets it up and starts it again after a cold stop; the target discards what it made; the
 * directory frees the target's share; {@code MigrationAborted} says why. A step that is not answered is never
 * compensated on its timeout: the target is asked what it holds ({@code Status}) until it answers, and that answer
 * decides. After the entity's own restart the saga does the same: what the target holds decides between finishing
 * and undoing (see {@link #recover}).
 */
final class ContainerMigration {
  private static final Logger log = LoggerFactory.getLogger(ContainerMigration.class);

  private final ContainerEntity entity;
  private final SourceRuntime source;

  // Transient, actor-confined: the target's receiver, and the clocks of this run. Lost with the entity; a recovered
  // saga asks the target what it holds instead (recover).
  private MigrationReply.Prepared prepared;
  private SourceRuntime.Frozen frozen;
  /** What the target's page server took (the pages; the relayed rest is in {@code frozen}). */
  private long pageBytes;
  private long frozenAtNanos;
  private long frozenMillis = -1;
  private long statusAsks;
  /** Post-copy as both hosts allow it (OFF when either cannot), decided at the preflight. */
  private io.berth.protocol.container.PostCopy postCopy = io.berth.protocol.container.PostCopy.OFF;
  /** This run's live dump left the memory for post-copy: the end of its transfer is asked of the target. */
  private boolean postCopyRun;
  /** The target's last answer that it runs the container (its {@code memoryLost} is recorded with the restore). */
  private MigrationReply.Holds lastHolds;

  ContainerMigration(ContainerEntity entity) {
    this.entity = entity;
    this.source = entity.deps().source();
  }

  private EffectFactories<ContainerEvent, ContainerState> effect() {
    return entity.effects();
  }

  private Duration stepTimeout() {
    return entity.deps().migrationSettings().stepTimeout();
  }

  // --- forward ---------------------------------------------------------------------------------------

  /** Runs the step after the last one recorded (called once a step's events are durable). */
  void advance(Migrating m) {
    MigrationProgress p = m.progress();
    String mid = p.migrationId();
    switch (p.step()) {
      case REQUESTED -> prepareTarget(m);
      case PREFLIGHT_PASSED -> entity.blockingStep(mid, "pre-copied",
          // Defined, never started here: nothing of it is on this host (null: nothing sent); its entity alone moves.
          () -> p.wasRunning() || source.hasDisk(entity.id()) ? source.preCopyDisk(entity.id(), mid, prepared) : null);
      case ROOTFS_PRE_COPIED -> {
        if (p.mode() == MigrationMode.LIVE && p.wasRunning()) {
          entity.blockingStep(mid, "frozen", () -> source.freezeAndSend(entity.id(), mid, prepared, postCopy));
        } else {
          entity.blockingStep(mid, "stopped", () -> source.stopAndSend(entity.id(), mid, prepared, p.wasRunning()));
        }
      }
      case CHECKPOINTED, IMAGE_TRANSFERRED -> askRestore(p, false, "");
      case RESTORED, MOVED -> finish(m);
    }
  }

  /** Both sides' preflight: this host's CRIU check (on the blocking executor: it may run {@code criu check}), the target's answer. */
  private record Preflight(Optional<String> localRefusal, MigrationReply reply) {}

  private void prepareTarget(Migrating m) {
    MigrationProgress p = m.progress();
    ContainerData d = m.data();
    boolean live = p.mode() == MigrationMode.LIVE && p.wasRunning();
    var local = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> live ? source.liveRefusal(entity.id()) : Optional.<String>empty(), entity.deps().blocking());
    var target = entity.deps().migration().askTarget(p.target(),
        r -> new MigrationCommand.Prepare(p.migrationId(), d.spec(), d.address(), d.prefixLength(), p.mode(),
            p.postCopy() != io.berth.protocol.container.PostCopy.OFF, r), stepTimeout());
    entity.pipeStep(p.migrationId(), "prepared", local.thenCombine(target, Preflight::new));
  }

  private void askRestore(MigrationProgress p, boolean viaPageServer, String lazyPagesFrom) {
    boolean live = p.mode() == MigrationMode.LIVE && p.wasRunning();
    entity.pipeStep(p.migrationId(), "restored", entity.deps().migration().askTarget(p.target(),
        r -> new MigrationCommand.Restore(p.migrationId(), entity.id(), live, p.wasRunning(), viaPageServer, lazyPagesFrom, r),
        entity.deps().migrationSettings().restoreTimeout()));
  }

  /** The answer to one step's work (or its failure). */
  Effect<ContainerEvent, ContainerState> on(Migrating m, MigrationStep step) {
    MigrationProgress p = m.progress();
    String mid = p.migrationId();
    Throwable error = step.error();
    switch (step.name()) {
      case "prepared" -> {
        if (error != null) return undo(m, "the target " + p.target() + " did not answer the preflight: " + Replies.describe(error));
        Preflight preflight = (Preflight) step.value();
        if (preflight.reply() instanceof MigrationReply.Failed f) return undo(m, "the target " + p.target() + " refused: " + f.message());
        prepared = (MigrationReply.Prepared) preflight.reply();
        Optional<String> liveRefusal = p.mode() == MigrationMode.LIVE && p.wasRunning()
            ? preflight.localRefusal().or(() -> Optional.of(prepared.liveRefusal()).filter(s -> !s.isEmpty()))
            : Optional.empty();
        if (liveRefusal.isPresent() && p.modeForced()) {
          return undo(m, "a live move cannot work (" + liveRefusal.get() + ") and --live was asked for: nothing was changed");
        }
        boolean live = p.mode() == MigrationMode.LIVE && p.wasRunning() && liveRefusal.isEmpty();
        if (live && p.postCopy() == io.berth.protocol.container.PostCopy.ON && !prepared.postCopyRefusal().isEmpty()) {
          return undo(m, "post-copy cannot work on " + p.target() + " (" + prepared.postCopyRefusal()
              + ") and --post-copy on was asked for: nothing was changed");
        }
        postCopy = live && prepared.postCopyRefusal().isEmpty() ? p.postCopy() : io.berth.protocol.container.PostCopy.OFF;
        var events = entity.chainFor(m).add(meta -> new MigrationPreflightPassed(meta, mid, prepared.findings()));
        liveRefusal.ifPresent(why -> events.add(meta -> new MigrationFellBackToCold(meta, mid, why)));
        return effect().persist(events.events()).thenRun(s -> advance((Migrating) s));
      }
      case "pre-copied" -> {
        if (error != null) return undo(m, "the disk's pre-copy failed: " + Replies.describe(error));
        if (step.value() == null) {
          return effect().persist(entity.chainFor(m).add(meta -> new ContainerRestored(meta, mid, p.target(), 0)).events())
              .thenRun(s -> advance((Migrating) s));
        }
        SourceRuntime.Sent sent = (SourceRuntime.Sent) step.value();
        return effect().persist(entity.chainFor(m).add(meta -> new RootfsPreCopied(meta, mid, sent.bytes(), sent.sha256())).events())
            .thenRun(s -> advance((Migrating) s));
      }
      case "frozen" -> {
        if (error != null) return undo(m, "the live checkpoint failed: " + Replies.describe(error));
        // The container is frozen: the restore is asked at once, and the dump's and transfer's events are written
        // with the restore's outcome (a write less in the frozen time; after a crash the target's answer decides).
        frozen = (SourceRuntime.Frozen) step.value();
        frozenAtNanos = frozen.frozenAtNanos();
        postCopyRun = frozen.postCopy();
        askRestore(p, frozen.viaPageServer(), frozen.lazyPagesFrom());
        return effect().none();
      }
      case "stopped" -> {
        if (error != null) return undo(m, "the cold stop and transfer failed: " + Replies.describe(error));
        SourceRuntime.Sent sent = (SourceRuntime.Sent) step.value();
        frozenAtNanos = System.nanoTime() - sent.millis() * 1_000_000;
        var events = entity.chainFor(m)
            .add(meta -> new CheckpointTaken(meta, mid, 0))
            .add(meta -> new ImageTransferred(meta, mid, sent.bytes(), sent.sha256()));
        return effect().persist(events.events()).thenRun(s -> advance((Migrating) s));
      }
      case "restored", "status" -> {
        return onTargetAnswer(m, step);
      }
      case "committed" -> {
        if (error != null) log.error("container {}: the held source did not end after the target restored it: {}", entity.id(), Replies.describe(error));
        if (postCopyRun) {
          // The memory came on after the restore: how that ended (whole, or lost and the copy started again from its
          // disk) is the target's to say.
          askPostCopyEnd(p);
          return effect().none();
        }
        long pid = lastHolds != null ? lastHolds.pid() : 0;
        var events = checkpointEvents(m);
        if (lastHolds != null && !lastHolds.memoryLost().isEmpty()) {
          String lost = lastHolds.memoryLost();
          events.add(meta -> new MemoryPostCopied(meta, mid, lastHolds.pageBytes(), false, lost));
        }
        events.add(meta -> new ContainerRestored(meta, mid, p.target(), pid));
        return effect().persist(events.events()).thenRun(s -> advance((Migrating) s));
      }
      case "post-copied" -> {
        if (error != null || !(step.value() instanceof MigrationReply.Holds)) {
          String why = error != null ? Replies.describe(error) : String.valueOf(step.value());
          log.warn("container {}: no answer from target {} on the end of the post-copy ({}); asking again", entity.id(), p.target(), why);
          later(mid, "await-post-copy", Duration.ofSeconds(1));
          return effect().none();
        }
        MigrationReply.Holds h = (MigrationReply.Holds) step.value();
        postCopyRun = false;
        var events = checkpointEvents(m);
        events.add(meta -> new MemoryPostCopied(meta, mid, h.pageBytes(), h.memoryLost().isEmpty(), h.memoryLost()));
        events.add(meta -> new ContainerRestored(meta, mid, p.target(), h.pid()));
        return effect().persist(events.events()).thenRun(s -> advance((Migrating) s));
      }
      case "await-post-copy" -> {
        askPostCopyEnd(p);
        return effect().none();
      }
      case "removed" -> {
        if (error != null && !onSourceHost(p) && ++remoteRemovals >= 3) {
          // The move is complete (the target runs it); the source host does not answer. Its copy holds no running task
          // (committed, or gone with its host); what stays of it there is logged, to be removed when that host is back.
          log.error("container {}: source host {} did not answer the removal of its copy after migration {} ({}); it runs on {} now, and what "
              + "is left of it on {} stays until that host is back", entity.id(), p.source(), mid, Replies.describe(error), p.target(), p.source());
          settleCompleted(m);
          return effect().none();
        }
        if (error != null) {
          log.error("container {}: could not remove the source's copy after the move (retrying in 5 s): {}", entity.id(), Replies.describe(error));
          later(mid, "retry-finish", Duration.ofSeconds(5));
          return effect().none();
        }
        settleCompleted(m);
        return effect().none();
      }
      case "retry-finish" -> {
        finish(m);
        return effect().none();
      }
      case "settled-completed" -> {
        if (error != null) {
          later(mid, "settle-completed-again", Duration.ofSeconds(1));
          return effect().none();
        }
        long total = java.time.Duration.between(p.requestedAt(), entity.deps().clock().instant()).toMillis();
        long frozen = p.wasRunning() ? frozenMillis : 0;
        var events = entity.chainFor(m)
            .add(meta -> new ContainerMoved(meta, mid, p.target()))
            .add(meta -> new MigrationCompleted(meta, mid, frozen, total));
        log.info("container {}: moved {} -> {} ({}, frozen {} ms, total {} ms, {} bytes)", entity.id(), p.source(), p.target(),
            p.mode(), frozen, total, p.bytes());
        return effect().persist(events.events()).thenRun(s -> {
          entity.deps().migration().wake(entity.id());
          entity.reconcileIfOnItsHost(s);
        });
      }
      case "undone" -> {
        if (error != null) {
          log.error("container {}: could not put the source back after an aborted move (retrying in 5 s): {}", entity.id(), Replies.describe(error));
          later(mid, "retry-undo", Duration.ofSeconds(5));
          return effect().none();
        }
        undone = (Undone) step.value();
        settleAborted(m);
        return effect().none();
      }
      case "settled-aborted" -> {
        Undone u = undone;
        if (error != null) {
          later(mid, "settle-aborted-again", Duration.ofSeconds(1));
          return effect().none();
        }
        if (u.pid() > 0) entity.watchPid(u.pid());
        var events = checkpointEvents(m);
        events.add(meta -> new MigrationAborted(meta, mid, u.cause(), u.pid()));
        return effect().persist(events.events());
      }
      case "retry-undo" -> {
        return undo(m, lastCause);
      }
      case "settle-aborted-again" -> {
        settleAborted(m);
        return effect().none();
      }
      case "settle-completed-again" -> {
        settleCompleted(m);
        return effect().none();
      }
      case "ask-status" -> {
        askStatus(p);
        return effect().none();
      }
      default -> {
        return effect().none();
      }
    }
  }

  /**
   * The target answered the restore (or a status question): it runs it, so the source's hold is committed; or it
   * does not hold it, so the move is undone. No answer decides nothing: ask what it holds again.
   */
  private Effect<ContainerEvent, ContainerState> onTargetAnswer(Migrating m, MigrationStep step) {
    MigrationProgress p = m.progress();
    String mid = p.migrationId();
    if (step.error() != null) {
      statusAsks++;
      if (statusAsks % 10 == 1) {
        log.warn("container {}: no answer from target {} ({}); asking what it holds", entity.id(), p.target(), Replies.describe(step.error()));
      }
      later(mid, "ask-status", Duration.ofMillis(Math.min(5000, 250L * statusAsks)));
      return effect().none();
    }
    MigrationReply reply = (MigrationReply) step.value();
    if (reply instanceof MigrationReply.Holds h && h.holding() == MigrationReply.Holding.RESTORING) {
      later(mid, "ask-status", Duration.ofMillis(250));
      return effect().none();
    }
    if (reply instanceof MigrationReply.Holds h && (h.holding() == MigrationReply.Holding.RUNNING
        || h.holding() == MigrationReply.Holding.SET_UP && !p.wasRunning())) {
      if (frozenAtNanos != 0) frozenMillis = (System.nanoTime() - frozenAtNanos) / 1_000_000;
      boolean live = p.mode() == MigrationMode.LIVE && p.wasRunning();
      pageBytes = h.pageBytes();
      lastHolds = h;
      if (live && !onSourceHost(p)) {
        entity.pipeStep(mid, "committed", askSource(p, MigrationCommand.SourceAction.COMMIT, m.data()).thenApply(done -> h.pid()));
        return effect().none();
      }
      entity.blockingStep(mid, "committed", () -> {
        if (live) source.commit(entity.id(), mid);
        return h.pid();
      });
      return effect().none();
    }
    String why = reply instanceof MigrationReply.Failed f ? "the target " + p.target() + " could not run it: " + f.message()
        : "the target " + p.target() + " does not hold it";
    return undo(m, why);
  }

  /** The live dump's and transfer's events, when this run froze the container and has not written them yet. */
  private io.berth.node.common.EventChain<ContainerEvent> checkpointEvents(Migrating m) {
    var events = entity.chainFor(m);
    SourceRuntime.Frozen f = frozen;
    frozen = null;
    if (f != null && !m.progress().isPast(Step.CHECKPOINTED)) {
      String mid = m.progress().migrationId();
      events.add(meta -> new CheckpointTaken(meta, mid, f.imageBytes()))
          .add(meta -> new ImageTransferred(meta, mid, f.sent().bytes() + pageBytes, f.sent().sha256()));
    }
    return events;
  }

  /** Post-copy: the target answers once the memory's transfer ended there (bounded by its restore timeout). */
  private void askPostCopyEnd(MigrationProgress p) {
    entity.pipeStep(p.migrationId(), "post-copied", entity.deps().migration().askTarget(p.target(),
        r -> new MigrationCommand.AwaitPostCopy(p.migrationId(), entity.id(), r), entity.deps().migrationSettings().restoreTimeout().plusSeconds(60)));
  }

  private void askStatus(MigrationProgress p) {
    entity.pipeStep(p.migrationId(), "status", entity.deps().migration().askTarget(p.target(),
        r -> new MigrationCommand.Status(p.migrationId(), entity.id(), r), stepTimeout()));
  }

  /**
   * The entity runs on the source host, as it does unless the source's node went down during the move and the
   * container's shard was allocated elsewhere: then the source side's steps are asked of the source host's agent.
   */
  private boolean onSourceHost(MigrationProgress p) {
    return entity.deps().localHost().equals(p.source());
  }

  /** A source side step asked of the source host's agent; fails unless it answers that it was done. */
  private java.util.concurrent.CompletionStage<MigrationReply.Holds> askSource(MigrationProgress p, MigrationCommand.SourceAction action,
      ContainerData d) {
    return entity.deps().migration().askTarget(p.source(), r -> new MigrationCommand.OnSource(p.migrationId(), entity.id(), action, d.spec(),
        d.address(), d.prefixLength(), p.wasRunning(), r), entity.deps().migrationSettings().restoreTimeout())
        .thenApply(reply -> {
          if (reply instanceof MigrationReply.Holds h) return h;
          throw new IllegalStateException("the source " + p.source() + " could not " + action.name().toLowerCase(java.util.Locale.ROOT) + ": "
              + (reply instanceof MigrationReply.Failed f ? f.message() : String.valueOf(reply)));
        });
  }

  /** Failed attempts to remove the source's copy through a source host that is not this one. */
  private int remoteRemovals;

  /** The target runs it: remove the source's copy, have the directory move the allocation, record the end. */
  private void finish(Migrating m) {
    MigrationProgress p = m.progress();
    if (!onSourceHost(p)) {
      entity.pipeStep(p.migrationId(), "removed", askSource(p, MigrationCommand.SourceAction.REMOVE, m.data()).thenApply(h -> Boolean.TRUE));
      return;
    }
    entity.blockingStep(p.migrationId(), "removed", () -> {
      source.removeLocal(entity.id(), p.migrationId());
      return Boolean.TRUE;
    });
  }

  /** The directory frees the target's share (asked until it answers); then the abort is recorded. */
  private void settleAborted(Migrating m) {
    entity.pipeStep(m.progress().migrationId(), "settled-aborted", entity.deps().migration().askDirectory(
        r -> new DirectoryCommand.SettleMigration(entity.id(), m.lastReservation(), false, system(), r), stepTimeout()));
  }

  /** The target runs it: the directory moves the allocation there (asked until it answers). */
  private void settleCompleted(Migrating m) {
    entity.pipeStep(m.progress().migrationId(), "settled-completed", entity.deps().migration().askDirectory(
        r -> new DirectoryCommand.SettleMigration(entity.id(), m.lastReservation(), true, system(), r), stepTimeout()));
  }

  // --- back ------------------------------------------------------------------------------------------

  private String lastCause = "";
  /** The source's side of an undo, done, while the directory is asked to free the target's share. */
  private Undone undone;

  /**
   * Undoes the move: first the target discards what it made for it, confirmed (a restore this saga gave up on may
   * still run there: its node was killed part-way and, back, knew nothing of the copy, answering "set up" while the
   * restored init ran); only then the source resumes where it was, or starts again after a cold stop; the directory
   * frees the target's share; then {@code MigrationAborted} records why. A target that does not answer keeps the
   * source held (retried every 5 s, see "undone"): a container stopped a while is the price of never two copies.
   */
  private Effect<ContainerEvent, ContainerState> undo(Migrating m, String cause) {
    MigrationProgress p = m.progress();
    String mid = p.migrationId();
    lastCause = cause;
    log.warn("container {}: migration {} to {} is undone: {}", entity.id(), mid, p.target(), cause);
    ContainerData d = m.data();
    java.util.concurrent.CompletionStage<MigrationReply> targetClear = discard(p);
    if (!onSourceHost(p)) {
      // The source's node went down and this entity recovered elsewhere: only the source host can resume its hold or
      // start it again; until it answers, nothing is started here (that would be a second copy).
      entity.pipeStep(mid, "undone", targetClear.thenCompose(cleared -> askSource(p, MigrationCommand.SourceAction.RESUME, d))
          .thenApply(h -> new Undone(cause + (h.pid() > 0 && h.pid() == p.pidBefore() ? " (resumed where it was, on " + p.source() + ")"
              : h.pid() > 0 ? " (its memory was lost; started again from its disk on " + p.source() + ")" : ""), h.pid())));
      return effect().none();
    }
    entity.pipeStep(mid, "undone", targetClear.thenApplyAsync(cleared -> {
      boolean ran = p.wasRunning();
      boolean held = source.isHeld(entity.id(), mid);
      long pid = source.resumeOrRestart(entity.id(), mid, d.spec(), d.address(), d.prefixLength(), ran);
      String how = !ran ? "" : held ? " (resumed where it was)" : pid > 0 && pid != p.pidBefore() ? " (its memory was lost; started again from its disk)" : "";
      return new Undone(cause + how, pid);
    }, entity.deps().blocking()));
    return effect().none();
  }

  /**
   * The target removes what it made for the move (its restored copy too); completes once it said so, and fails when
   * it does not answer or refuses (the undo is then tried again, the source still held).
   */
  private java.util.concurrent.CompletionStage<MigrationReply> discard(MigrationProgress p) {
    return entity.deps().migration().askTarget(p.target(), r -> new MigrationCommand.Discard(p.migrationId(), entity.id(), r), stepTimeout())
        .thenApply(reply -> {
          if (reply instanceof MigrationReply.Failed f) {
            throw new IllegalStateException("the target " + p.target() + " did not discard what it made for migration " + p.migrationId()
                + " (" + f.message() + "): the source stays held until it does");
          }
          return reply;
        });
  }

  record Undone(String cause, long pid) {}

  // --- recovery --------------------------------------------------------------------------------------

  /**
   * The entity restarted in the middle of the move (its node or Cassandra failed). Where the target runs it already
   * (restored, with the source committed or gone), the move is finished; otherwise it is undone. Only the target's
   * answer decides: it is asked until it gives one.
   */
  void recover(Migrating m) {
    MigrationProgress p = m.progress();
    log.info("container {}: recovered in migration {} at step {}: asking target {} what it holds", entity.id(), p.migrationId(), p.step(),
        p.target());
    if (p.isPast(Step.RESTORED)) {
      finish(m);
      return;
    }
    askStatus(p);
  }

  private void later(String mid, String name, Duration after) {
    entity.context_().scheduleOnce(after, entity.context_().getSelf(), new MigrationStep(mid, name, null, null));
  }

  private static CommandContext system() {
    return CommandContext.system("migration saga");
  }
}
