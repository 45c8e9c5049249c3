package io.berth.protocol.container;

import io.berth.protocol.ids.HostId;

/**
 * Where a migration saga stands, folded from its step events.
 *
 * @param pidBefore the init's pid on the source when the migration began; 0 if it was not running
 * @param pidAfter  the init's pid on the target once restored (or started, for a cold move); 0 before
 */
public record MigrationProgress(
    String migrationId, HostId source, HostId target, MigrationMode mode, Step step, long pidBefore, long pidAfter) {

  /** The saga's steps in order; each is the last step event applied. */
  public enum Step {
    REQUESTED,
    ROOTFS_PRE_COPIED,
    CHECKPOINTED,
    IMAGE_TRANSFERRED,
    MOVED,
    RESTORED
  }

  public boolean wasRunning() {
    return pidBefore > 0;
  }

  MigrationProgress at(Step next) {
    return new MigrationProgress(migrationId, source, target, mode, next, pidBefore, pidAfter);
  }

  MigrationProgress restored(long pid) {
    return new MigrationProgress(migrationId, source, target, mode, Step.RESTORED, pidBefore, pid);
  }

  MigrationProgress cold() {
    return new MigrationProgress(migrationId, source, target, MigrationMode.COLD, step, pidBefore, pidAfter);
  }
}
