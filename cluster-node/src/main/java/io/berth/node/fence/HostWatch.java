package io.berth.node.fence;

import io.berth.node.directory.Directory;
import io.berth.node.host.HostEntity;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.HostId;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The survivors' side of fencing, on every node: watches the other members, and when one that runs a host is removed
 * after being downed (by the split brain resolver, or an operator), records the host fenced with the evidence, then
 * asks the directory to fail its containers over. Never before the watchdog's bound has passed since this node last
 * saw the host reachable ({@link FencingSettings#safeAfterMillis}): by then the host's containers are dead, by its
 * watchdog or by its own node. A member that left cleanly (previous status exiting) is not fenced: its containers run on,
 * and nothing of it is moved.
 *
 * <p>Every survivor does this; the host entity takes the first fence and answers the others from its state, and the
 * directory's failover leaves what is already moved or lost as it is. The host entity refuses the fence when a newer
 * incarnation of the host registered meanwhile (a quick restart): nothing is moved then.
 */
public final class HostWatch {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HostWatch.class);
  /**
   * The fence's ask, short and soon repeated: the first one, sent as the member is removed, usually reaches the
   * host entity's shard still homed on the dead member's region and is lost; the coordinator re-homes the shard
   * down-removal-margin later, and the next ask after that is the one that counts (the fence is idempotent).
   */
  private static final Duration ASK = Duration.ofMillis(500);
  private static final Duration AGAIN = Duration.ofMillis(100);
  private static final int MAX_ATTEMPTS = 600;

  /** Time to fence a removed member's host ({@code attempt} from 1); {@code lastSeen}: when this node last saw it reachable. */
  private record Fence(HostId host, long incarnation, String evidence, long lastSeen, int attempt) implements NoSerializationVerificationNeeded {}

  /** The host entity answered (or did not). */
  private record Fenced(Fence fence, HostReply reply, Throwable error) implements NoSerializationVerificationNeeded {}

  /** The directory answered a failover round (or did not). */
  private record FailedOver(Fence fence, int round, boolean markLost, DirectoryReply reply, Throwable error) implements NoSerializationVerificationNeeded {}

  private record FailOverAgain(Fence fence, int round, boolean markLost) implements NoSerializationVerificationNeeded {}

  /** The long bound passed: if the host is still fenced (not back), its local containers are certainly dead. */
  private record LocalBoundPassed(Fence fence) implements NoSerializationVerificationNeeded {}

  private record StillFenced(Fence fence, HostReply reply, Throwable error) implements NoSerializationVerificationNeeded {}

  private final ActorContext<Object> ctx;
  private final TimerScheduler<Object> timers;
  private final HostId me;
  private final FencingSettings settings;
  private final ActorRef<DirectoryCommand> directory;
  private final Map<UniqueAddress, Long> unreachableSince = new HashMap<>();

  public static Behavior<Object> create(HostId me, FencingSettings settings, ActorRef<DirectoryCommand> directory) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new HostWatch(ctx, timers, me, settings, directory).behavior()));
  }

  private HostWatch(ActorContext<Object> ctx, TimerScheduler<Object> timers, HostId me, FencingSettings settings, ActorRef<DirectoryCommand> directory) {
    this.ctx = ctx;
    this.timers = timers;
    this.me = me;
    this.settings = settings;
    this.directory = directory;
    Cluster cluster = Cluster.get(ctx.getSystem());
    cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
    cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
  }

  private Behavior<Object> behavior() {
    return Behaviors.receive(Object.class)
        .onMessage(ClusterEvent.UnreachableMember.class, e -> {
          unreachableSince.putIfAbsent(e.member().uniqueAddress(), System.currentTimeMillis());
          return Behaviors.same();
        })
        .onMessage(ClusterEvent.ReachableMember.class, e -> {
          unreachableSince.remove(e.member().uniqueAddress());
          return Behaviors.same();
        })
        .onMessage(ClusterEvent.MemberRemoved.class, this::removed)
        .onMessage(Fence.class, this::fence)
        .onMessage(Fenced.class, this::fenced)
        .onMessage(FailOverAgain.class, m -> {
          failOver(m.fence(), m.round(), m.markLost());
          return Behaviors.same();
        })
        .onMessage(LocalBoundPassed.class, this::localBoundPassed)
        .onMessage(StillFenced.class, this::stillFenced)
        .onMessage(FailedOver.class, this::failedOver)
        .onAnyMessage(m -> Behaviors.same())
        .build();
  }

  private Behavior<Object> removed(ClusterEvent.MemberRemoved e) {
    Member m = e.member();
    Long since = unreachableSince.remove(m.uniqueAddress());
    Optional<HostId> host = Directory.hostOf(m);
    if (host.isEmpty() || host.get().equals(me) || m.uniqueAddress().equals(Cluster.get(ctx.getSystem()).selfMember().uniqueAddress())) {
      return Behaviors.same();
    }
    if (e.previousStatus() == MemberStatus.exiting()) {
      log.info("host {} left the cluster cleanly (incarnation {}): not fenced, its containers stay where they are", host.get(), m.uniqueAddress().longUid());
      return Behaviors.same();
    }
    long now = System.currentTimeMillis();
    long lastSeen = since == null ? now : since;
    long safeAt = settings.safeAfterMillis(lastSeen, settings.haDeadline());
    String evidence = "node incarnation " + m.uniqueAddress().longUid() + " of host " + host.get() + " at " + m.address()
        + (since == null ? ": not seen unreachable by " + me + " (removed at once)" : ": unreachable from " + me + " since " + Instant.ofEpochMilli(since))
        + "; removed from the cluster at " + Instant.ofEpochMilli(now) + " after being downed (previous status " + e.previousStatus()
        + ", split brain resolver keep-majority); its watchdog ends shared-storage containers " + settings.haDeadline().toMillis()
        + " ms and every other " + settings.localDeadline().toSeconds() + " s after its last feed, so fenced from "
        + Instant.ofEpochMilli(safeAt) + " (+" + settings.margin().toMillis() + " ms margin)";
    Fence fence = new Fence(host.get(), m.uniqueAddress().longUid(), evidence, lastSeen, 1);
    long wait = Math.max(0, safeAt - now);
    log.warn("host {} was downed and removed: fencing it in {} ms ({})", host.get(), wait, evidence);
    timers.startSingleTimer("fence-" + host.get().value(), fence, Duration.ofMillis(wait));
    return Behaviors.same();
  }

  private Behavior<Object> fence(Fence f) {
    CommandContext context = CommandContext.system("fence host " + f.host() + " (seen lost by " + me + ")");
    java.util.concurrent.CompletionStage<HostReply> asked = ClusterSharding.get(ctx.getSystem())
        .entityRefFor(HostEntity.TYPE_KEY, f.host().value())
        .ask(r -> new HostCommand.MarkFenced(me.value(), f.evidence(), f.incarnation(), context, r), ASK);
    ctx.pipeToSelf(asked, (reply, error) -> new Fenced(f, reply, error));
    return Behaviors.same();
  }

  private Behavior<Object> fenced(Fenced m) {
    Fence f = m.fence();
    if (m.reply() instanceof HostReply.Done d && d.state() instanceof HostState.Fenced) {
      log.warn("host {} recorded fenced; asking the directory to fail its containers over", f.host());
      failOver(f, 1, false);
      long localAt = settings.safeAfterMillis(f.lastSeen(), settings.localDeadline());
      timers.startSingleTimer("lost-" + f.host().value(), new LocalBoundPassed(f), Duration.ofMillis(Math.max(0, localAt - System.currentTimeMillis())));
    } else if (m.reply() instanceof HostReply.Refused refused) {
      log.info("host {}: not fenced: {}", f.host(), refused.rejection().message());
    } else if (f.attempt() < MAX_ATTEMPTS) {
      // No answer yet (its shard is moving off the dead member), or an unexpected state: ask again.
      timers.startSingleTimer("fence-" + f.host().value(), new Fence(f.host(), f.incarnation(), f.evidence(), f.lastSeen(), f.attempt() + 1), AGAIN);
    } else {
      log.error("host {}: could not record it fenced after {} attempts ({}): its containers are not failed over",
          f.host(), MAX_ATTEMPTS, m.error() != null ? m.error().toString() : m.reply());
    }
    return Behaviors.same();
  }

  private void failOver(Fence f, int round, boolean markLost) {
    CommandContext context = CommandContext.system((markLost ? "mark lost the local containers of fenced host " : "failover of fenced host ")
        + f.host() + " (round " + round + ", by " + me + ")");
    ctx.pipeToSelf(AskPattern.<DirectoryCommand, DirectoryReply>ask(directory,
        r -> new DirectoryCommand.FailOverHost(f.host(), f.evidence(), markLost, context, r), Duration.ofSeconds(30), ctx.getSystem().scheduler()),
        (reply, error) -> new FailedOver(f, round, markLost, reply, error));
  }

  /** A round done: two more, 10 s apart, take what a failed ask left behind (idempotent: the moved and lost are left alone). */
  private Behavior<Object> failedOver(FailedOver m) {
    if (m.error() != null) log.warn("failover of host {} round {}: {}", m.fence().host(), m.round(), m.error().toString());
    if (m.round() < 3) {
      timers.startSingleTimer((m.markLost() ? "lost-again-" : "failover-") + m.fence().host().value(),
          new FailOverAgain(m.fence(), m.round() + 1, m.markLost()), Duration.ofSeconds(10));
    }
    return Behaviors.same();
  }

  private Behavior<Object> localBoundPassed(LocalBoundPassed m) {
    java.util.concurrent.CompletionStage<HostReply> asked = ClusterSharding.get(ctx.getSystem())
        .entityRefFor(HostEntity.TYPE_KEY, m.fence().host().value()).ask(HostCommand.Get::new, ASK);
    ctx.pipeToSelf(asked, (reply, error) -> new StillFenced(m.fence(), reply, error));
    return Behaviors.same();
  }

  /** Still fenced after the long bound: its containers on its own disks are dead too; they are marked lost. */
  private Behavior<Object> stillFenced(StillFenced m) {
    Fence f = m.fence();
    if (m.reply() instanceof HostReply.Done d && d.state() instanceof HostState.Fenced) {
      log.warn("host {} still fenced after its watchdog's long bound ({}): marking its local containers lost", f.host(), settings.localDeadline());
      failOver(f, 1, true);
    } else if (m.reply() instanceof HostReply.Done d) {
      log.info("host {} is {} again: its local containers are its own", f.host(), d.state().phase());
    } else {
      timers.startSingleTimer("lost-" + f.host().value(), new LocalBoundPassed(f), AGAIN);
    }
    return Behaviors.same();
  }
}
