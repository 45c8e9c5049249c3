package io.berth.node.fence;

import io.berth.node.host.HostEntity;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.ids.HostId;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts in the host's log each copy its node removed because the log placed the container elsewhere
 * ({@code StrayCopyRemoved}), so the audit answers what ran where: a copy that ran on a host its log did not name
 * did run there. Asked until recorded (5 s, then twice as long up to a minute, 30 times) while the node runs; the node's own
 * log has the removal (ERROR) in any case. An ask answered too late gets the report written twice: the same
 * container and reason, moments apart.
 */
public final class StrayReports {
  private static final Logger log = LoggerFactory.getLogger(StrayReports.class);
  private static final Duration ASK = Duration.ofSeconds(10);
  private static final Duration FIRST_PAUSE = Duration.ofSeconds(5);
  private static final Duration LONGEST_PAUSE = Duration.ofMinutes(1);
  /** About half an hour of asking: a host entity that refuses that long will not take it. */
  private static final int ATTEMPTS = 30;

  private final ActorSystem<?> system;
  private final HostId host;

  public StrayReports(ActorSystem<?> system, HostId host) {
    this.system = system;
    this.host = host;
  }

  /** Records {@code r}, found by {@code found} ("sweep" or "return"); returns at once, never throws. */
  public void report(RemovedCopy r, String found) {
    attempt(r, found, 1, FIRST_PAUSE);
  }

  private void attempt(RemovedCopy r, String found, int attempt, Duration pause) {
    CommandContext context = CommandContext.system("host " + host + " removed a copy of " + r.container() + " the log places elsewhere");
    ClusterSharding.get(system).entityRefFor(HostEntity.TYPE_KEY, host.value())
        .<HostReply>ask(reply -> new HostCommand.ReportStrayCopy(r.container(), r.why(), found, r.diskKept(), context, reply), ASK)
        .whenComplete((reply, error) -> {
          if (reply instanceof HostReply.Done) return;
          if (attempt >= ATTEMPTS) {
            log.error("gave up recording in the log the removal of {} after {} attempts ({}): it stays in this node's log only", r, attempt,
                error != null ? error.toString() : reply);
            return;
          }
          log.warn("could not record in the log the removal of {} (attempt {}, asked again in {}): {}", r, attempt, pause,
              error != null ? error.toString() : reply);
          try {
            Duration doubled = pause.multipliedBy(2);
            Duration next = doubled.compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : doubled;
            system.scheduler().scheduleOnce(pause, () -> attempt(r, found, attempt + 1, next), system.executionContext());
          } catch (IllegalStateException stopping) {
            log.warn("the node is stopping: the removal of {} stays in this node's log only", r);
          }
        });
  }
}
