package io.berth.node.directory;

import io.berth.node.host.HostEntity;
import io.berth.node.container.ContainerEntity;
import io.berth.node.placement.HostCandidate;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * What the directory needs of the cluster: the members that run hosts, the hosts as placement sees them, and the
 * container entities its sagas ask. {@link #of} is the product's (cluster membership, the sharded host and
 * container entities); the directory's unit test gives its own.
 */
public interface DirectoryPorts {

  /**
   * The hosts of the members that are up, each with whether the cluster reaches its member now: a read of this
   * node's own view of the membership, no message sent. The directory compares it with the membership its view of
   * the hosts was read under, to read them again when a member came, went or changed reachability.
   */
  Map<HostId, Boolean> members();

  /** The hosts of {@code members} as placement candidates, asked of their host entities; unreachable ones kept as such. */
  CompletionStage<List<HostCandidate>> hosts(Map<HostId, Boolean> members);

  /** Every member's host as a placement candidate, under the membership of now. */
  default CompletionStage<List<HostCandidate>> hosts() {
    return hosts(members());
  }

  /** Asks the container's entity (wherever its shard is) and completes with its answer, or fails after {@code timeout}. */
  CompletionStage<ContainerReply> ask(ContainerId container, Function<ActorRef<ContainerReply>, ContainerCommand> make, Duration timeout);

  /** How long placement waits for the host entities' views. */
  Duration ASK_HOSTS = Duration.ofSeconds(5);

  static DirectoryPorts of(ActorSystem<?> system) {
    return new DirectoryPorts() {
      @Override
      public Map<HostId, Boolean> members() {
        Cluster cluster = Cluster.get(system);
        Set<Member> unreachable = cluster.state().getUnreachable();
        Map<HostId, Boolean> members = new TreeMap<>();
        Directory.upHosts(cluster.state()).forEach((host, member) -> members.put(host, !unreachable.contains(member)));
        return members;
      }

      @Override
      public CompletionStage<List<HostCandidate>> hosts(Map<HostId, Boolean> members) {
        ClusterSharding sharding = ClusterSharding.get(system);
        List<CompletableFuture<Optional<HostCandidate>>> asks = new ArrayList<>();
        for (Map.Entry<HostId, Boolean> e : members.entrySet()) {
          boolean reachable = e.getValue();
          CompletionStage<HostReply> reply = sharding.entityRefFor(HostEntity.TYPE_KEY, e.getKey().value()).ask(HostCommand.Get::new, ASK_HOSTS);
          asks.add(reply.toCompletableFuture()
              .thenApply(r -> r instanceof HostReply.Done d ? HostCandidate.of(d.state(), d.usage(), reachable) : Optional.<HostCandidate>empty())
              .exceptionally(error -> Optional.empty()));
        }
        return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
            .thenApply(v -> asks.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
      }

      @Override
      public CompletionStage<ContainerReply> ask(ContainerId container, Function<ActorRef<ContainerReply>, ContainerCommand> make,
          Duration timeout) {
        return ClusterSharding.get(system).entityRefFor(ContainerEntity.TYPE_KEY, container.value()).ask(make::apply, timeout);
      }
    };
  }
}
