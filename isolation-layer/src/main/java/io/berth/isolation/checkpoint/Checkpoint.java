package io.berth.isolation.checkpoint;

import io.berth.protocol.ids.ContainerId;
import java.nio.file.Path;
import java.time.Instant;

/**
 * One complete periodic checkpoint of a running container, as its manifest on shared storage records it.
 *
 * @param sequence     its number among the container's checkpoints (1, 2, ...: later is larger)
 * @param dir          {@code <shared-root>/checkpoints/<container>/<sequence>}; CRIU's images are in {@link #images()}
 * @param takenAt      when the dump ended (the tasks went on right after)
 * @param frozenMillis how long the tasks were frozen, as {@code frozenSource} says it was measured
 * @param frozenSource {@value #FROM_CRIU} (CRIU's own {@code stats-dump}) or {@value #FROM_WALL_CLOCK} (the dump's wall time:
 *                     CRIU wrote no stats; an upper bound)
 * @param dumpMillis   the whole {@code criu dump}, start to end, as the layer timed it
 * @param imagesBytes  the images' size on disk
 * @param host         the host whose copy was dumped
 * @param initPid      that copy's init (host pid namespace) ...
 * @param initStart    ... and its start time (clock ticks since boot, {@code /proc/PID/stat} field 22): together the
 *                     incarnation dumped, so a checkpoint of an earlier run is never taken for the latest one's
 */
public record Checkpoint(ContainerId container, long sequence, Path dir, Instant takenAt, long frozenMillis, String frozenSource,
    long dumpMillis, long imagesBytes, String host, int initPid, long initStart) {

  public static final String FROM_CRIU = "criu-stats";
  public static final String FROM_WALL_CLOCK = "wall-clock";

  public Path images() {
    return dir.resolve("images");
  }
}
