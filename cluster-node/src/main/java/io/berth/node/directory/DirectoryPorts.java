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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * What the directory needs of the cluster: the hosts as placement sees them, and the container entities its
 * sagas ask. {@link #of} is the product's (cluster membership, the sharded host and container entities); the
 * directory's unit test gives its own.
 */
public interface DirectoryPorts {

  /** Every member's host as a placement candidate; unreachable members are kept as such. */
  CompletionStage<List<HostCandidate>> hosts();

  /** Asks the container's entity (wherever its shard is) and completes with its answer, or fails after {@code timeout}. */
  CompletionStage<ContainerReply> ask(ContainerId container, Function<ActorRef<ContainerReply>, ContainerCommand> make, Duration timeout);

  /** How long placement waits for the host entities' views. */
  Duration ASK_HOSTS = Duration.ofSeconds(5);

  static DirectoryPorts of(ActorSystem<?> system) {
    return new DirectoryPorts() {
      @Override
      public CompletionStage<List<HostCandidate>> hosts() {
        Cluster cluster = Cluster.get(system);
        ClusterSharding sharding = ClusterSharding.get(system);
        Set<Member> unreachable = cluster.state().getUnreachable();
        List<CompletableFuture<Optional<HostCandidate>>> asks = new ArrayList<>();
        for (Map.Entry<HostId, Member> e : Directory.upHosts(cluster.state()).entrySet()) {
          boolean reachable = !unreachable.contains(e.getValue());
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
