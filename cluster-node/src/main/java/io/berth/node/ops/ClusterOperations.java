package io.berth.node.ops;

import io.berth.node.container.ContainerEntity;
import io.berth.node.directory.Directory;
import io.berth.node.host.HostEntity;
import io.berth.persistence.JournalHealth;
import io.berth.persistence.audit.AuditService;
import io.berth.persistence.audit.ChainReport;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.directory.Allocation;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@link BerthOperations} over the real cluster: the directory singleton places and allocates, the
 * sharded entities act, the audit service reads the journal. Every call that would persist is refused
 * at once with {@code UNAVAILABLE} while the journal is known to be down (nothing is half-done then).
 */
public final class ClusterOperations implements BerthOperations {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClusterOperations.class);

  /** How long one entity may take to make an outcome durable (a stop waits for its own timeout on top). */
  static final Duration ASK = Duration.ofSeconds(30);

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final ActorRef<DirectoryCommand> directory;
  private final AuditService audit;
  private final Templates templates;

  /** The node's template store, behind what the API needs of it. */
  public interface Templates {
    CompletionStage<List<TemplateView>> list();

    CompletionStage<TemplateView> importTemplate(String name, Path source, CommandContext context);
  }

  public ClusterOperations(ActorSystem<?> system, ActorRef<DirectoryCommand> directory, AuditService audit, Templates templates) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.directory = directory;
    this.audit = audit;
    this.templates = templates;
  }

  // --- containers ---------------------------------------------------------------------------------

  @Override
  public CompletionStage<ContainerReply> create(ContainerSpec spec, boolean start, CommandContext context) {
    long t0 = System.nanoTime();
    return guarded(() -> askDirectory(r -> new DirectoryCommand.Allocate(spec, context, r)).thenCompose(reply -> {
      if (reply instanceof DirectoryReply.Refused refused) return done(new ContainerReply.Refused(refused.rejection()));
      DirectoryReply.Allocated a = (DirectoryReply.Allocated) reply;
      long placed = System.nanoTime();
      return askContainer(spec.id(),
          r -> new ContainerCommand.Define(spec, a.host(), a.decision(), a.address(), a.prefixLength(), start, context, r))
          .handle((defined, error) -> {
            // Not defined at all: give the allocation back, so nothing is half-done. (Defined but not started:
            // the container exists, stopped, and says why; it keeps its allocation.)
            boolean notDefined = error != null || defined instanceof ContainerReply.Refused r
                && r.rejection().code() != io.berth.protocol.reply.Rejection.Code.FAILED;
            if (!notDefined) {
              long end = System.nanoTime();
              log.info("created container={} host={} started={} in {} ms (place {} ms, define{} {} ms) correlation={}", spec.id(), a.host(),
                  start, (end - t0) / 1_000_000, (placed - t0) / 1_000_000, start ? " and start" : "", (end - placed) / 1_000_000,
                  context.correlationId());
              return done(defined);
            }
            return askDirectory(r -> new DirectoryCommand.Release(spec.id(), context, r))
                .thenCompose(released -> error != null ? CompletableFuture.<ContainerReply>failedFuture(error) : done(defined));
          })
          .thenCompose(Function.identity());
    }));
  }

  @Override
  public CompletionStage<ContainerReply> start(ContainerId id, CommandContext context) {
    return guarded(() -> askContainer(id, r -> new ContainerCommand.Start(context, r)));
  }

  @Override
  public CompletionStage<ContainerReply> stop(ContainerId id, long timeoutMillis, CommandContext context) {
    return guarded(() -> askContainer(id, r -> new ContainerCommand.Stop(timeoutMillis, context, r), ASK.plusMillis(timeoutMillis)));
  }

  @Override
  public CompletionStage<ContainerReply> kill(ContainerId id, int signal, CommandContext context) {
    return guarded(() -> askContainer(id, r -> new ContainerCommand.Kill(signal, context, r)));
  }

  @Override
  public CompletionStage<ContainerReply> destroy(ContainerId id, CommandContext context) {
    return guarded(() -> askContainer(id, r -> new ContainerCommand.Destroy(context, r)).thenCompose(reply -> {
      if (!(reply instanceof ContainerReply.Done)) return done(reply);
      return askDirectory(r -> new DirectoryCommand.Release(id, context, r)).thenApply(released -> reply);
    }));
  }

  @Override
  public CompletionStage<ContainerReply> setLimits(ContainerId id, Limits limits, CommandContext context) {
    return guarded(() -> get(id).thenCompose(before -> {
      if (!(before instanceof ContainerState.Live live) || before instanceof ContainerState.Destroyed) {
        return done(new ContainerReply.Refused(new Rejection(Code.NOT_FOUND, "container", "container " + id + " does not exist")));
      }
      Limits old = live.data().spec().limits();
      // The host must be able to take the new limits before the container gets them (no overcommit).
      return askDirectory(r -> new DirectoryCommand.Resize(id, limits, context, r)).thenCompose(resized -> {
        if (resized instanceof DirectoryReply.Refused refused) return done(new ContainerReply.Refused(refused.rejection()));
        return askContainer(id, r -> new ContainerCommand.SetLimits(limits, context, r)).thenCompose(reply -> {
          if (reply instanceof ContainerReply.Done) return done(reply);
          return askDirectory(r -> new DirectoryCommand.Resize(id, old, context, r)).thenApply(back -> reply);
        });
      });
    }));
  }

  @Override
  public CompletionStage<ContainerReply> migrate(ContainerId id, HostId target, MigrationMode mode, CommandContext context) {
    return guarded(() -> askContainer(id, r -> new ContainerCommand.Migrate(target, mode, context, r)));
  }

  @Override
  public CompletionStage<ContainerReply> exec(ContainerId id, List<String> argv, long timeoutMillis, CommandContext context) {
    return askContainer(id, r -> new ContainerCommand.Exec(argv, timeoutMillis, context, r), ASK.plusMillis(timeoutMillis));
  }

  @Override
  public CompletionStage<ContainerState> get(ContainerId id) {
    return askContainer(id, ContainerCommand.Get::new).thenApply(reply -> ((ContainerReply.Done) reply).state());
  }

  @Override
  public CompletionStage<List<ContainerState>> list() {
    return readDirectory().thenCompose(state -> {
      List<CompletableFuture<ContainerState>> gets = new ArrayList<>();
      for (ContainerId id : state.allocations().keySet()) gets.add(get(id).toCompletableFuture());
      return CompletableFuture.allOf(gets.toArray(CompletableFuture[]::new))
          .thenApply(v -> gets.stream().map(CompletableFuture::join)
              .filter(s -> !(s instanceof ContainerState.Empty) && !(s instanceof ContainerState.Destroyed)).toList());
    });
  }

  // --- hosts --------------------------------------------------------------------------------------

  @Override
  public CompletionStage<List<HostView>> hosts() {
    return readDirectory().thenCompose(dir -> {
      Cluster cluster = Cluster.get(system);
      Set<HostId> reachable = new TreeSet<>();
      Set<HostId> known = new TreeSet<>();
      for (Member m : cluster.state().getMembers()) {
        Optional<HostId> h = Directory.hostOf(m);
        if (h.isEmpty()) continue;
        known.add(h.get());
        if (m.status() == MemberStatus.up() && !cluster.state().getUnreachable().contains(m)) reachable.add(h.get());
      }
      dir.allocations().values().forEach(a -> known.add(a.host()));
      Map<HostId, long[]> sums = new HashMap<>();
      for (Allocation a : dir.allocations().values()) {
        long[] s = sums.computeIfAbsent(a.host(), h -> new long[4]);
        s[0] += a.limits().cpuMillis();
        s[1] += a.limits().memoryBytes();
        s[2] += a.limits().pids();
        s[3] += 1;
      }
      List<CompletableFuture<Optional<HostView>>> views = new ArrayList<>();
      for (HostId h : known) {
        long[] s = sums.getOrDefault(h, new long[4]);
        views.add(host(h).toCompletableFuture()
            .thenApply(r -> r instanceof HostReply.Done d && !(d.state() instanceof HostState.Unregistered)
                ? Optional.of(new HostView(d.state(), s[0], s[1], s[2], (int) s[3], reachable.contains(h)))
                : Optional.<HostView>empty())
            .exceptionally(e -> Optional.empty()));
      }
      return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new))
          .thenApply(v -> views.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
    });
  }

  @Override
  public CompletionStage<HostReply> host(HostId id) {
    return askHost(id, HostCommand.Get::new);
  }

  @Override
  public CompletionStage<HostReply> cordon(HostId id, CommandContext context) {
    return guarded(() -> askHost(id, r -> new HostCommand.Cordon(context, r)));
  }

  @Override
  public CompletionStage<HostReply> uncordon(HostId id, CommandContext context) {
    return guarded(() -> askHost(id, r -> new HostCommand.Uncordon(context, r)));
  }

  // --- templates ----------------------------------------------------------------------------------

  @Override
  public CompletionStage<List<TemplateView>> templates() {
    return templates.list();
  }

  @Override
  public CompletionStage<TemplateView> importTemplate(String name, Path source, CommandContext context) {
    return templates.importTemplate(name, source, context);
  }

  // --- audit --------------------------------------------------------------------------------------

  @Override
  public CompletionStage<List<AuditEntry>> history(EntityRef entity, long fromSeqNr, int limit) {
    return audit.history(entity.persistenceId(), fromSeqNr, limit)
        .thenApply(page -> page.entries().stream().map(ClusterOperations::entry).toList());
  }

  @Override
  public CompletionStage<List<AuditEntry>> timeline(Instant since, Instant until, int limit) {
    return audit.timeline(since, until, Optional.empty(), limit)
        .thenApply(page -> page.entries().stream().map(ClusterOperations::entry).toList());
  }

  @Override
  public CompletionStage<ContainerState> containerAt(ContainerId id, Instant at) {
    return audit.containerStateAt(id, at);
  }

  @Override
  public CompletionStage<VerifyReport> verify(Optional<EntityRef> entity) {
    if (entity.isPresent()) {
      return audit.verify(entity.get().persistenceId()).thenApply(report -> {
        if (report instanceof ChainReport.Broken b) {
          return new VerifyReport(1, b.sequenceNr(), List.of(new BrokenLink(b.persistenceId(), b.sequenceNr(), b.problem())));
        }
        return new VerifyReport(1, ((ChainReport.Intact) report).events(), List.of());
      });
    }
    return audit.verifyAll().thenApply(r -> new VerifyReport(r.entities(), r.events(),
        r.broken().stream().map(b -> new BrokenLink(b.persistenceId(), b.sequenceNr(), b.problem())).toList()));
  }

  @Override
  public Source<AuditEntry, NotUsed> events(Optional<String> offset) {
    // From an offset: everything after it. Without one: from now on.
    Instant since = offset.isPresent() ? Instant.EPOCH : Instant.now();
    return audit.liveTimeline(since, offset).map(ClusterOperations::entry);
  }

  private static AuditEntry entry(io.berth.persistence.audit.AuditEntry e) {
    return new AuditEntry(e.persistenceId(), e.sequenceNr(), e.at(), e.type(), e.principal(), e.reason(), e.correlationId(),
        e.offset() == null ? "" : e.offset(), e.event());
  }

  // --- plumbing -----------------------------------------------------------------------------------

  private <T> CompletionStage<T> guarded(java.util.function.Supplier<CompletionStage<T>> call) {
    return JournalHealth.get(system).guard(call);
  }

  private CompletionStage<ContainerReply> askContainer(ContainerId id,
      org.apache.pekko.japi.function.Function<ActorRef<ContainerReply>, ContainerCommand> make) {
    return askContainer(id, make, ASK);
  }

  private CompletionStage<ContainerReply> askContainer(ContainerId id,
      org.apache.pekko.japi.function.Function<ActorRef<ContainerReply>, ContainerCommand> make, Duration timeout) {
    return sharding.entityRefFor(ContainerEntity.TYPE_KEY, id.value()).ask(make, timeout);
  }

  private CompletionStage<HostReply> askHost(HostId id, org.apache.pekko.japi.function.Function<ActorRef<HostReply>, HostCommand> make) {
    return sharding.entityRefFor(HostEntity.TYPE_KEY, id.value()).ask(make, ASK);
  }

  private CompletionStage<DirectoryReply> askDirectory(org.apache.pekko.japi.function.Function<ActorRef<DirectoryReply>, DirectoryCommand> make) {
    return AskPattern.ask(directory, make, ASK, system.scheduler());
  }

  /** The directory's whole state. */
  public CompletionStage<DirectoryState> readDirectory() {
    return askDirectory(DirectoryCommand.Read::new).thenApply(r -> ((DirectoryReply.Snapshot) r).state());
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
