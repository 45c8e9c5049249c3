package io.berth.node.api;

import io.berth.node.ops.BerthOperations;
import io.berth.protocol.access.AccessEvent;
import io.berth.protocol.access.AccessReply;
import io.berth.protocol.access.AccessState;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.Role;
import io.berth.protocol.access.TokenScope;
import io.berth.protocol.container.ContainerData;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A test double of {@link BerthOperations} for the API and CLI unit tests (the real one is the node's, tested
 * end to end by the cluster tests): a small in-memory model of containers and hosts that records every call, so
 * tests can assert what reached Berth, and that bad input reached nothing. {@link #override} scripts the next
 * container reply (a refusal, a failure) to check how the API maps it.
 */
public final class ScriptedOperations implements BerthOperations {
  public static final Instant T0 = Instant.parse("2025-01-31T12:00:00Z");

  /** One line per call: {@code name arg arg ...}. */
  public final List<String> calls = new CopyOnWriteArrayList<>();
  public final List<CommandContext> contexts = new CopyOnWriteArrayList<>();
  public final Map<ContainerId, ContainerState.Live> containers = new ConcurrentHashMap<>();
  public final Map<HostId, HostState> hosts = new ConcurrentHashMap<>();
  /** When set, the next changing container call answers this instead (and the model is left alone). */
  public final AtomicReference<CompletionStage<ContainerReply>> override = new AtomicReference<>();
  public volatile ContainerReply.ExecResult execResult = new ContainerReply.ExecResult(0, "hello\n", "", false);

  public ScriptedOperations() {
    reset();
  }

  /** Back to three ready hosts, no containers, no calls. */
  public void reset() {
    calls.clear();
    contexts.clear();
    containers.clear();
    hosts.clear();
    override.set(null);
    access.set(AccessState.EMPTY);
    checkpointView = CheckpointView.NONE;
    execResult = new ContainerReply.ExecResult(0, "hello\n", "", false);
    for (String h : List.of("host-1", "host-2", "host-3")) {
      HostId id = HostId.of(h);
      hosts.put(id, new HostState.Active(new HostState.HostInfo(id, new HostCapacity(2000, 8L << 30, 4096), Map.of("zone", "a"),
          "198.18.0." + h.charAt(5), T0), false, false, ""));
    }
  }

  public int callCount() {
    return calls.size();
  }

  private void record(String call, CommandContext context) {
    calls.add(call);
    if (context != null) contexts.add(context);
  }

  private CompletionStage<ContainerReply> scripted() {
    return override.getAndSet(null);
  }

  private static CompletionStage<ContainerReply> refused(Rejection.Code code, String field, String message) {
    return CompletableFuture.completedFuture(new ContainerReply.Refused(new Rejection(code, field, message)));
  }

  private static CompletionStage<ContainerReply> done(ContainerState state) {
    return CompletableFuture.completedFuture(new ContainerReply.Done(state));
  }

  private static ContainerData data(ContainerSpec spec, Instant at) {
    return new ContainerData(spec, Optional.of(spec.placement().pinnedHost().orElse(HostId.of("host-1"))), "198.18.1.10", 16,
        Optional.empty(), Optional.empty(), "", 0, 0, "", at, Optional.empty());
  }

  @Override
  public CompletionStage<ContainerReply> create(ContainerSpec spec, boolean start, CommandContext context) {
    record("create " + spec.id() + " start=" + start + " limits=" + spec.limits(), context);
    var s = scripted();
    if (s != null) return s;
    if (containers.containsKey(spec.id())) return refused(Rejection.Code.ALREADY_EXISTS, "name", "container " + spec.id() + " exists already");
    ContainerState.Live state = start ? new ContainerState.Running(data(spec, T0), 4242, T0) : new ContainerState.Defined(data(spec, T0));
    containers.put(spec.id(), state);
    return done(state);
  }

  private CompletionStage<ContainerReply> change(ContainerId id, String call, CommandContext context,
      java.util.function.Function<ContainerState.Live, Object> step) {
    record(call, context);
    var s = scripted();
    if (s != null) return s;
    ContainerState.Live current = containers.get(id);
    if (current == null) return refused(Rejection.Code.NOT_FOUND, "container", "container " + id + ": no such container");
    Object next = step.apply(current);
    if (next instanceof Rejection r) return CompletableFuture.completedFuture(new ContainerReply.Refused(r));
    if (next instanceof ContainerReply reply) return CompletableFuture.completedFuture(reply);
    ContainerState.Live live = (ContainerState.Live) next;
    if (live instanceof ContainerState.Destroyed) containers.remove(id);
    else containers.put(id, live);
    return done(live);
  }

  private static Rejection wrongPhase(ContainerState s, String what) {
    return new Rejection(Rejection.Code.WRONG_PHASE, "phase", "container " + s.id() + " is " + s.phase() + ": cannot " + what);
  }

  @Override
  public CompletionStage<ContainerReply> start(ContainerId id, CommandContext context) {
    return change(id, "start " + id, context, c -> c instanceof ContainerState.Running ? wrongPhase(c, "start")
        : new ContainerState.Running(c.data(), 4242, T0));
  }

  @Override
  public CompletionStage<ContainerReply> stop(ContainerId id, long timeoutMillis, CommandContext context) {
    return change(id, "stop " + id + " timeout=" + timeoutMillis, context, c -> c instanceof ContainerState.Running
        ? new ContainerState.Stopped(c.data()) : wrongPhase(c, "stop"));
  }

  @Override
  public CompletionStage<ContainerReply> kill(ContainerId id, int signal, CommandContext context) {
    return change(id, "kill " + id + " signal=" + signal, context, c -> c instanceof ContainerState.Running
        ? new ContainerState.Stopped(c.data()) : wrongPhase(c, "kill"));
  }

  @Override
  public CompletionStage<ContainerReply> destroy(ContainerId id, CommandContext context) {
    return change(id, "destroy " + id, context, c -> c instanceof ContainerState.Running ? wrongPhase(c, "destroy")
        : new ContainerState.Destroyed(c.data()));
  }

  @Override
  public CompletionStage<ContainerReply> setLimits(ContainerId id, Limits limits, CommandContext context) {
    return change(id, "setLimits " + id + " " + limits, context, c -> {
      ContainerData d = c.data();
      ContainerData nd = new ContainerData(d.spec().withLimits(limits), d.host(), d.address(), d.prefixLength(), d.pending(),
          d.lastExit(), d.lastError(), d.restartAttempts(), d.lastReservation(), d.lastEventHash(), d.updatedAt(), d.lastMigration());
      return c instanceof ContainerState.Running r ? new ContainerState.Running(nd, r.pid(), r.since()) : new ContainerState.Stopped(nd);
    });
  }

  /** What {@link #checkpoints} answers (a test sets it). */
  public volatile CheckpointView checkpointView = CheckpointView.NONE;
  /** What verify reports as bad (none: intact). */
  public volatile List<BerthOperations.BrokenLink> brokenLinks = List.of();

  @Override
  public CompletionStage<ContainerReply> setCheckpointSchedule(ContainerId id, java.time.Duration every, CommandContext context) {
    return change(id, "setCheckpointSchedule " + id + " " + every, context, c -> {
      ContainerData d = c.data();
      ContainerData nd = new ContainerData(d.spec().withCheckpointEvery(every), d.host(), d.address(), d.prefixLength(), d.pending(),
          d.lastExit(), d.lastError(), d.restartAttempts(), d.lastReservation(), d.lastEventHash(), d.updatedAt(), d.lastMigration());
      return c instanceof ContainerState.Running r ? new ContainerState.Running(nd, r.pid(), r.since()) : new ContainerState.Stopped(nd);
    });
  }

  @Override
  public CompletionStage<CheckpointView> checkpoints(ContainerId id) {
    return CompletableFuture.completedFuture(checkpointView);
  }

  @Override
  public CompletionStage<ContainerReply> recover(ContainerId id, boolean fromCheckpoint, io.berth.protocol.event.CommandContext context) {
    return CompletableFuture.completedFuture(new ContainerReply.Refused(new Rejection(
        Rejection.Code.WRONG_PHASE, "phase", "container " + id + " is not lost")));
  }

  @Override
  public CompletionStage<ContainerReply> migrate(ContainerId id, Optional<HostId> target, Optional<MigrationMode> mode,
      io.berth.protocol.container.PostCopy postCopy, CommandContext context) {
    return change(id, "migrate " + id + " to=" + target.map(HostId::value).orElse("(placement)") + " mode="
        + mode.map(MigrationMode::name).orElse("(live or cold)") + " postCopy=" + postCopy, context, c -> {
      ContainerData d = c.data();
      HostId to = target.orElse(HostId.of("host-2"));
      MigrationMode m = mode.orElse(MigrationMode.LIVE);
      // Answered as under way; what a later get sees is the move's end (so the CLI's follow ends at once).
      var record = new io.berth.protocol.container.MigrationRecord(id + "-m1", m, d.host().orElseThrow(), to, "completed", 212, 1400,
          52_000_000L, "", "", false, "", T0);
      containers.put(id, new ContainerState.Running(new ContainerData(d.spec(), Optional.of(to), d.address(), d.prefixLength(), Optional.empty(),
          d.lastExit(), d.lastError(), d.restartAttempts(), d.lastReservation(), d.lastEventHash(), d.updatedAt(), Optional.of(record)), 4343, T0));
      return new ContainerReply.Done(new ContainerState.Migrating(d, new io.berth.protocol.container.MigrationProgress(id + "-m1",
          d.host().orElseThrow(), to, m, io.berth.protocol.container.MigrationProgress.Step.REQUESTED, 4343, 0, mode.isPresent(), postCopy, false, "", 0, "",
          T0)));
    });
  }

  @Override
  public CompletionStage<ContainerReply> exec(ContainerId id, List<String> argv, long timeoutMillis, CommandContext context) {
    return change(id, "exec " + id + " " + argv + " timeout=" + timeoutMillis, context,
        c -> c instanceof ContainerState.Running ? execResult : wrongPhase(c, "exec"));
  }

  @Override
  public CompletionStage<ContainerState> get(ContainerId id) {
    record("get " + id, null);
    ContainerState s = containers.get(id);
    return CompletableFuture.completedFuture(s == null ? ContainerState.empty(id) : s);
  }

  @Override
  public CompletionStage<List<ContainerState>> list() {
    record("list", null);
    return CompletableFuture.completedFuture(new ArrayList<>(containers.values()));
  }

  @Override
  public CompletionStage<List<HostView>> hosts() {
    record("hosts", null);
    List<HostView> views = new ArrayList<>();
    // host-2 has measured what web-1 uses; the others have not measured yet.
    hosts.values().forEach(h -> views.add(new HostView(h, 500, 64L << 20, 128, 100, 16L << 20, h.id().value().equals("host-2")
        ? new io.berth.protocol.host.HostUsage(120, 20L << 20, Map.of("web-1", new io.berth.protocol.host.HostUsage.ContainerUsage(120, 20L << 20)),
            java.time.Instant.parse("2026-12-02T03:00:00Z"))
        : io.berth.protocol.host.HostUsage.UNKNOWN, 1, true)));
    return CompletableFuture.completedFuture(views);
  }

  @Override
  public CompletionStage<HostReply> host(HostId id) {
    record("host " + id, null);
    HostState h = hosts.get(id);
    return CompletableFuture.completedFuture(h == null ? new HostReply.Refused(new Rejection(Rejection.Code.NOT_FOUND, "host", "host " + id + ": no such host"))
        : new HostReply.Done(h));
  }

  private CompletionStage<HostReply> cordoned(HostId id, boolean cordoned, CommandContext context) {
    record((cordoned ? "cordon " : "uncordon ") + id, context);
    HostState h = hosts.get(id);
    if (!(h instanceof HostState.Active a)) {
      return CompletableFuture.completedFuture(new HostReply.Refused(new Rejection(Rejection.Code.NOT_FOUND, "host", "host " + id + ": no such host")));
    }
    HostState next = new HostState.Active(a.info(), cordoned, false, "");
    hosts.put(id, next);
    return CompletableFuture.completedFuture(new HostReply.Done(next));
  }

  @Override
  public CompletionStage<HostReply> cordon(HostId id, CommandContext context) {
    return cordoned(id, true, context);
  }

  @Override
  public CompletionStage<HostReply> drain(HostId id, io.berth.protocol.host.DrainMode mode, int parallel, CommandContext context) {
    record("drain " + id + " mode=" + mode + " parallel=" + parallel, context);
    HostState s = hosts.get(id);
    if (!(s instanceof HostState.Active a)) return CompletableFuture.completedFuture(new HostReply.Refused(new Rejection(Rejection.Code.NOT_FOUND, "host", "host " + id + " is not registered")));
    HostState next = new HostState.Active(a.info(), true, true, Optional.of(new io.berth.protocol.host.DrainPlan(mode, parallel, T0)), List.of(), "");
    hosts.put(id, next);
    return CompletableFuture.completedFuture(new HostReply.Done(next));
  }

  @Override
  public CompletionStage<HostReply> markDrained(HostId id, java.util.List<String> notMoved, CommandContext context) {
    record("markDrained " + id + " " + notMoved, context);
    return CompletableFuture.completedFuture(new HostReply.Done(hosts.get(id)));
  }

  @Override
  public CompletionStage<HostReply> uncordon(HostId id, CommandContext context) {
    return cordoned(id, false, context);
  }

  /** The access log's state, folded by the real fold (the singleton's refusals are re-stated here). */
  public final AtomicReference<AccessState> access = new AtomicReference<>(AccessState.EMPTY);

  @Override
  public CompletionStage<AccessState> accessTokens() {
    return CompletableFuture.completedFuture(access.get());
  }

  @Override
  public synchronized CompletionStage<AccessReply> issueToken(String name, Credential credential,
      Role role, Optional<TokenScope> scope, Optional<Instant> expiresAt, CommandContext context) {
    record("issueToken " + name + " " + role.wireName(), context);
    var state = access.get();
    if (state.tokens().containsKey(name)) {
      return CompletableFuture.completedFuture(new AccessReply.Refused(
          new Rejection(Rejection.Code.ALREADY_EXISTS, "name", "a token named " + name + " is in force")));
    }
    if (state.tokens().values().stream().anyMatch(t -> t.credential().equals(credential))) {
      return CompletableFuture.completedFuture(new AccessReply.Refused(
          new Rejection(Rejection.Code.ALREADY_EXISTS, "credential", "this " + credential.kind().wireName() + " is issued already")));
    }
    var next = state.apply(new AccessEvent.TokenIssued(context.meta(Instant.now(), state.lastEventHash()), name, credential,
        role, scope, expiresAt));
    access.set(next);
    return CompletableFuture.completedFuture(new AccessReply.Done(next.tokens().get(name), next));
  }

  @Override
  public synchronized CompletionStage<AccessReply> revokeToken(String name, CommandContext context) {
    record("revokeToken " + name, context);
    var state = access.get();
    var token = state.tokens().get(name);
    if (token == null) {
      return CompletableFuture.completedFuture(new AccessReply.Refused(
          new Rejection(Rejection.Code.NOT_FOUND, "name", "no token named " + name + " is in force")));
    }
    var next = state.apply(new AccessEvent.TokenRevoked(context.meta(Instant.now(), state.lastEventHash()), name));
    access.set(next);
    return CompletableFuture.completedFuture(new AccessReply.Done(token, next));
  }

  @Override
  public CompletionStage<List<TemplateView>> templates() {
    record("templates", null);
    return CompletableFuture.completedFuture(List.of(new TemplateView("busybox", "sha256:" + "ab".repeat(32), 2L << 20, T0)));
  }

  @Override
  public CompletionStage<TemplateView> importTemplate(String name, Path source, CommandContext context) {
    record("importTemplate " + name + " " + source, context);
    return CompletableFuture.completedFuture(new TemplateView(name, "sha256:" + "cd".repeat(32), 1L << 20, T0));
  }

  @Override
  public CompletionStage<TemplateView> buildTemplate(io.berth.isolation.template.TemplateBuild build, CommandContext context) {
    record("buildTemplate " + build.name() + " " + build.distribution().name() + " " + build.include(), context);
    return CompletableFuture.completedFuture(new TemplateView(build.name(), "sha256:" + "de".repeat(32), 200L << 20, T0));
  }

  /** Three events per entity: defined, start requested, started, at T0 + seqNr seconds; offsets "o1".."o3". */
  public static List<AuditEntry> entries(String persistenceId) {
    List<AuditEntry> out = new ArrayList<>();
    for (int seq = 1; seq <= 3; seq++) {
      EventMeta meta = new EventMeta(T0.plusSeconds(seq), "alice", seq == 1 ? "first" : "", "corr-" + seq, "");
      ContainerEvent event = switch (seq) {
        case 1 -> new ContainerEvent.StartRequested(meta);
        case 2 -> new ContainerEvent.ContainerStarted(meta, HostId.of("host-1"), 4242);
        default -> new ContainerEvent.LimitsChanged(meta, new Limits(500, 64L << 20, 0, 128));
      };
      out.add(new AuditEntry(persistenceId, seq, meta.at(), event.getClass().getSimpleName(), "alice", meta.reason(),
          meta.correlationId(), "o" + seq, event));
    }
    return out;
  }

  @Override
  public CompletionStage<List<AuditEntry>> history(EntityRef entity, long fromSeqNr, int limit) {
    record("history " + entity.persistenceId() + " from=" + fromSeqNr + " limit=" + limit, null);
    return CompletableFuture.completedFuture(entries(entity.persistenceId()).stream()
        .filter(e -> e.sequenceNr() >= fromSeqNr).limit(limit).toList());
  }

  @Override
  public CompletionStage<List<AuditEntry>> timeline(Instant since, Instant until, int limit) {
    record("timeline since=" + since + " until=" + until + " limit=" + limit, null);
    return CompletableFuture.completedFuture(entries("container|web-1").stream().limit(limit).toList());
  }

  @Override
  public CompletionStage<ContainerState> containerAt(ContainerId id, Instant at) {
    record("containerAt " + id + " " + at, null);
    ContainerState s = containers.get(id);
    return CompletableFuture.completedFuture(s == null || at.isBefore(T0) ? ContainerState.empty(id) : s);
  }

  /** The container as it is now, whatever the event: the scripted entries follow no incarnation of their own. */
  @Override
  public CompletionStage<ContainerState> containerBefore(ContainerId id, long sequenceNr) {
    record("containerBefore " + id + " " + sequenceNr, null);
    ContainerState s = containers.get(id);
    return CompletableFuture.completedFuture(s == null ? ContainerState.empty(id) : s);
  }

  @Override
  public CompletionStage<VerifyReport> verify(Optional<EntityRef> entity) {
    record("verify " + entity.map(EntityRef::persistenceId).orElse("all"), null);
    return CompletableFuture.completedFuture(new VerifyReport(entity.isPresent() ? 1 : 4, 12, brokenLinks));
  }

  /** Entries after {@code offset} ("o1".."o3"), then the stream stays open as a live one does. */
  @Override
  public Source<AuditEntry, NotUsed> events(Optional<String> offset) {
    record("events " + offset.orElse("now"), null);
    int after = offset.map(o -> o.startsWith("o") ? Integer.parseInt(o.substring(1)) : 0).orElse(3);
    List<AuditEntry> backlog = entries("container|web-1").stream().filter(e -> e.sequenceNr() > after).toList();
    return Source.from(backlog).concat(Source.<AuditEntry>maybe().mapMaterializedValue(m -> NotUsed.getInstance()));
  }
}
