package io.berth.node.migration;

import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.migration.MigrationCommand;
import io.berth.protocol.migration.MigrationReply;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Who a migrating container's entity talks to besides its own kernel: the target host's migration agent, and the
 * directory that settles the move. {@link #of} is the product's; entity tests give their own.
 */
public interface MigrationPorts {

  /** Asks {@code host}'s migration agent; fails if it has none registered, or after {@code timeout}. */
  CompletionStage<MigrationReply> askTarget(HostId host, Function<ActorRef<MigrationReply>, MigrationCommand> make, Duration timeout);

  /** Asks the directory; fails after {@code timeout}. */
  CompletionStage<DirectoryReply> askDirectory(Function<ActorRef<DirectoryReply>, DirectoryCommand> make, Duration timeout);

  /**
   * Wakes the container's entity where its shard is, a few times over the next seconds: after a move its shard
   * goes to the target at the next rebalance, and the entity there adopts the running container at its start.
   */
  void wake(io.berth.protocol.ids.ContainerId id);

  static MigrationPorts of(ActorSystem<?> system, ActorRef<DirectoryCommand> directory) {
    return new MigrationPorts() {
      @Override
      public CompletionStage<MigrationReply> askTarget(HostId host, Function<ActorRef<MigrationReply>, MigrationCommand> make,
          Duration timeout) {
        CompletionStage<Receptionist.Listing> listing = AskPattern.ask(system.receptionist(),
            r -> Receptionist.find(MigrationAgent.keyFor(host), r), timeout, system.scheduler());
        return listing.thenCompose(l -> {
          var agents = l.getServiceInstances(MigrationAgent.keyFor(host));
          if (agents.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalStateException("host " + host + " has no migration agent (its node is not up)"));
          }
          return AskPattern.ask(agents.iterator().next(), make::apply, timeout, system.scheduler());
        });
      }

      @Override
      public void wake(io.berth.protocol.ids.ContainerId id) {
        var ref = org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(system)
            .entityRefFor(io.berth.node.container.ContainerEntity.TYPE_KEY, id.value());
        for (long seconds : new long[] {1, 3, 6, 12}) {
          system.scheduler().scheduleOnce(Duration.ofSeconds(seconds),
              () -> ref.tell(new io.berth.protocol.container.ContainerCommand.Get(system.ignoreRef())), system.executionContext());
        }
      }

      @Override
      public CompletionStage<DirectoryReply> askDirectory(Function<ActorRef<DirectoryReply>, DirectoryCommand> make, Duration timeout) {
        return AskPattern.ask(directory, make::apply, timeout, system.scheduler());
      }
    };
  }
}
