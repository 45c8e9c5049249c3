package io.berth.node.host;

import io.berth.node.common.EventChain;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.host.HostEvent.*;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.host.HostState.Active;
import io.berth.protocol.host.HostState.Fenced;
import io.berth.protocol.host.HostState.Unregistered;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.reply.Rejection.Code;
import io.berth.protocol.spec.Labels;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One host, as a persistent entity: what its node registered (capacity, labels, address), cordon, drain,
 * fenced and rejoined. Sharded like the containers, and placed on its own host. What is allocated on the
 * host is not kept here: it follows from the container events (see the directory).
 */
public final class HostEntity extends EventSourcedBehavior<HostCommand, HostEvent, HostState> {

  public static final EntityTypeKey<HostCommand> TYPE_KEY = EntityTypeKey.create(HostCommand.class, "host");

  private final HostId id;
  private final Clock clock;
  private final Function<HostEvent, Set<String>> tagger;
  /** What the host's node last measured (HostCommand.ReportUsage): not recorded, gone when the entity stops. */
  private io.berth.protocol.host.HostUsage usage = io.berth.protocol.host.HostUsage.UNKNOWN;

  public static Behavior<HostCommand> create(String entityId, Clock clock, Function<HostEvent, Set<String>> tagger) {
    return new HostEntity(HostId.of(entityId), clock, tagger);
  }

  private HostEntity(HostId id, Clock clock, Function<HostEvent, Set<String>> tagger) {
    super(PersistenceId.of(TYPE_KEY.name(), id.value()),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.id = id;
    this.clock = clock;
    this.tagger = tagger;
  }

  @Override
  public HostState emptyState() {
    return HostState.empty(id);
  }

  @Override
  public EventHandler<HostState, HostEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(HostState::apply);
  }

  @Override
  public Set<String> tagsFor(HostEvent event) {
    return tagger.apply(event);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public CommandHandler<HostCommand, HostEvent, HostState> commandHandler() {
    var b = newCommandHandlerBuilder();
    b.forAnyState()
        .onCommand(HostCommand.Get.class, (state, c) -> Effect().reply(c.replyTo(), new HostReply.Done(state, usage)))
        .onCommand(HostCommand.ReportUsage.class, (state, c) -> {
          usage = c.usage();
          return Effect().none();
        })
        .onCommand(HostCommand.Register.class, this::register);
    b.forStateType(Unregistered.class)
        .onCommand(HostCommand.class, (state, c) -> notRegistered(state, c.replyTo()));
    b.forStateType(Fenced.class)
        .onCommand(HostCommand.MarkFenced.class, (state, c) -> Effect().reply(c.replyTo(), new HostReply.Done(state)))
        .onCommand(HostCommand.MarkRejoined.class, (state, c) -> persist(state, c.context(), c.replyTo(), HostRejoined::new))
        .onCommand(HostCommand.ReportSelfFence.class, this::reportSelfFence)
        .onCommand(HostCommand.ReportStrayCopy.class, this::reportStrayCopy)
        .onCommand(HostCommand.class, (state, c) -> wrongPhase(state, verb(c), "ready, cordoned or draining", c.replyTo()));
    b.forStateType(Active.class)
        .onCommand(HostCommand.MarkFenced.class, this::fence)
        // Already back (an earlier ask, answered too late for its node, rejoined it): answered as it is.
        .onCommand(HostCommand.MarkRejoined.class, (a, c) -> Effect().reply(c.replyTo(), new HostReply.Done(a)))
        .onCommand(HostCommand.ReportSelfFence.class, this::reportSelfFence)
        .onCommand(HostCommand.ReportStrayCopy.class, this::reportStrayCopy)
        .onCommand(HostCommand.Cordon.class, (a, c) -> a.cordoned() ? Effect().reply(c.replyTo(), new HostReply.Done(a))
            : persist(a, c.context(), c.replyTo(), HostCordoned::new))
        .onCommand(HostCommand.Uncordon.class, (a, c) -> !a.cordoned() ? Effect().reply(c.replyTo(), new HostReply.Done(a))
            : persist(a, c.context(), c.replyTo(), HostUncordoned::new))
        .onCommand(HostCommand.Drain.class, this::drain)
        .onCommand(HostCommand.MarkDrained.class, (a, c) -> !a.draining() ? wrongPhase(a, "mark drained", "draining", c.replyTo())
            : persist(a, c.context(), c.replyTo(), m -> new HostDrained(m, java.util.List.copyOf(c.notMoved()))));
    return b.build();
  }

  /** A drain already under way is answered as it is (its own mode and parallelism go on). */
  private Effect<HostEvent, HostState> drain(Active a, HostCommand.Drain c) {
    if (a.draining()) return Effect().reply(c.replyTo(), new HostReply.Done(a));
    if (c.parallel() < 1 || c.parallel() > io.berth.protocol.host.DrainPlan.MAX_PARALLEL) {
      return Effect().reply(c.replyTo(), new HostReply.Refused(new Rejection(Code.INVALID, "parallel",
          "parallel: must be between 1 and " + io.berth.protocol.host.DrainPlan.MAX_PARALLEL + " (got " + c.parallel() + ")")));
    }
    return persist(a, c.context(), c.replyTo(), m -> new DrainRequested(m, c.mode(), c.parallel()));
  }

  /**
   * A node registers at every start; a new incarnation (every JVM start) or a change of capacity, overcommit, labels or address is
   * an event. A fenced host is answered with its fenced state and nothing is recorded: its node empties the host of
   * every container first and then asks {@code MarkRejoined} (see {@code HostReturn}).
   */
  private Effect<HostEvent, HostState> register(HostState state, HostCommand.Register c) {
    var labels = Labels.check("labels", c.labels());
    if (state instanceof Fenced) return Effect().reply(c.replyTo(), new HostReply.Done(state));
    if (state instanceof Active a && a.info().capacity().equals(c.capacity()) && a.info().labels().equals(labels)
        && Objects.equals(a.info().address(), c.address()) && a.info().incarnation() == c.incarnation()
        && a.info().overcommit().equals(c.overcommit())) {
      return Effect().reply(c.replyTo(), new HostReply.Done(state));
    }
    return persist(state, c.context(), c.replyTo(), m -> new HostRegistered(m, c.capacity(), labels, c.address(), c.incarnation(),
        c.overcommit()));
  }

  /**
   * The survivors' fence of one incarnation of this host's node. Refused when another incarnation registered since:
   * the host came back (and adopted its containers) before the fence was decided, so nothing may start elsewhere.
   */
  private Effect<HostEvent, HostState> fence(Active a, HostCommand.MarkFenced c) {
    if (c.incarnation() != 0 && a.info().incarnation() != 0 && a.info().incarnation() != c.incarnation()) {
      return Effect().reply(c.replyTo(), new HostReply.Refused(new Rejection(Code.WRONG_PHASE, "incarnation",
          "host " + a.id() + " registered again as incarnation " + a.info().incarnation() + " since incarnation " + c.incarnation()
              + " was lost: it is back, not fenced")));
    }
    return persist(a, c.context(), c.replyTo(), m -> new HostFenced(m, c.by(), c.evidence(), c.incarnation()));
  }

  /** What the host's watchdog or node fenced while it was cut off, reported when its node came back; recorded as told. */
  private Effect<HostEvent, HostState> reportSelfFence(HostState state, HostCommand.ReportSelfFence c) {
    return persist(state, c.context(), c.replyTo(), m -> new HostSelfFenced(m, c.by(), c.fencedAt(), c.lastFedAt(), c.deadlineMillis(),
        c.containers(), c.complete(), c.tookMillis()));
  }

  /** A copy the host's node removed because the log places its container elsewhere; recorded as told. */
  private Effect<HostEvent, HostState> reportStrayCopy(HostState state, HostCommand.ReportStrayCopy c) {
    return persist(state, c.context(), c.replyTo(), m -> new HostEvent.StrayCopyRemoved(m, c.container(), c.why(), c.found(), c.diskKept()));
  }

  private Effect<HostEvent, HostState> persist(HostState state, CommandContext context, ActorRef<HostReply> replyTo,
      Function<io.berth.protocol.event.EventMeta, HostEvent> make) {
    var events = new EventChain<HostEvent>(clock, context, state.lastEventHash()).add(make).events();
    return Effect().persist(events).thenReply(replyTo, HostReply.Done::new);
  }

  private Effect<HostEvent, HostState> notRegistered(HostState state, ActorRef<HostReply> replyTo) {
    return Effect().reply(replyTo, new HostReply.Refused(new Rejection(Code.NOT_FOUND, "host", "host " + state.id() + " is not registered")));
  }

  private Effect<HostEvent, HostState> wrongPhase(HostState state, String op, String needs, ActorRef<HostReply> replyTo) {
    return Effect().reply(replyTo, new HostReply.Refused(new Rejection(Code.WRONG_PHASE, "phase",
        "host " + state.id() + " is " + state.phase() + "; " + op + " needs " + needs)));
  }

  private static String verb(HostCommand command) {
    return command.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }
}
