package io.berth.protocol.container;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a container entity is asked to do. Each changing command carries its {@link CommandContext}
 * (principal, reason, correlation id) and is answered with a {@link ContainerReply} once the outcome is
 * durable. {@code replyTo} is the last field (Pekko style guide).
 */
public sealed interface ContainerCommand extends BerthMessage {

  /** Who gets the answer (every command's last component). */
  ActorRef<ContainerReply> replyTo();

  /**
   * Defines the container on the host placement chose (the entity runs there), with the address the
   * cluster allocated and placement's reason; with {@code start}, starts it too (one intent, one answer
   * once it runs). Step 2 of the directory's create saga: {@code reservation} is the directory's number for
   * it. Sent again after a timeout, it is answered from the state (never defined twice); a reservation older
   * than the last one the container took part in or declined is refused.
   */
  record Define(
      ContainerSpec spec,
      HostId host,
      String placementDecision,
      String address,
      int prefixLength,
      boolean start,
      long reservation,
      CommandContext context,
      ActorRef<ContainerReply> replyTo)
      implements ContainerCommand {}

  record Start(CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  /** SIGTERM to the init, SIGKILL after {@code timeoutMillis}. */
  record Stop(long timeoutMillis, CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  record Kill(int signal, CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  /** Step 2 of the directory's resize saga (its {@code reservation}); sent again, it is answered from the state. */
  record SetLimits(Limits limits, long reservation, CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  /**
   * The directory settles its {@code reservation}: if the container has not taken part in it, it never will
   * (the entity records {@code ReservationDeclined}); either way it answers {@link ContainerReply.Done} with its
   * state, from which the directory confirms or releases. Answerable on any member (it touches no kernel);
   * {@code BUSY} while a limits change is in progress (its outcome is not known yet: ask again).
   */
  record Settle(long reservation, CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  record Destroy(CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  /**
   * Step 2 of the directory's migration saga ({@code reservation}): the entity, on the container's host, takes
   * the move to {@code target} on and answers {@link ContainerReply.Done} once {@code MigrationRequested} is
   * durable; the steps then run from its log. Sent again, it is answered from the state.
   */
  record Migrate(HostId target, MigrationMode mode, boolean modeForced, PostCopy postCopy, String decision, long reservation,
      CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  /** Runs {@code argv} inside the running container; answered with {@link ContainerReply.ExecResult}. */
  record Exec(List<String> argv, long timeoutMillis, CommandContext context, ActorRef<ContainerReply> replyTo)
      implements ContainerCommand {}

  /**
   * Step 2 of a failover ({@code reservation}): host {@code from} is fenced; the container (on shared storage)
   * now belongs on {@code to}, where it runs again from the same disk image if it ran. Sent again, answered from the state.
   */
  record FailOver(HostId from, HostId to, String reason, long reservation, CommandContext context, ActorRef<ContainerReply> replyTo)
      implements ContainerCommand {}

  /** Host {@code host} is fenced and holds the container's only disk: record it {@code lost}. Idempotent. */
  record MarkLost(HostId host, String reason, CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  /**
   * Step 2 of a recovery ({@code reservation}): a lost container runs again on {@code to}, with a new empty disk
   * ({@code fresh}). Sent again, answered from the state.
   */
  record Recover(HostId to, boolean fresh, String reason, long reservation, CommandContext context, ActorRef<ContainerReply> replyTo)
      implements ContainerCommand {}

  /**
   * How often its host checkpoints it while it runs ({@link java.time.Duration#ZERO}: never); the spec's rules apply
   * (refused {@code INVALID} naming {@code checkpointEvery}). Taken at its host's next round; off deletes the kept ones.
   */
  record SetCheckpointSchedule(java.time.Duration every, CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  /** Answered with {@link ContainerReply.Done} carrying the current state (which may be {@code Empty}). */
  record Get(ActorRef<ContainerReply> replyTo) implements ContainerCommand {}
}
