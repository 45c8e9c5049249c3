package io.berth.protocol.container;

import io.berth.protocol.ids.HostId;
import java.time.Instant;

/**
 * Where a migration saga stands, folded from its step events.
 *
 * @param pidBefore      the init's pid on the source when the migration began; 0 if it was not running
 * @param pidAfter       the init's pid on the target once restored (or started, for a cold move); 0 before
 * @param modeForced     the operator asked for {@code mode}: a live move that cannot work fails instead of going cold
 * @param postCopy       whether its memory may move after it runs on the target
 * @param postCopied     its memory did move so ({@code MemoryPostCopied})
 * @param memoryLost     why its memory was lost on the way (post-copy cut short); empty if it was not
 * @param bytes          sent to the target so far (disk pre-copy, images, last delta)
 * @param fallbackReason why the move went cold; empty if it did not
 * @param requestedAt    when it was requested
 */
public record MigrationProgress(
    String migrationId, HostId source, HostId target, MigrationMode mode, Step step, long pidBefore, long pidAfter,
    boolean modeForced, PostCopy postCopy, boolean postCopied, String memoryLost, long bytes, String fallbackReason, Instant requestedAt) {

  /** The saga's steps in order; each is the last step event applied. */
  public enum Step {
    REQUESTED,
    PREFLIGHT_PASSED,
    ROOTFS_PRE_COPIED,
    CHECKPOINTED,
    IMAGE_TRANSFERRED,
    RESTORED,
    MOVED
  }

  public boolean wasRunning() {
    return pidBefore > 0;
  }

  /** Whether the step {@code s} is behind it. */
  public boolean isPast(Step s) {
    return step.compareTo(s) >= 0;
  }

  MigrationProgress at(Step next) {
    return new MigrationProgress(migrationId, source, target, mode, next, pidBefore, pidAfter, modeForced, postCopy, postCopied, memoryLost, bytes,
        fallbackReason, requestedAt);
  }

  MigrationProgress sent(Step next, long more) {
    return new MigrationProgress(migrationId, source, target, mode, next, pidBefore, pidAfter, modeForced, postCopy, postCopied, memoryLost,
        bytes + more, fallbackReason, requestedAt);
  }

  MigrationProgress restored(long pid) {
    return new MigrationProgress(migrationId, source, target, mode, Step.RESTORED, pidBefore, pid, modeForced, postCopy, postCopied, memoryLost,
        bytes, fallbackReason, requestedAt);
  }

  MigrationProgress cold(String reason) {
    return new MigrationProgress(migrationId, source, target, MigrationMode.COLD, step, pidBefore, pidAfter, modeForced, postCopy, postCopied,
        memoryLost, bytes, reason, requestedAt);
  }

  MigrationProgress postCopied(long more, String lost) {
    return new MigrationProgress(migrationId, source, target, mode, step, pidBefore, pidAfter, modeForced, postCopy, true, lost, bytes + more,
        fallbackReason, requestedAt);
  }
}
