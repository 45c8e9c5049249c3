package io.berth.node.migration;

import io.berth.protocol.InvalidFieldException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How migrations run on this node ({@code berth.migration} in the node's settings).
 *
 * @param stepTimeout     how long one ask of the target's agent or the directory waits before it is asked again
 * @param restoreTimeout  how long the source waits for the target's restore before it asks what the target holds
 * @param holdBound       how long a held dump keeps the source frozen without a decision; then CRIU kills it (never
 *                        two copies) and the saga settles with the target
 * @param bytesPerSecond  the transfer's bandwidth limit; 0 for none
 * @param workDir         where the images of a migration are kept (a tmpfs: they are the processes' memory)
 * @param postCopyFrom    {@code --post-copy auto} moves a container's memory after it runs on the target from this
 *                        much memory on (measured: MigrationBench)
 */
public record MigrationSettings(Duration stepTimeout, Duration restoreTimeout, Duration holdBound, long bytesPerSecond, Path workDir,
    long postCopyFrom) {
  /**
   * Above about where post-copy's frozen time drops below pre-copy's on this machine (MigrationBench, 2026-12-01,
   * medians of 3: 16 MiB 825 ms post-copy against 567 ms pre-copy, 256 MiB 776 against 1290; post-copy stays near
   * 800 ms up to 1 GiB, pre-copy grows about 3 ms a MiB: they cross near 95 MiB).
   */
  public static final long POST_COPY_FROM = 128L << 20;
  public static final MigrationSettings DEFAULT = new MigrationSettings(Duration.ofSeconds(10), Duration.ofMinutes(2),
      Duration.ofMinutes(3), 0, Path.of("/dev/shm/berth/migrations"), POST_COPY_FROM);

  public MigrationSettings {
    positive("berth.migration.step-timeout", stepTimeout, Duration.ofMinutes(10));
    positive("berth.migration.restore-timeout", restoreTimeout, Duration.ofHours(1));
    positive("berth.migration.hold-bound", holdBound, Duration.ofHours(1));
    if (holdBound.compareTo(restoreTimeout) <= 0) {
      throw new InvalidFieldException("berth.migration.hold-bound", "must be longer than berth.migration.restore-timeout (the source "
          + "must be able to ask the target before the hold ends)", holdBound);
    }
    if (bytesPerSecond < 0) throw new InvalidFieldException("berth.migration.bandwidth", "must be 0 (no limit) or more", bytesPerSecond);
    if (workDir == null || !workDir.isAbsolute()) throw new InvalidFieldException("berth.migration.work-dir", "must be an absolute path", workDir);
    if (postCopyFrom < 0) throw new InvalidFieldException("berth.migration.post-copy-from", "must be 0 or more", postCopyFrom);
  }

  private static void positive(String field, Duration d, Duration max) {
    if (d == null || d.isNegative() || d.isZero() || d.compareTo(max) > 0) {
      throw new InvalidFieldException(field, "must be more than 0 and at most " + max, d);
    }
  }
}
