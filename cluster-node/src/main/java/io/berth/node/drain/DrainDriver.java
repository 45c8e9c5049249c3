package io.berth.node.drain;

import io.berth.node.ops.BerthOperations;
import io.berth.node.ops.ClusterOperations;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.directory.Allocation;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.directory.Reservation;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.DrainMode;
import io.berth.protocol.host.DrainPlan;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives every drain under way, from the hosts' own records ({@code DrainRequested}: mode and parallelism), on the
 * cluster's leader only: one runs at a time, and when a node dies (the leader's included) the next leader carries
 * on from the same records, so a drain resumes after any crash. Each round it starts moves up to the drain's
 * parallelism (placement picks each target), counts the moves under way from the directory's reservations, and
 * once nothing more can move records the end with what was left and why ({@code HostDrained}).
 *
 * <p>What the driver remembers between rounds (refusals, failed attempts) is in memory: a new leader tries those
 * containers again, which is the right thing after a crash.
 */
public final class DrainDriver {
  private static final Logger log = LoggerFactory.getLogger(DrainDriver.class);
  static final Duration ROUND = Duration.ofSeconds(2);
  /** A container whose move failed this often in one drain, after it had begun to send, is reported as not moved. */
  static final int ATTEMPTS = 2;
  /**
   * A move that ended before anything was sent (its target did not answer the preflight: a node that just died and is
   * not yet known as unreachable, say) changed nothing: it is tried this many times before the container is reported.
   */
  static final int ATTEMPTS_BEFORE_SENDING = 10;

  private record Round() implements NoSerializationVerificationNeeded {}

  private record RoundDone() implements NoSerializationVerificationNeeded {}

  private final ClusterOperations ops;
  /** By host, by container: why it could not be moved, once final for this drain. */
  private final Map<HostId, Map<ContainerId, String>> notMoved = new HashMap<>();
  /** By container: how many of its moves failed during its host's drain. */
  private final Map<ContainerId, Integer> failures = new HashMap<>();
  /** By container: how many of its moves ended before they sent anything. */
  private final Map<ContainerId, Integer> earlyFailures = new HashMap<>();
  /** The aborted moves counted already. */
  private final java.util.Set<String> abortsCounted = new java.util.HashSet<>();

  private DrainDriver(ClusterOperations ops) {
    this.ops = ops;
  }

  public static Behavior<Object> create(ClusterOperations ops) {
    DrainDriver driver = new DrainDriver(ops);
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Round(), ROUND);
      boolean[] busy = {false};
      return Behaviors.receiveMessage(m -> {
        if (m instanceof Round && !busy[0] && isLeader(ctx.getSystem())) {
          busy[0] = true;
          ctx.pipeToSelf(driver.round(), (v, error) -> {
            if (error != null) log.warn("drain round failed: {}", error.toString());
            return new RoundDone();
          });
        } else if (m instanceof RoundDone) {
          busy[0] = false;
        }
        return Behaviors.same();
      });
    }));
  }

  private static boolean isLeader(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    return cluster.state().getLeader() != null && cluster.state().getLeader().equals(cluster.selfMember().address());
  }

  /** One round over every draining host. */
  CompletionStage<Void> round() {
    return ops.hosts().thenCompose(hosts -> ops.readDirectory().thenCompose(directory -> {
      List<CompletableFuture<Void>> work = new ArrayList<>();
      for (BerthOperations.HostView view : hosts) {
        if (view.state() instanceof HostState.Active a && a.draining() && a.drain().isPresent()) {
          work.add(drain(a.id(), a.drain().get(), directory).toCompletableFuture());
        } else {
          notMoved.remove(view.state().id());
        }
      }
      return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new));
    }));
  }

  private CompletionStage<Void> drain(HostId host, DrainPlan plan, DirectoryState directory) {
    Map<ContainerId, String> left = notMoved.computeIfAbsent(host, h -> new TreeMap<>());
    List<ContainerId> here = new ArrayList<>();
    int moving = 0;
    for (Map.Entry<ContainerId, Allocation> e : directory.allocations().entrySet()) {
      if (!e.getValue().host().equals(host)) continue;
      Reservation r = directory.reservations().get(e.getKey());
      if (r != null) moving++;
      else if (!left.containsKey(e.getKey())) here.add(e.getKey());
    }
    // What was given up on but has left the host after all (a move already under way) is not reported.
    left.keySet().removeIf(id -> directory.allocations().get(id) == null || !directory.allocations().get(id).host().equals(host));
    if (plan.mode() == DrainMode.STOP) return stopAll(host, here, left);
    if (here.isEmpty() && moving == 0) return finish(host, left);
    int slots = Math.max(0, plan.parallel() - moving);
    List<CompletableFuture<Void>> starts = new ArrayList<>();
    for (ContainerId id : here.subList(0, Math.min(slots, here.size()))) {
      Optional<MigrationMode> mode = plan.mode() == DrainMode.COLD ? Optional.of(MigrationMode.COLD) : Optional.empty();
      CommandContext context = CommandContext.system("drain of host " + host);
      starts.add(ops.migrate(id, Optional.empty(), mode, io.berth.protocol.container.PostCopy.AUTO, context).thenAccept(reply -> {
        if (reply instanceof ContainerReply.Refused r) {
          int n = failures.merge(id, 1, Integer::sum);
          String why = r.rejection().message();
          log.warn("drain of host {}: container {} cannot move ({}), attempt {}", host, id, why, n);
          if (n >= ATTEMPTS || r.rejection().code() == io.berth.protocol.reply.Rejection.Code.NO_CAPACITY) left.put(id, why);
        } else {
          log.info("drain of host {}: moving container {}", host, id);
        }
      }).toCompletableFuture());
    }
    // A move that ended back on this host (aborted) counts as a failure of that container.
    for (ContainerId id : here) {
      starts.add(ops.get(id).thenAccept(state -> {
        if (!(state instanceof ContainerState.Live l) || l.data().lastMigration().isEmpty()) return;
        var last = l.data().lastMigration().get();
        if (last.outcome().equals("aborted") && last.endedAt().isAfter(plan.since()) && abortsCounted.add(last.migrationId())) {
          boolean sent = last.bytes() > 0;
          int n = (sent ? failures : earlyFailures).merge(id, 1, Integer::sum);
          if (n >= (sent ? ATTEMPTS : ATTEMPTS_BEFORE_SENDING)) left.put(id, "its move was aborted " + n + " times, last: " + last.cause());
        }
      }).toCompletableFuture());
    }
    return CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new));
  }

  /** {@code --mode stop}: nothing moves; every running container is stopped where it is. */
  private CompletionStage<Void> stopAll(HostId host, List<ContainerId> here, Map<ContainerId, String> left) {
    List<CompletableFuture<Boolean>> stops = new ArrayList<>();
    for (ContainerId id : here) {
      stops.add(ops.get(id).thenCompose(state -> {
        if (!(state instanceof ContainerState.Running)) return CompletableFuture.completedFuture(false);
        return ops.stop(id, 10_000, CommandContext.system("drain of host " + host + " (stop)")).thenApply(reply -> {
          if (reply instanceof ContainerReply.Refused r) left.put(id, r.rejection().message());
          return true;
        });
      }).toCompletableFuture());
    }
    return CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).thenCompose(v -> {
      boolean stillRunning = stops.stream().anyMatch(CompletableFuture::join);
      return stillRunning ? CompletableFuture.completedFuture(null) : finish(host, left);
    });
  }

  private CompletionStage<Void> finish(HostId host, Map<ContainerId, String> left) {
    List<String> report = left.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).toList();
    log.info("drain of host {} ended: {}", host, report.isEmpty() ? "every container moved" : report.size() + " not moved: " + report);
    return ops.markDrained(host, report, CommandContext.system("drain of host " + host + " ended")).thenAccept(r -> {
      notMoved.remove(host);
      left.keySet().forEach(failures::remove);
      left.keySet().forEach(earlyFailures::remove);
    });
  }
}
