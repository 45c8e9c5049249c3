package io.berth.node.checkpoint;

import io.berth.isolation.checkpoint.CheckpointStore;
import io.berth.node.ops.BerthOperations.CheckpointView;
import io.berth.node.ops.BerthOperations.KeptCheckpoint;
import io.berth.node.ops.ClusterOperations;
import io.berth.protocol.ids.ContainerId;
import java.util.Optional;

/**
 * What {@code ct show} shows of a container's checkpoints, read from this node's shared root: every host mounts it, so
 * any node answers for a container running anywhere, without asking its host.
 */
public final class StoreCheckpoints implements ClusterOperations.Checkpoints {
  private final Optional<CheckpointStore> store;

  public StoreCheckpoints(Optional<CheckpointStore> store) {
    this.store = store;
  }

  @Override
  public CheckpointView of(ContainerId id) {
    if (store.isEmpty()) return CheckpointView.NONE;
    CheckpointStore s = store.get();
    var kept = s.kept(id).stream()
        .map(c -> new KeptCheckpoint(c.sequence(), c.takenAt(), c.frozenMillis(), c.frozenSource(), c.imagesBytes(), c.host())).toList();
    var failure = s.lastFailure(id);
    return new CheckpointView(kept, failure.map(CheckpointStore.Failure::message).orElse(""), failure.map(CheckpointStore.Failure::at));
  }
}
