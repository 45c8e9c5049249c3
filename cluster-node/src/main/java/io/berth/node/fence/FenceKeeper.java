package io.berth.node.fence;

import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Drives {@link HostFence} from the node's view of the cluster: every {@code feed-every} it feeds the watchdog while
 * this member is up and sees a majority of the members reachable (itself included); when this member is downed (the
 * split brain resolver put it on the losing side, or an operator did) it fences the host at once. A clean stop
 * (coordinated shutdown for any other reason) disarms the watchdog.
 */
public final class FenceKeeper {
  private FenceKeeper() {}

  private record Tick() {}

  public static Behavior<Object> create(HostFence fence) {
    return Behaviors.setup(ctx -> {
      ActorSystem<?> system = ctx.getSystem();
      Cluster cluster = Cluster.get(system);
      cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      CoordinatedShutdown.get(Adapter.toClassic(system)).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "berth-fence-or-disarm", () -> {
        boolean downed = CoordinatedShutdown.get(Adapter.toClassic(system)).getShutdownReason()
            .map(r -> r instanceof CoordinatedShutdown.ClusterDowningReason$).orElse(false);
        if (downed) fence.fenceNow("this node was downed (on the losing side of a partition, or by an operator)");
        else fence.disarm();
        return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
      });
      return Behaviors.withTimers(timers -> {
        timers.startTimerWithFixedDelay(new Tick(), fence.settings().feedEvery());
        return Behaviors.receive(Object.class)
            .onMessage(Tick.class, t -> {
              // A failed tick must not end the ticks: without them the watchdog is not fed and the node acts on no
              // container ("stood still") for good. CI saw one tick fail on a container destroyed while it was read.
              try {
                tick(cluster, fence);
              } catch (RuntimeException e) {
                ctx.getLog().error("a fence tick failed (the next one comes in {}): {}", fence.settings().feedEvery(), e.toString());
              }
              return Behaviors.same();
            })
            .onMessage(ClusterEvent.MemberDowned.class, e -> {
              if (e.member().uniqueAddress().equals(cluster.selfMember().uniqueAddress())) {
                fence.fenceNow("this node was marked down by the cluster");
              }
              return Behaviors.same();
            })
            .onMessage(ClusterEvent.MemberRemoved.class, e -> {
              if (e.member().uniqueAddress().equals(cluster.selfMember().uniqueAddress()) && e.previousStatus() == MemberStatus.down()) {
                fence.fenceNow("this node was removed from the cluster after being downed");
              }
              return Behaviors.same();
            })
            .onAnyMessage(m -> Behaviors.same())
            .build();
      });
    });
  }

  private static void tick(Cluster cluster, HostFence fence) {
    Member self = cluster.selfMember();
    if (self.status() != MemberStatus.up() && self.status() != MemberStatus.weaklyUp() && self.status() != MemberStatus.leaving()) {
      fence.tick(false, "this member is " + self.status());
      return;
    }
    var state = cluster.state();
    Set<Member> unreachable = state.getUnreachable();
    int members = 0;
    for (Member m : state.getMembers()) {
      if (m.status() != MemberStatus.down() && m.status() != MemberStatus.removed()) members++;
    }
    long lost = unreachable.stream().filter(m -> m.status() != MemberStatus.down()).count();
    boolean majority = (members - lost) * 2 > members;
    fence.tick(majority, majority ? "sees " + (members - lost) + " of " + members + " members" : "sees only " + (members - lost) + " of "
        + members + " members (unreachable: " + unreachable.stream().map(m -> m.address().toString()).toList() + ")");
  }
}
