package io.berth.node.fence;

import io.berth.isolation.fence.FenceRecord;
import io.berth.isolation.fence.Watchdog;
import io.berth.node.host.HostEntity;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.ids.HostId;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts in the host's log what its watchdog or its node fenced while the host was cut off ({@code HostSelfFenced}):
 * a host on the losing side cannot write to the log when it fences, so its node reports the record it left on its
 * disk when it is back in the cluster. The record's file goes only once the event is recorded; until then it stays
 * and is reported again at the next start.
 */
public final class FenceReports {
  private static final Logger log = LoggerFactory.getLogger(FenceReports.class);
  private static final Duration ASK = Duration.ofSeconds(10);

  private final ActorSystem<?> system;
  private final HostId host;

  public FenceReports(ActorSystem<?> system, HostId host) {
    this.system = system;
    this.host = host;
  }

  /** Asks the host entity to record {@code r}; acknowledges (deletes) its file once recorded. Never throws. */
  public CompletionStage<Boolean> report(FenceRecord r) {
    CommandContext context = CommandContext.system("host " + host + " reports what its " + r.by() + " fenced");
    return ClusterSharding.get(system).entityRefFor(HostEntity.TYPE_KEY, host.value())
        .<HostReply>ask(reply -> new HostCommand.ReportSelfFence(r.by(), r.fencedAt(), r.lastFedAt(), r.deadline().toMillis(),
            r.containers().stream().map(FenceRecord.Fenced::container).toList(), r.complete(), r.took().toMillis(), context, reply), ASK)
        .handle((reply, error) -> {
          if (reply instanceof HostReply.Done) {
            Watchdog.acknowledge(r);
            return true;
          }
          log.error("could not record in the log what the {} fenced at {} (record {} kept, reported again at the next start): {}", r.by(),
              r.fencedAt(), r.file().getFileName(), error != null ? error.toString() : reply);
          return false;
        });
  }
}
