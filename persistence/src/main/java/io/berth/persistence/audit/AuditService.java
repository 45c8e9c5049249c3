package io.berth.persistence.audit;

import io.berth.persistence.BerthTags;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.TimeBasedUUID;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The audit trail over the journal, for the REST API and the CLI: the history of one entity, the cluster timeline,
 * the state of an entity at a time T, and the verification of the hash chains.
 *
 * <p>History and state at T read the entity's own log (sequence order, complete as soon as a write is acknowledged).
 * The timeline reads the events-by-tag view of {@link BerthTags#TIMELINE}: ordered by the journal's time-based
 * UUIDs, delivered only once older than the eventual-consistency delay (so concurrent writers with earlier
 * timestamps are not skipped) and resumable exactly after any entry's offset. Verify reads the raw rows through CQL.
 */
public final class AuditService {
  public static final String CONTAINER_PREFIX = "container|";
  public static final String HOST_PREFIX = "host|";
  /** The cluster directory's log (placement and addresses), chained like the entities'. */
  public static final String DIRECTORY_ID = "directory|cluster";
  /** The access log (the API tokens issued and revoked), chained like the entities'. */
  public static final String ACCESS_ID = "access|cluster";
  public static final int MAX_PAGE = 10_000;

  private final ActorSystem<?> system;
  private final CassandraReadJournal journal;
  private final JournalRows rows;
  private final Duration consistencyDelay;
  private final CheckpointStore checkpoints;
  private final Duration maxUnsignedAge;

  public AuditService(ActorSystem<?> system) {
    this(system, AuditSettings.fromConfig(system.settings().config()));
  }

  public AuditService(ActorSystem<?> system, AuditSettings settings) {
    this.system = system;
    this.journal = PersistenceQuery.get(system.classicSystem())
        .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    this.rows = new JournalRows(system, journal.session());
    this.consistencyDelay = system.settings().config()
        .getDuration("pekko.persistence.cassandra.events-by-tag.eventual-consistency-delay");
    this.checkpoints = new CheckpointStore(journal.session(),
        system.settings().config().getString(io.berth.persistence.PekkoPersistenceConfig.PLUGIN + ".journal.keyspace"));
    this.maxUnsignedAge = settings.maxUnsignedAge();
  }

  public CheckpointStore checkpoints() {
    return checkpoints;
  }

  JournalRows rows() {
    return rows;
  }

  /** Every Berth log in the journal (not Pekko's own, such as sharding's remembered entities). */
  Source<String, NotUsed> berthLogs() {
    return journal.currentPersistenceIds().filter(AuditService::isBerthLog);
  }

  public static String persistenceId(ContainerId id) {
    return CONTAINER_PREFIX + id.value();
  }

  public static String persistenceId(HostId id) {
    return HOST_PREFIX + id.value();
  }

  // --- history ------------------------------------------------------------------------------------------------

  /** Up to {@code limit} events of one entity from sequence number {@code from} (1 is the first), in order. */
  public CompletionStage<HistoryPage> history(String persistenceId, long from, int limit) {
    checkPersistenceId(persistenceId);
    if (from < 1) throw new IllegalArgumentException("from: must be at least 1 (the first sequence number), was " + from);
    checkLimit(limit);
    return history(persistenceId, from)
        .take(limit + 1L)
        .runWith(Sink.seq(), system)
        .thenApply(all -> {
          boolean more = all.size() > limit;
          List<AuditEntry> page = more ? all.subList(0, limit) : all;
          OptionalLong next = more ? OptionalLong.of(page.get(page.size() - 1).sequenceNr() + 1) : OptionalLong.empty();
          return new HistoryPage(persistenceId, page, next);
        });
  }

  /** Every event of one entity from sequence number {@code from}, as they are now (the stream completes). */
  public Source<AuditEntry, NotUsed> history(String persistenceId, long from) {
    checkPersistenceId(persistenceId);
    return journal.currentEventsByPersistenceId(persistenceId, from, Long.MAX_VALUE).map(e -> entry(e, false));
  }

  /** Writes the whole history of one entity as JSON lines (one event per line); returns how many were written. */
  public CompletionStage<Long> exportHistory(String persistenceId, Writer out) {
    return history(persistenceId, 1).runWith(Sink.fold(0L, (n, entry) -> {
      try {
        out.write(entry.toJson());
        out.write('\n');
      } catch (IOException e) {
        throw new UncheckedIOException("export the history of " + persistenceId + " at sequence number " + entry.sequenceNr(), e);
      }
      return n + 1;
    }), system).thenApply(n -> {
      try {
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("flush the history export of " + persistenceId, e);
      }
      return n;
    });
  }

  // --- timeline -----------------------------------------------------------------------------------------------

  /**
   * Up to {@code limit} events of every entity written in [since, until], in time order, starting exactly after the
   * entry whose offset is {@code after} (empty: from {@code since}).
   */
  public CompletionStage<TimelinePage> timeline(Instant since, Instant until, Optional<String> after, int limit) {
    if (since == null || until == null) throw new IllegalArgumentException("since, until: both must be given");
    if (until.isBefore(since)) throw new IllegalArgumentException("until: must not be before since (" + since + "), was " + until);
    checkLimit(limit);
    Instant readUpTo = Instant.now().minus(consistencyDelay);
    Offset start = after.map(AuditService::offset).orElseGet(() -> journal.timeBasedUUIDFrom(since.toEpochMilli()));
    long untilMillis = until.toEpochMilli();
    return journal.currentEventsByTag(BerthTags.TIMELINE, start)
        .filter(e -> e.timestamp() >= since.toEpochMilli())
        .takeWhile(e -> e.timestamp() <= untilMillis)
        .take(limit)
        .map(e -> entry(e, true))
        .runWith(Sink.seq(), system)
        .thenApply(page -> new TimelinePage(page,
            page.isEmpty() ? after : Optional.of(page.get(page.size() - 1).offset()),
            page.size() < limit && until.isBefore(readUpTo)));
  }

  /** The timeline as a live stream from after {@code after} (or from {@code since}): for the event stream of the API. */
  public Source<AuditEntry, NotUsed> liveTimeline(Instant since, Optional<String> after) {
    Offset start = after.map(AuditService::offset).orElseGet(() -> journal.timeBasedUUIDFrom(since.toEpochMilli()));
    return journal.eventsByTag(BerthTags.TIMELINE, start).map(e -> entry(e, true));
  }

  // --- state at T ---------------------------------------------------------------------------------------------

  /** The container's state after every event decided at or before {@code at}: its own fold over its own log. */
  public CompletionStage<ContainerState> containerStateAt(ContainerId id, Instant at) {
    return eventsUpTo(persistenceId(id), at)
        .runWith(Sink.fold(ContainerState.empty(id), (state, e) -> state.apply((ContainerEvent) e)), system);
  }

  /**
   * The container's state just before its event {@code sequenceNr}: the fold of its events 1 to {@code sequenceNr - 1}
   * (which incarnation an event belongs to, and with what labels, whatever became of the name since).
   */
  public CompletionStage<ContainerState> containerStateBefore(ContainerId id, long sequenceNr) {
    if (sequenceNr < 1) throw new IllegalArgumentException("sequenceNr: must be at least 1, was " + sequenceNr);
    return history(persistenceId(id), 1).takeWhile(e -> e.sequenceNr() < sequenceNr).map(AuditEntry::event)
        .runWith(Sink.fold(ContainerState.empty(id), (state, e) -> state.apply((ContainerEvent) e)), system);
  }

  /** The host's state after every event decided at or before {@code at}. */
  public CompletionStage<HostState> hostStateAt(HostId id, Instant at) {
    return eventsUpTo(persistenceId(id), at)
        .runWith(Sink.fold(HostState.empty(id), (state, e) -> state.apply((HostEvent) e)), system);
  }

  private Source<BerthEvent, NotUsed> eventsUpTo(String persistenceId, Instant at) {
    if (at == null) throw new IllegalArgumentException("at: must be given");
    // Events are in sequence order and decided in that order, so the first one after T ends the fold.
    return history(persistenceId, 1).map(AuditEntry::event).takeWhile(e -> !e.meta().at().isAfter(at));
  }

  // --- verify -------------------------------------------------------------------------------------------------

  /**
   * Recomputes one entity's hash chain from the stored bytes, checks it against the entity's signed checkpoints, and
   * names the first bad sequence number and the check it failed ({@link ChainCheck}).
   */
  public CompletionStage<ChainReport> verify(String persistenceId) {
    checkPersistenceId(persistenceId);
    return checkpoints.signers().thenCompose(keys -> verify(persistenceId, new CheckpointValidation.Signers(keys), Instant.now()));
  }

  private CompletionStage<ChainReport> verify(String persistenceId, CheckpointValidation.Signers signers, Instant now) {
    Instant unsignedBefore = maxUnsignedAge.isZero() ? null : now.minus(maxUnsignedAge);
    return checkpoints.of(persistenceId).thenCompose(stored -> {
      CheckpointValidation checked = CheckpointValidation.of(persistenceId, stored, signers);
      return rows.rows(persistenceId)
          .runWith(Sink.fold(ChainVerifier.whole(persistenceId, rows, checked.valid, unsignedBefore), ChainVerifier::accept), system)
          .thenApply(v -> first(v.result(), checked.problem));
    });
  }

  /** The chain's own result, unless a bad checkpoint names an earlier sequence number. */
  private static ChainReport first(ChainReport chain, java.util.Optional<ChainReport.Broken> checkpoint) {
    if (checkpoint.isEmpty()) return chain;
    if (chain instanceof ChainReport.Broken b && b.sequenceNr() <= checkpoint.get().sequenceNr()) return b;
    return checkpoint.get();
  }

  /**
   * Verifies every entity in the journal, a few at a time, and every log that has a checkpoint: a checkpoint of a log
   * the journal no longer holds is reported.
   */
  public CompletionStage<VerifyReport> verifyAll() {
    Instant now = Instant.now();
    return checkpoints.signers().thenCompose(keys -> checkpoints.persistenceIds().thenCompose(checkpointed -> {
      CheckpointValidation.Signers signers = new CheckpointValidation.Signers(keys);
      java.util.Set<String> logs = new java.util.LinkedHashSet<>();
      // Berth's own logs only: the journal also holds Pekko's (sharding's remembered entities, for one).
      return berthLogs().runWith(Sink.seq(), system).thenCompose(journalLogs -> {
        logs.addAll(journalLogs);
        for (String pid : checkpointed) if (isBerthLog(pid)) logs.add(pid);
        return Source.from(List.copyOf(logs)).mapAsync(4, pid -> verify(pid, signers, now)).runWith(Sink.seq(), system);
      });
    })).thenApply(reports -> {
      long events = 0;
      List<ChainReport.Broken> broken = new ArrayList<>();
      for (ChainReport r : reports) {
        if (r instanceof ChainReport.Intact ok) events += ok.events();
        if (r instanceof ChainReport.Broken b) broken.add(b);
      }
      broken.sort(java.util.Comparator.comparing(ChainReport.Broken::persistenceId));
      return new VerifyReport(reports.size(), events, broken);
    });
  }

  /**
   * Why an entity failed to recover, naming the first row that does not deserialize (the plugin's own error names
   * neither the row nor the sequence number). Empty when every row decodes (the failure lies elsewhere).
   */
  public CompletionStage<Optional<String>> undecodableRow(String persistenceId) {
    return rows.rows(persistenceId)
        .map(row -> rows.decode(row).isFailure()
            ? Optional.of(persistenceId + ": the journal row at sequence number " + row.sequenceNr() + " (serializer "
                + row.serializerId() + ", manifest '" + row.manifest() + "') does not deserialize: "
                + rows.decode(row).failed().get().getMessage())
            : Optional.<String>empty())
        .filter(Optional::isPresent)
        .runWith(Sink.headOption(), system)
        .thenApply(o -> o.flatMap(x -> x));
  }

  // ------------------------------------------------------------------------------------------------------------

  private static AuditEntry entry(EventEnvelope e, boolean withOffset) {
    if (!(e.event() instanceof BerthEvent event)) {
      throw new IllegalStateException(e.persistenceId() + " sequence number " + e.sequenceNr() + " holds a "
          + e.event().getClass().getName() + ", not a Berth event");
    }
    String offset = withOffset && e.offset() instanceof TimeBasedUUID t ? t.value().toString() : "";
    return new AuditEntry(e.persistenceId(), e.sequenceNr(), offset, event);
  }

  private static Offset offset(String s) {
    try {
      UUID uuid = UUID.fromString(s);
      if (uuid.version() != 1) throw new IllegalArgumentException("after: must be a time-based (version 1) UUID from a timeline entry, was " + s);
      return Offset.timeBasedUUID(uuid);
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("after:")) throw e;
      throw new IllegalArgumentException("after: must be an offset from a timeline entry (a UUID), was '" + s + "'", e);
    }
  }

  private static boolean isBerthLog(String persistenceId) {
    return DIRECTORY_ID.equals(persistenceId) || ACCESS_ID.equals(persistenceId)
        || (persistenceId.startsWith(CONTAINER_PREFIX) || persistenceId.startsWith(HOST_PREFIX))
        && persistenceId.indexOf('|') < persistenceId.length() - 1;
  }

  private static void checkPersistenceId(String persistenceId) {
    if (persistenceId == null || !isBerthLog(persistenceId)) {
      throw new IllegalArgumentException("persistenceId: must be container|<id>, host|<id>, " + DIRECTORY_ID + " or " + ACCESS_ID + ", was '" + persistenceId + "'");
    }
  }

  private static void checkLimit(int limit) {
    if (limit < 1 || limit > MAX_PAGE) throw new IllegalArgumentException("limit: must be 1-" + MAX_PAGE + ", was " + limit);
  }
}
