package io.berth.node.saga;

import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.ContainerId;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One saga under way, as its coordinator tracks it between messages: what to ask the container's entity, who
 * waits for the answer, how often it was asked. Transient and actor-confined: the saga itself is in the logs (a
 * reservation in the coordinator's, the step in the entity's), so after a crash the coordinator rebuilds a run
 * from its log ({@link #recovered}) and settles it; the caller, if any, is gone then and its own wait ends.
 *
 * <p>Two directions: <em>forward</em> asks the step itself again (it is idempotent: the entity answers a copy from
 * its state), <em>settling</em> asks the entity to commit to what it holds. A run turns to settling when the
 * forward answers are spent (patience) or when an answer cannot be read without the entity's state.
 */
public final class SagaRun {
  private final long number;
  private final ContainerId container;
  private final String what;
  private final CommandContext context;
  private final Function<ActorRef<ContainerReply>, ContainerCommand> forward;
  private final ActorRef<ContainerReply> caller;
  private final long startedNanos = System.nanoTime();
  private int asks;
  private boolean settling;
  private ContainerReply verdict;

  private SagaRun(long number, ContainerId container, String what, CommandContext context,
      Function<ActorRef<ContainerReply>, ContainerCommand> forward, ActorRef<ContainerReply> caller, boolean settling) {
    this.number = number;
    this.container = container;
    this.what = what;
    this.context = context;
    this.forward = forward;
    this.caller = caller;
    this.settling = settling;
  }

  /** A saga just begun, driven forward by asking {@code step}; {@code caller} gets its answer. */
  public static SagaRun forward(long number, ContainerId container, String what, CommandContext context,
      Function<ActorRef<ContainerReply>, ContainerCommand> step, ActorRef<ContainerReply> caller) {
    return new SagaRun(number, container, what, context, step, caller, false);
  }

  /** A saga found unsettled in the log after a crash: nobody waits, and it is settled at once. */
  public static SagaRun recovered(long number, ContainerId container, String what, CommandContext context) {
    return new SagaRun(number, container, what, context, null, null, true);
  }

  public long number() {
    return number;
  }

  public ContainerId container() {
    return container;
  }

  /** What the saga does, for logs and answers ("create of container web-1"). */
  public String what() {
    return what;
  }

  /** Who the saga's events are on behalf of. */
  public CommandContext context() {
    return context;
  }

  public Optional<ActorRef<ContainerReply>> caller() {
    return Optional.ofNullable(caller);
  }

  public boolean settling() {
    return settling;
  }

  /** How many times the step (or the settle) was asked so far. */
  public int asks() {
    return asks;
  }

  /** The next question: the step, or the settle once settling. Counts the ask. */
  public Function<ActorRef<ContainerReply>, ContainerCommand> nextAsk() {
    asks++;
    if (settling) return r -> new ContainerCommand.Settle(number, context, r);
    return forward;
  }

  /** Turns to settling (from now on the entity is asked what it holds), keeping {@code verdict} for the caller. */
  public void settle(ContainerReply verdict) {
    if (verdict != null && this.verdict == null) this.verdict = verdict;
    if (!settling) asks = 0;
    settling = true;
  }

  /** Whether the forward answers are spent: the saga has run longer than {@code patience}. */
  public boolean patienceSpent(Duration patience) {
    return System.nanoTime() - startedNanos > patience.toNanos();
  }

  /** The answer the caller gets when the saga ends: the entity's own answer to the step if it gave one, else {@code otherwise}. */
  public ContainerReply verdictOr(ContainerReply otherwise) {
    return verdict != null ? verdict : otherwise;
  }

  /** How long the saga has run, in milliseconds. */
  public long elapsedMillis() {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }
}
