package io.berth.node.host;

import io.berth.isolation.cgroup.RootUsage;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostUsage;
import io.berth.protocol.ids.HostId;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Measures what this host's containers use, every {@link #EVERY}, from their cgroups' counters, and tells the host's
 * entity, which keeps the last report for placement's score, {@code host list} and {@code ct list} (nothing is
 * recorded). cpu is the average over the last period (the change of the cpu time used), memory the working set now;
 * a container appears from its second sample on. Runs on the blocking dispatcher: it reads cgroup files, three per
 * container (about 20 µs each here), so a thousand containers cost some 60 ms of a core every period.
 */
public final class HostUsageReporter {
  public static final Duration EVERY = Duration.ofSeconds(5);

  private HostUsageReporter() {}

  /** The timer's message. */
  public enum Tick { INSTANCE }

  public static Behavior<Tick> create(HostId host, Supplier<RootUsage> read, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofSeconds(1), EVERY);
      ActorSystem<?> system = ctx.getSystem();
      Sample[] last = {null};
      return Behaviors.receiveMessage(tick -> {
        Sample now;
        try {
          now = new Sample(read.get(), System.nanoTime());
        } catch (RuntimeException e) {
          ctx.getLog().warn("measure the containers' usage on {}: {}", host, e.getMessage());
          return Behaviors.same();
        }
        if (last[0] != null && now.nanos() > last[0].nanos()) {
          ClusterSharding.get(system).entityRefFor(HostEntity.TYPE_KEY, host.value())
              .tell(new HostCommand.ReportUsage(usage(last[0], now, clock), system.ignoreRef()));
        }
        last[0] = now;
        return Behaviors.same();
      });
    }));
  }

  private record Sample(RootUsage usage, long nanos) {}

  /** The rates between two samples; pure. */
  static HostUsage usage(Sample before, Sample after, Clock clock) {
    long elapsed = after.nanos() - before.nanos();
    Map<String, HostUsage.ContainerUsage> each = new HashMap<>();
    after.usage().containers().forEach((id, c) -> {
      RootUsage.Counters was = before.usage().containers().get(id);
      if (was != null) each.put(id, new HostUsage.ContainerUsage(millicores(c.cpuNanos() - was.cpuNanos(), elapsed), c.workingSetBytes()));
    });
    return new HostUsage(millicores(after.usage().cpuNanos() - before.usage().cpuNanos(), elapsed), after.usage().workingSetBytes(), each,
        clock.instant());
  }

  /** cpu time used over a wall-clock interval, in millicores; a counter that went back (a cgroup made anew) reads as 0. */
  private static long millicores(long cpuNanos, long elapsedNanos) {
    return Math.max(0, cpuNanos) * 1000 / elapsedNanos;
  }
}
