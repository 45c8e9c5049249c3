package io.berth.node.fence;

import io.berth.isolation.fence.FenceRecord;
import io.berth.isolation.fence.Watchdog;
import io.berth.node.host.HostEntity;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.ids.HostId;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts in the host's log what its watchdog or its node fenced while the host was cut off ({@code HostSelfFenced}):
 * a host on the losing side cannot write to the log when it fences, so its node reports the record it left on its
 * disk when it is back in the cluster. The record's file goes only once the event is recorded. Until then it is
 * asked again, after 5 s, then twice as long each time up to a minute, while the node runs (right after a restart the
 * host's shard may still be moving, or the host not registered again, and the first ask time out), and at the next
 * start if the node stops first. An ask that timed out after the event was written gets it written twice, the same
 * record at the same {@code fencedAt}: an audit reader sees one fence.
 */
public final class FenceReports {
  private static final Logger log = LoggerFactory.getLogger(FenceReports.class);
  private static final Duration ASK = Duration.ofSeconds(10);
  private static final Duration FIRST_PAUSE = Duration.ofSeconds(5);
  private static final Duration LONGEST_PAUSE = Duration.ofMinutes(1);

  private final ActorSystem<?> system;
  private final HostId host;

  public FenceReports(ActorSystem<?> system, HostId host) {
    this.system = system;
    this.host = host;
  }

  /**
   * Asks the host entity to record {@code r} until it has (then deletes its file); completes true then, false when
   * the node stopped first (the file stays for the next start). Never throws.
   */
  public CompletionStage<Boolean> report(FenceRecord r) {
    CompletableFuture<Boolean> recorded = new CompletableFuture<>();
    attempt(r, 1, FIRST_PAUSE, recorded);
    return recorded;
  }

  private void attempt(FenceRecord r, int attempt, Duration pause, CompletableFuture<Boolean> recorded) {
    CommandContext context = CommandContext.system("host " + host + " reports what its " + r.by() + " fenced");
    ClusterSharding.get(system).entityRefFor(HostEntity.TYPE_KEY, host.value())
        .<HostReply>ask(reply -> new HostCommand.ReportSelfFence(r.by(), r.fencedAt(), r.lastFedAt(), r.deadline().toMillis(),
            r.containers().stream().map(FenceRecord.Fenced::container).toList(), r.complete(), r.took().toMillis(), context, reply), ASK)
        .whenComplete((reply, error) -> {
          if (reply instanceof HostReply.Done) {
            Watchdog.acknowledge(r);
            recorded.complete(true);
            return;
          }
          log.warn("could not record in the log what the {} fenced at {} (attempt {}, record {} kept, asked again in {}): {}", r.by(),
              r.fencedAt(), attempt, r.file().getFileName(), pause, error != null ? error.toString() : reply);
          try {
            Duration doubled = pause.multipliedBy(2);
            Duration next = doubled.compareTo(LONGEST_PAUSE) > 0 ? LONGEST_PAUSE : doubled;
            system.scheduler().scheduleOnce(pause, () -> attempt(r, attempt + 1, next, recorded), system.executionContext());
          } catch (IllegalStateException stopping) {
            log.warn("the node is stopping: what the {} fenced at {} is reported at its next start (record {})", r.by(), r.fencedAt(),
                r.file().getFileName());
            recorded.complete(false);
          }
        });
  }
}
