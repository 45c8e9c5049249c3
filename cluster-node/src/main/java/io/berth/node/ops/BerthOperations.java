package io.berth.node.ops;

import io.berth.protocol.access.AccessReply;
import io.berth.protocol.access.AccessState;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.Role;
import io.berth.protocol.access.TokenScope;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Everything an operator can do to a Berth cluster: what the REST API exposes (and so the CLI). One
 * implementation runs in every node (it places containers, talks to the sharded entities and reads the
 * audit log); the REST layer only maps HTTP to these calls and their answers to JSON.
 *
 * <p>Every changing call takes a {@link CommandContext} (principal, reason, correlation id) that ends up in
 * the events. Refusals come back as {@link ContainerReply.Refused} / {@link HostReply.Refused}, never as
 * exceptions; a failed future means Berth could not reach the entity or make the outcome durable.
 */
public interface BerthOperations {

  /**
   * Why reads may be stale now (the journal is down: what nodes hold is answered, and nothing can change through
   * Berth), or empty.
   */
  default Optional<String> possiblyStale() {
    return Optional.empty();
  }

  // --- containers ---------------------------------------------------------------------------------

  /** Places, defines and (when {@code start}) starts a container. */
  CompletionStage<ContainerReply> create(ContainerSpec spec, boolean start, CommandContext context);

  CompletionStage<ContainerReply> start(ContainerId id, CommandContext context);

  CompletionStage<ContainerReply> stop(ContainerId id, long timeoutMillis, CommandContext context);

  CompletionStage<ContainerReply> kill(ContainerId id, int signal, CommandContext context);

  CompletionStage<ContainerReply> destroy(ContainerId id, CommandContext context);

  CompletionStage<ContainerReply> setLimits(ContainerId id, Limits limits, CommandContext context);

  /**
   * Starts moving a container to {@code target} (or where placement picks): answered once the move is under way
   * ({@link ContainerReply.Done} with the container {@code migrating}), or refused naming why. {@code mode} empty: live,
   * falling back to cold when live cannot work; given: that mode or nothing. {@code postCopy}: whether its memory may
   * move after it runs on the target.
   */
  CompletionStage<ContainerReply> migrate(ContainerId id, Optional<HostId> target, Optional<MigrationMode> mode,
      io.berth.protocol.container.PostCopy postCopy, CommandContext context);

  /**
   * How often the container's host checkpoints it while it runs ({@link java.time.Duration#ZERO}: never, and its kept
   * checkpoints are deleted). Refused {@code INVALID} naming {@code checkpointEvery} when the spec's rules refuse it.
   */
  CompletionStage<ContainerReply> setCheckpointSchedule(ContainerId id, java.time.Duration every, CommandContext context);

  /** Its periodic checkpoints as shared storage holds them (none for a container without, or on a node without a shared root). */
  CompletionStage<CheckpointView> checkpoints(ContainerId id);

  /**
   * Runs a lost container (its host fenced, its disk that host's own) again on another host: on a new, empty disk
   * ({@code fromCheckpoint} false), or from its last checkpoint. Refused until the fenced host's watchdog has ended
   * its local containers for sure, naming when.
   */
  CompletionStage<ContainerReply> recover(ContainerId id, boolean fromCheckpoint, CommandContext context);

  /** Answered with {@link ContainerReply.ExecResult}. */
  CompletionStage<ContainerReply> exec(ContainerId id, List<String> argv, long timeoutMillis, CommandContext context);

  /** The container's current state; {@link ContainerState.Empty} when it was never defined. */
  CompletionStage<ContainerState> get(ContainerId id);

  /** Every container defined and not destroyed, by id. */
  CompletionStage<List<ContainerState>> list();

  // --- hosts --------------------------------------------------------------------------------------

  CompletionStage<List<HostView>> hosts();

  CompletionStage<HostReply> host(HostId id);

  CompletionStage<HostReply> cordon(HostId id, CommandContext context);

  /** Cordons the host and lets every container move off ({@link io.berth.node.drain.DrainDriver}); uncordon ends it. */
  CompletionStage<HostReply> drain(HostId id, io.berth.protocol.host.DrainMode mode, int parallel, CommandContext context);

  /** Records the end of a drain, with what was left and why (the drain's driver calls it). */
  CompletionStage<HostReply> markDrained(HostId id, List<String> notMoved, CommandContext context);

  CompletionStage<HostReply> uncordon(HostId id, CommandContext context);

  // --- templates ----------------------------------------------------------------------------------

  CompletionStage<List<TemplateView>> templates();

  /** Imports a directory or a tarball (on the node's filesystem) under {@code name}, on every host. */
  CompletionStage<TemplateView> importTemplate(String name, Path source, CommandContext context);

  /**
   * Builds a template from a distribution with debootstrap on the host the request reached, then has every host
   * import it, as {@link #importTemplate} does. {@code build} was checked already (name, distribution, packages).
   */
  CompletionStage<TemplateView> buildTemplate(io.berth.isolation.template.TemplateBuild build, CommandContext context);

  // --- API tokens (the access log) ---------------------------------------------------------------

  /** The tokens issued through the API and in force (not revoked; expired ones too, until revoked). */
  CompletionStage<AccessState> accessTokens();

  /**
   * Issues a token (or a client certificate) under {@code name}: only its credential's SHA-256 is recorded. Refused
   * when the name is in force.
   */
  CompletionStage<AccessReply> issueToken(String name, Credential credential, Role role,
      Optional<TokenScope> scope, Optional<Instant> expiresAt, CommandContext context);

  /** Revokes the token in force named {@code name}. */
  CompletionStage<AccessReply> revokeToken(String name, CommandContext context);

  // --- audit --------------------------------------------------------------------------------------

  /** One entity's events in order, from sequence number {@code fromSeqNr}, at most {@code limit}. */
  CompletionStage<List<AuditEntry>> history(EntityRef entity, long fromSeqNr, int limit);

  /** Every event in {@code [since, until)} across the cluster, in time order. */
  CompletionStage<List<AuditEntry>> timeline(Instant since, Instant until, int limit);

  /** The container's state at {@code at}: the fold of its events up to then. */
  CompletionStage<ContainerState> containerAt(ContainerId id, Instant at);

  /** The container's state just before its event {@code sequenceNr}: which incarnation that event belongs to. */
  CompletionStage<ContainerState> containerBefore(ContainerId id, long sequenceNr);

  /** Recomputes every entity's hash chain (or one's) and reports the first broken link of each. */
  CompletionStage<VerifyReport> verify(Optional<EntityRef> entity);

  /**
   * The live event stream: every event from {@code offset} on (an opaque string from a previous
   * {@link AuditEntry#offset()}, or empty for "from now"), and those still to come.
   */
  Source<AuditEntry, NotUsed> events(Optional<String> offset);

  // --- views --------------------------------------------------------------------------------------

  /** A container or a host, as audit names them. */
  record EntityRef(String kind, String id) {
    public static EntityRef container(ContainerId id) {
      return new EntityRef("container", id.value());
    }

    public static EntityRef host(HostId id) {
      return new EntityRef("host", id.value());
    }

    public String persistenceId() {
      return kind + "|" + id;
    }
  }

  /**
   * A container's periodic checkpoints: the kept ones, newest first, and the last failure to take one since the last
   * success ({@code lastError} empty when there was none).
   */
  record CheckpointView(List<KeptCheckpoint> kept, String lastError, Optional<Instant> lastErrorAt) {
    public static final CheckpointView NONE = new CheckpointView(List.of(), "", Optional.empty());
  }

  /** One kept checkpoint, as its manifest records it ({@code frozenSource}: {@code criu-stats} or {@code wall-clock}). */
  record KeptCheckpoint(long sequence, Instant takenAt, long frozenMillis, String frozenSource, long imagesBytes, String host) {}

  /** A host with what is allocated on it (derived from the container events) and whether its node is up. */
  /**
   * A host as {@code host list} shows it: the sums of its containers' caps ({@code allocated}) and guarantees
   * ({@code reserved}), what its node last measured ({@code usage}), and whether the cluster reaches it.
   */
  record HostView(HostState state, long cpuMillisAllocated, long memoryBytesAllocated, long pidsAllocated, long cpuMillisReserved,
      long memoryBytesReserved, io.berth.protocol.host.HostUsage usage, int containers, boolean reachable) {}

  record TemplateView(String name, String digest, long bytes, Instant importedAt) {}

  /**
   * One event as audit shows it.
   *
   * @param offset an opaque position in the cluster-wide stream, for resuming; empty in per-entity history
   * @param type   the event's type name, e.g. {@code ContainerStarted}
   * @param event  the event itself
   */
  record AuditEntry(String persistenceId, long sequenceNr, Instant at, String type, String principal, String reason,
      String correlationId, String offset, io.berth.protocol.event.BerthEvent event) {}

  /** {@code brokenLinks} is empty when every chain checked is intact. */
  record VerifyReport(int entitiesChecked, long eventsChecked, List<BrokenLink> brokenLinks) {}

  /**
   * The first bad event of an entity's log.
   *
   * @param check which check it failed: hash-link, checkpoint-hash, signature... (persistence's {@code ChainCheck} labels)
   */
  record BrokenLink(String persistenceId, long sequenceNr, String check, String detail) {}
}
