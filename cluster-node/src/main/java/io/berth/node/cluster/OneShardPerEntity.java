package io.berth.node.cluster;

import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.ShardingMessageExtractor;

/**
 * One shard per entity: the shard id is the entity id. A container moves between hosts by moving its
 * shard, so each shard must hold exactly one container (design brief, "The shape").
 */
public final class OneShardPerEntity<M> extends ShardingMessageExtractor<ShardingEnvelope<M>, M> {
  @Override
  public String entityId(ShardingEnvelope<M> envelope) {
    return envelope.entityId();
  }

  @Override
  public String shardId(String entityId) {
    return entityId;
  }

  @Override
  public M unwrapMessage(ShardingEnvelope<M> envelope) {
    return envelope.message();
  }
}
