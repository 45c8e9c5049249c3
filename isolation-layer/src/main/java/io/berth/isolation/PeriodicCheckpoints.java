package io.berth.isolation;

import io.berth.isolation.checkpoint.Checkpoint;
import io.berth.isolation.checkpoint.CheckpointStore;
import io.berth.isolation.checkpoint.CriuException;
import io.berth.isolation.checkpoint.CriuStats;
import io.berth.isolation.process.Procs;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Periodic checkpoints of running containers on shared storage, and their restore on the host that takes one over
 * (the layer's {@link IsolationLayer#takeCheckpoint} and {@link IsolationLayer#restoreCheckpoint}).
 *
 * <p>A checkpoint is {@code criu dump --leave-running} (the same dump a migration takes: established TCP kept, the
 * veth and LXCFS binds external) into a {@code .partial} directory of the {@link CheckpointStore}, completed with its
 * manifest once CRIU has let the tasks go on. The frozen time is CRIU's own ({@code stats-dump}), the dump's wall time
 * only when CRIU wrote none (the manifest says which).
 *
 * <p><b>The disk is not checkpointed.</b> The container's disk image stays where it is on shared storage and the
 * container goes on writing it after the dump, so a restore meets a disk newer than its memory: files written since
 * are there, and a file the processes held open may have changed under them (CRIU refuses a restore when an open
 * file's size changed: the restore then fails and the container starts cold from its disk). Copying the image
 * while frozen would cost the frozen time of copying gigabytes; a filesystem snapshot (reflinks) is what would make it
 * cheap, and ext4-on-NFS has none.
 */
final class PeriodicCheckpoints {
  private static final Logger LOG = LoggerFactory.getLogger(PeriodicCheckpoints.class);

  private final IsolationLayer layer;
  private final Optional<CheckpointStore> store;
  private final Path sharedRoot;
  private final Path restoresDir;
  private final Clock clock;

  PeriodicCheckpoints(IsolationLayer layer, IsolationConfig config, Clock clock) {
    this.layer = layer;
    this.sharedRoot = config.sharedImagesRoot().orElse(null);
    this.store = config.sharedImagesRoot().map(CheckpointStore::new);
    this.restoresDir = config.dataRoot().resolve("restores");
    this.clock = clock;
  }

  Optional<CheckpointStore> store() {
    return store;
  }

  Checkpoint take(ContainerId id, String host) {
    InvalidFieldException.required("id", id);
    InvalidFieldException.required("host", host);
    CheckpointStore s = requireStore();
    return layer.lockedForHold(id, () -> {
      ContainerInfo info = layer.inspect(id);
      if (info.status() == ContainerStatus.ABSENT) {
        throw new ContainerStateException("checkpoint", id.value(), ContainerStatus.ABSENT, "it must exist on this host");
      }
      if (!layer.diskImage(id).startsWith(sharedRoot)) {
        throw new InvalidFieldException("storage", "periodic checkpoints are kept on shared storage: container " + id
            + "'s disk is this host's own", layer.diskImage(id));
      }
      Path partial = s.begin(id);
      Path images = partial.resolve("images");
      long t0 = System.nanoTime();
      try {
        layer.checkpoint(id, images, true);
      } catch (RuntimeException e) {
        s.abandon(partial);
        s.recordFailure(id, clock.instant(), e.getMessage() == null ? e.toString() : e.getMessage());
        throw e;
      }
      long dumpMillis = (System.nanoTime() - t0) / 1_000_000;
      Instant takenAt = clock.instant();
      long frozenMillis = dumpMillis;
      String source = Checkpoint.FROM_WALL_CLOCK;
      try {
        Optional<CriuStats.Dump> stats = CriuStats.readDump(images);
        if (stats.isPresent()) {
          frozenMillis = (stats.get().frozenMicros() + 500) / 1000;
          source = Checkpoint.FROM_CRIU;
        } else {
          LOG.warn("container={} checkpoint into {}: CRIU wrote no {}; its frozen time is the dump's wall time", id, partial, CriuStats.DUMP_FILE);
        }
      } catch (CriuException e) {
        LOG.warn("container={} checkpoint into {}: {}; its frozen time is the dump's wall time", id, partial, e.getMessage());
      }
      int pid = info.initPid();
      Checkpoint cp = s.complete(id, partial, takenAt, frozenMillis, source, dumpMillis, host, pid, Procs.startTime(pid));
      s.clearFailure(id);
      LOG.info("checkpoint container={} sequence={} frozen={}ms ({}) dump={}ms images={} bytes host={}", id, cp.sequence(), cp.frozenMillis(),
          cp.frozenSource(), cp.dumpMillis(), cp.imagesBytes(), host);
      return cp;
    });
  }

  /**
   * Restores {@code checkpoint} into the prepared, not running container (its disk adopted in place). CRIU rewrites
   * the images it restores from (their id mapping to this host's range, their owner), so it restores from a copy in
   * this data root: the checkpoint on shared storage stays as it was, for another try on another host.
   */
  int restore(ContainerId id, Checkpoint checkpoint) {
    InvalidFieldException.required("checkpoint", checkpoint);
    if (!checkpoint.container().equals(id)) {
      throw new InvalidFieldException("checkpoint", "is of container " + checkpoint.container() + ", not " + id, checkpoint.dir());
    }
    Checkpoint cp = requireStore().read(checkpoint.dir()); // still there and whole
    Path work = restoresDir.resolve(id.value() + "-" + cp.sequence());
    long t0 = System.nanoTime();
    try {
      CheckpointStore.deleteTree(work);
      Files.createDirectories(restoresDir);
      copyTree(cp.images(), work);
    } catch (IOException e) {
      CheckpointStore.deleteTree(work);
      throw new IsolationException("copy checkpoint " + cp.dir() + " for its restore", id.value(), e);
    }
    try {
      int pid = layer.restore(id, work);
      LOG.info("restored container={} from checkpoint {} (taken {} on {}) in {} ms", id, cp.sequence(), cp.takenAt(), cp.host(),
          (System.nanoTime() - t0) / 1_000_000);
      return pid;
    } finally {
      CheckpointStore.deleteTree(work);
    }
  }

  private CheckpointStore requireStore() {
    return store.orElseThrow(() -> new InvalidFieldException("storage",
        "periodic checkpoints are kept on the shared images root: this host has none (berth.storage.shared-root)", "local"));
  }

  private static void copyTree(Path from, Path to) throws IOException {
    Files.createDirectory(to, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (p.equals(from)) continue;
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(target);
        else Files.copy(p, target, java.nio.file.LinkOption.NOFOLLOW_LINKS);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
