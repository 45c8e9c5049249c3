package io.berth.node.cluster;

import io.berth.node.directory.Directory;
import io.berth.protocol.ids.HostId;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Address;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardCoordinator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;

/**
 * Puts each shard on the member that runs its host: Berth decides where containers live (placement, in
 * the directory), never sharding's balancing. One shard per entity, so a shard id is an entity id.
 *
 * <p>Where the wanted member is gone, the shard goes to the requester for now (the entity then refuses
 * to touch a kernel that is not its host's) and comes back at the next rebalance once its host is up. The wanted
 * host of a container being created is its reservation's, from the create's first step on, so a shard that landed
 * on the wrong member before (a message that bypassed the directory) moves to it at the next rebalance.
 * Nothing is rebalanced while any member is unreachable: a move asked then would stall in handoff.
 */
public final class HostAllocationStrategy extends ShardCoordinator.AbstractShardAllocationStrategy {
  private static final Logger log = LoggerFactory.getLogger(HostAllocationStrategy.class);

  private final org.apache.pekko.actor.ActorSystem system;
  private final Function<Set<String>, CompletionStage<Map<String, HostId>>> wantedHosts;

  /**
   * @param wantedHosts for a set of shard ids, the host each should run on (those without one are left out)
   */
  public HostAllocationStrategy(org.apache.pekko.actor.ActorSystem system,
      Function<Set<String>, CompletionStage<Map<String, HostId>>> wantedHosts) {
    this.system = system;
    this.wantedHosts = wantedHosts;
  }

  /** For host entities: the shard id is the host id. */
  public static Function<Set<String>, CompletionStage<Map<String, HostId>>> hostIsShardId() {
    return shards -> {
      Map<String, HostId> wanted = new HashMap<>();
      for (String s : shards) wanted.put(s, HostId.of(s));
      return CompletableFuture.completedFuture(wanted);
    };
  }

  @Override
  public Future<ActorRef> allocateShard(ActorRef requester, String shardId, Map<ActorRef, IndexedSeq<String>> current) {
    CompletionStage<ActorRef> chosen = wantedHosts.apply(Set.of(shardId)).thenApply(wanted -> {
      HostId host = wanted.get(shardId);
      if (host == null) {
        // Berth asks the directory before it messages a container, so this is a message that bypassed it; the
        // entity that starts here refuses to define a container placed elsewhere, and a later reservation of the
        // name moves the shard to its host at the next rebalance.
        log.warn("shard {}: the directory does not know it; allocated to the requester for now", shardId);
        return requester;
      }
      Optional<ActorRef> region = regionOf(host, current.keySet());
      if (region.isEmpty()) {
        log.warn("shard {}: its host {} has no live member; allocated to the requester until it is back", shardId, host);
      }
      return region.orElse(requester);
    }).exceptionally(error -> {
      log.warn("shard {}: cannot read where it belongs ({}); allocated to the requester", shardId, error.toString());
      return requester;
    });
    return FutureConverters.asScala(chosen);
  }

  @Override
  public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> current, Set<String> inProgress) {
    Cluster cluster = Cluster.get(system);
    if (!cluster.state().getUnreachable().isEmpty()) return FutureConverters.asScala(CompletableFuture.completedFuture(Set.of()));
    Map<String, ActorRef> locationOf = new HashMap<>();
    current.forEach((region, shards) -> {
      for (String s : CollectionConverters.asJava(shards)) locationOf.put(s, region);
    });
    CompletionStage<Set<String>> moves = wantedHosts.apply(locationOf.keySet()).thenApply(wanted -> {
      Set<String> move = new HashSet<>();
      wanted.forEach((shard, host) -> {
        if (inProgress.contains(shard)) return;
        Optional<ActorRef> region = regionOf(host, current.keySet());
        if (region.isPresent() && !region.get().equals(locationOf.get(shard))) move.add(shard);
      });
      if (!move.isEmpty()) log.info("moving shards to their hosts: {}", move);
      return move;
    }).exceptionally(error -> Set.of());
    return FutureConverters.asScala(moves);
  }

  /** The region (shard home) of the member whose role names {@code host}. */
  private Optional<ActorRef> regionOf(HostId host, Set<ActorRef> regions) {
    Cluster cluster = Cluster.get(system);
    Optional<Address> memberAddress = Optional.ofNullable(Directory.upHosts(cluster.state()).get(host)).map(Member::address);
    if (memberAddress.isEmpty()) return Optional.empty();
    for (ActorRef region : regions) {
      Address a = region.path().address();
      Address full = a.hasLocalScope() ? cluster.selfAddress() : a;
      if (full.equals(memberAddress.get())) return Optional.of(region);
    }
    return Optional.empty();
  }
}
