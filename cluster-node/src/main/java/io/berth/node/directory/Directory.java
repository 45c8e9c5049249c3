package io.berth.node.directory;

import io.berth.node.common.EventChain;
import io.berth.node.host.HostEntity;
import io.berth.node.placement.ClusterAllocation;
import io.berth.node.placement.ContainerShare;
import io.berth.node.placement.HostCandidate;
import io.berth.node.placement.Placement;
import io.berth.node.placement.PlacementPolicy;
import io.berth.node.placement.Placer;
import io.berth.protocol.directory.Allocation;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryEvent;
import io.berth.protocol.directory.DirectoryEvent.*;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The cluster directory: one writer (a cluster singleton) for placement decisions, resource allocations
 * and container addresses, so concurrent creates never overcommit a host or share an address. Its log
 * is its truth; the host views it decides on are asked of the host entities at decision time, so a
 * cordon is honoured at once.
 *
 * <p>Host discovery: every node joins with the role {@code host-<id>}; the members that are up are the
 * candidate hosts, the unreachable ones are named in refusals but never chosen.
 */
public final class Directory extends EventSourcedBehavior<Object, DirectoryEvent, DirectoryState> {

  public static final PersistenceId PERSISTENCE_ID = PersistenceId.of("directory", "cluster");
  public static final String HOST_ROLE_PREFIX = "host-";
  static final Duration ASK_HOSTS = Duration.ofSeconds(5);

  public record Settings(AddressPool addresses, PlacementPolicy policy, Clock clock,
      Function<DirectoryEvent, Set<String>> tagger) {}

  /** The hosts' views were gathered for an allocation: decide now, against the current state. */
  private record HostsGathered(DirectoryCommand.Allocate command, List<HostCandidate> hosts, Throwable error)
      implements org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  /** Same, for a resize. */
  private record HostsForResize(DirectoryCommand.Resize command, List<HostCandidate> hosts, Throwable error)
      implements org.apache.pekko.actor.NoSerializationVerificationNeeded {}

  private final ActorContext<Object> ctx;
  private final Settings settings;

  public static Behavior<DirectoryCommand> create(Settings settings) {
    Behavior<Object> b = Behaviors.setup(ctx -> new Directory(ctx, settings));
    return b.narrow();
  }

  private Directory(ActorContext<Object> ctx, Settings settings) {
    super(PERSISTENCE_ID, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.ctx = ctx;
    this.settings = settings;
  }

  @Override
  public DirectoryState emptyState() {
    return DirectoryState.EMPTY;
  }

  @Override
  public EventHandler<DirectoryState, DirectoryEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(DirectoryState::apply);
  }

  @Override
  public Set<String> tagsFor(DirectoryEvent event) {
    return settings.tagger().apply(event);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(200, 2);
  }

  @Override
  public CommandHandler<Object, DirectoryEvent, DirectoryState> commandHandler() {
    return newCommandHandlerBuilder().forAnyState().onAnyCommand(this::handle);
  }

  private Effect<DirectoryEvent, DirectoryState> handle(DirectoryState state, Object message) {
    if (message instanceof DirectoryCommand.Read c) return Effect().reply(c.replyTo(), new DirectoryReply.Snapshot(state));
    if (message instanceof DirectoryCommand.Allocate c) {
      if (state.allocations().containsKey(c.spec().id())) {
        return Effect().reply(c.replyTo(), refused(Code.ALREADY_EXISTS, "container", "container " + c.spec().id() + " exists already"));
      }
      ctx.pipeToSelf(gatherHosts(), (hosts, error) -> new HostsGathered(c, hosts, error));
      return Effect().none();
    }
    if (message instanceof HostsGathered m) return allocate(state, m);
    if (message instanceof DirectoryCommand.Resize c) {
      if (!state.allocations().containsKey(c.container())) {
        return Effect().reply(c.replyTo(), refused(Code.NOT_FOUND, "container", "container " + c.container() + " does not exist"));
      }
      ctx.pipeToSelf(gatherHosts(), (hosts, error) -> new HostsForResize(c, hosts, error));
      return Effect().none();
    }
    if (message instanceof HostsForResize m) return resize(state, m);
    if (message instanceof DirectoryCommand.Release c) {
      if (!state.allocations().containsKey(c.container())) return Effect().reply(c.replyTo(), new DirectoryReply.Done(state));
      var events = new EventChain<DirectoryEvent>(settings.clock(), c.context(), state.lastEventHash())
          .add(m -> new AllocationReleased(m, c.container())).events();
      return Effect().persist(events).thenReply(c.replyTo(), DirectoryReply.Done::new);
    }
    ctx.getLog().warn("directory: unexpected message {}", message.getClass().getName());
    return Effect().unhandled();
  }

  private Effect<DirectoryEvent, DirectoryState> allocate(DirectoryState state, HostsGathered m) {
    DirectoryCommand.Allocate c = m.command();
    ContainerId id = c.spec().id();
    if (m.error() != null) {
      return Effect().reply(c.replyTo(), refused(Code.UNAVAILABLE, "", "cannot read the hosts to place container " + id + ": " + m.error().getMessage()));
    }
    if (state.allocations().containsKey(id)) {
      return Effect().reply(c.replyTo(), refused(Code.ALREADY_EXISTS, "container", "container " + id + " exists already"));
    }
    Placement placement = Placer.place(view(state, m.hosts()), c.spec(), settings.policy());
    if (placement instanceof Placement.Refusal r) return Effect().reply(c.replyTo(), new DirectoryReply.Refused(r.rejection()));
    Placement.Decision decision = (Placement.Decision) placement;
    List<String> used = state.allocations().values().stream().map(Allocation::address).toList();
    Optional<String> address = settings.addresses().lowestFree(used);
    if (address.isEmpty()) {
      return Effect().reply(c.replyTo(), refused(Code.NO_CAPACITY, "address",
          "no free address for container " + id + ": all " + settings.addresses().size() + " addresses of the pool are in use"));
    }
    var events = new EventChain<DirectoryEvent>(settings.clock(), c.context(), state.lastEventHash())
        .add(meta -> new ContainerAllocated(meta, id, decision.host(), c.spec().limits(), c.spec().placement().antiAffinityGroup(), address.get()))
        .events();
    int prefix = settings.addresses().prefixLength();
    return Effect().persist(events).thenReply(c.replyTo(),
        s -> new DirectoryReply.Allocated(decision.host(), decision.reason(), address.get(), prefix));
  }

  private Effect<DirectoryEvent, DirectoryState> resize(DirectoryState state, HostsForResize m) {
    DirectoryCommand.Resize c = m.command();
    Allocation current = state.allocations().get(c.container());
    if (current == null) return Effect().reply(c.replyTo(), refused(Code.NOT_FOUND, "container", "container " + c.container() + " does not exist"));
    if (m.error() != null) {
      return Effect().reply(c.replyTo(), refused(Code.UNAVAILABLE, "", "cannot read host " + current.host() + ": " + m.error().getMessage()));
    }
    Optional<Rejection> refusal = view(state, m.hosts()).checkLimits(current.host(), c.container(), c.limits());
    if (refusal.isPresent()) return Effect().reply(c.replyTo(), new DirectoryReply.Refused(refusal.get()));
    var events = new EventChain<DirectoryEvent>(settings.clock(), c.context(), state.lastEventHash())
        .add(meta -> new AllocationResized(meta, c.container(), c.limits())).events();
    return Effect().persist(events).thenReply(c.replyTo(), DirectoryReply.Done::new);
  }

  /** The hosts as placement sees them, with every allocation of the directory on them. */
  private static ClusterAllocation view(DirectoryState state, List<HostCandidate> hosts) {
    ClusterAllocation view = ClusterAllocation.of(hosts);
    for (Map.Entry<ContainerId, Allocation> e : state.allocations().entrySet()) {
      Allocation a = e.getValue();
      view = view.withPlaced(a.host(), e.getKey(), new ContainerShare(a.limits(), a.antiAffinityGroup()));
    }
    return view;
  }

  /** Asks every member's host entity for its state; unreachable members are kept as such. */
  private CompletionStage<List<HostCandidate>> gatherHosts() {
    Cluster cluster = Cluster.get(ctx.getSystem());
    ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
    Set<Member> unreachable = cluster.state().getUnreachable();
    List<CompletableFuture<Optional<HostCandidate>>> asks = new ArrayList<>();
    for (Map.Entry<HostId, Member> e : upHosts(cluster.state()).entrySet()) {
      boolean reachable = !unreachable.contains(e.getValue());
      CompletionStage<HostReply> reply = sharding.entityRefFor(HostEntity.TYPE_KEY, e.getKey().value())
          .ask(HostCommand.Get::new, ASK_HOSTS);
      asks.add(reply.toCompletableFuture()
          .thenApply(r -> r instanceof HostReply.Done d ? HostCandidate.of(d.state(), reachable) : Optional.<HostCandidate>empty())
          .exceptionally(error -> Optional.empty()));
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .thenApply(v -> asks.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
  }

  /** The members that are up (or weakly up) and run a host, by host. */
  public static Map<HostId, Member> upHosts(org.apache.pekko.cluster.ClusterEvent.CurrentClusterState state) {
    Map<HostId, Member> hosts = new java.util.TreeMap<>();
    for (Member m : state.getMembers()) {
      if (m.status() != MemberStatus.up() && m.status() != MemberStatus.weaklyUp()) continue;
      hostOf(m).ifPresent(h -> hosts.put(h, m));
    }
    return hosts;
  }

  /** The host a member runs, from its role {@code host-<id>}. */
  public static Optional<HostId> hostOf(Member member) {
    for (String role : member.getRoles()) {
      if (role.startsWith(HOST_ROLE_PREFIX)) return Optional.of(HostId.of(role.substring(HOST_ROLE_PREFIX.length())));
    }
    return Optional.empty();
  }

  private static DirectoryReply refused(Code code, String field, String message) {
    return new DirectoryReply.Refused(new Rejection(code, field, message));
  }

  /** Exposed for the shard allocation strategy: where a container is meant to run. */
  public static Optional<HostId> hostOf(DirectoryState state, ContainerId id) {
    return Optional.ofNullable(state.allocations().get(id)).map(Allocation::host);
  }
}
