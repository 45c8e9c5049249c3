package io.berth.node.api;

import static io.berth.persistence.audit.AuditService.CONTAINER_PREFIX;

import io.berth.node.ops.BerthOperations.AuditEntry;
import io.berth.protocol.access.TokenScope;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.ids.ContainerId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Which audit entries a scoped caller (a tenant) may read: a container's own events, while the incarnation they belong
 * to carries the scope's label. Nothing of hosts, the directory or the access log, and no reservation (the directory's
 * bookkeeping, recorded before the incarnation it is for is defined).
 *
 * <p>A container's name can be used again after a destroy, by another tenant, and its log goes on: so whether an
 * event is admitted is decided by the container's own fold up to that event, not by what the name holds now. One
 * instance follows one read (a stream, a page) in order: it folds each container's events as they pass, and looks up
 * the fold before a container's first event it sees (one journal read per container per read), or after a gap.
 */
final class TenantEvents {
  private record Followed(ContainerState state, long sequenceNr) {}

  private final TokenScope scope;
  private final BiFunction<ContainerId, Long, CompletionStage<ContainerState>> stateBefore;
  private final Map<String, Followed> followed = new HashMap<>();

  /** @param stateBefore a container's state just before its event N (the ops' {@code containerBefore}) */
  TenantEvents(TokenScope scope, BiFunction<ContainerId, Long, CompletionStage<ContainerState>> stateBefore) {
    this.scope = scope;
    this.stateBefore = stateBefore;
  }

  /** The entries of {@code page} (one read, in its order) the caller may read. */
  CompletionStage<List<AuditEntry>> filter(List<AuditEntry> page) {
    CompletionStage<List<AuditEntry>> kept = CompletableFuture.completedFuture(new ArrayList<>());
    for (AuditEntry e : page) {
      kept = kept.thenCompose(list -> admits(e).thenApply(ok -> {
        if (ok) list.add(e);
        return list;
      }));
    }
    return kept;
  }

  /** The entries of a live stream the caller may read. */
  Source<AuditEntry, NotUsed> filter(Source<AuditEntry, NotUsed> stream) {
    return stream.mapAsync(1, e -> admits(e).thenApply(ok -> ok ? Optional.of(e) : Optional.<AuditEntry>empty()))
        .filter(Optional::isPresent).map(Optional::get);
  }

  /** Whether the caller may read {@code entry}; call in the read's order, one at a time. */
  CompletionStage<Boolean> admits(AuditEntry entry) {
    if (!entry.persistenceId().startsWith(CONTAINER_PREFIX) || !(entry.event() instanceof ContainerEvent event)) {
      return CompletableFuture.completedFuture(false);
    }
    ContainerId id = ContainerId.of(entry.persistenceId().substring(CONTAINER_PREFIX.length()));
    Followed before = followed.get(entry.persistenceId());
    CompletionStage<ContainerState> state = before != null && before.sequenceNr() == entry.sequenceNr() - 1
        ? CompletableFuture.completedFuture(before.state()) : stateBefore.apply(id, entry.sequenceNr());
    return state.thenApply(s -> {
      ContainerState after;
      try {
        after = s.apply(event);
      } catch (IllegalStateException notItsFold) {
        // The log does not fold as the entity's does (it cannot say whose the event is): hidden, and looked up afresh.
        followed.remove(entry.persistenceId());
        return false;
      }
      followed.put(entry.persistenceId(), new Followed(after, entry.sequenceNr()));
      boolean reservation = event instanceof ContainerEvent.ReservationAccepted || event instanceof ContainerEvent.ReservationDeclined;
      return !reservation && after instanceof ContainerState.Live live && scope.admits(live.data().spec().labels());
    });
  }
}
