package io.berth.protocol.directory;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import org.apache.pekko.actor.typed.ActorRef;

/** What the cluster directory (a singleton) is asked; {@code replyTo} last. */
public sealed interface DirectoryCommand extends BerthMessage {

  /**
   * Creates a container, as a saga the directory runs: places it and reserves its share and address, has its
   * entity define (and with {@code start}, start) it, then confirms. Answered with the entity's own answer once
   * the outcome is durable in both logs, or with a refusal (placement's, or the entity's once the reservation
   * is released).
   */
  record CreateContainer(ContainerSpec spec, boolean start, CommandContext context, ActorRef<ContainerReply> replyTo)
      implements DirectoryCommand {}

  /**
   * Changes a container's limits, as a saga: reserves them on its host if they fit, has its entity apply them,
   * then the allocation follows what the entity recorded. Answered like {@link CreateContainer}.
   */
  record ResizeContainer(ContainerId container, Limits limits, CommandContext context, ActorRef<ContainerReply> replyTo)
      implements DirectoryCommand {}

  /**
   * Moves a running or stopped container to another host, as a saga: places it (its {@code spec} as its entity holds
   * it, for the fit and the host labels) ({@code target} when the operator
   * named one, else placement picks, never its own host), holds its share there ({@code MigrationReserved}) and
   * has its entity take the move on. Answered with the entity's state once the move is under way (its steps are
   * in the container's log), or with a refusal naming why (busy, cordoned, too small, the same host...).
   */
  record MigrateContainer(ContainerSpec spec, java.util.Optional<io.berth.protocol.ids.HostId> target,
      io.berth.protocol.container.MigrationMode mode, boolean modeForced, io.berth.protocol.container.PostCopy postCopy, CommandContext context,
      ActorRef<ContainerReply> replyTo)
      implements DirectoryCommand {}

  /**
   * The container's entity ended the move of reservation {@code reservation}: {@code completed} moves its
   * allocation to the target, otherwise the target's share is freed. Answered {@link DirectoryReply.Done} (also
   * when it was settled already: the entity asks until it is answered).
   */
  record SettleMigration(ContainerId container, long reservation, boolean completed, CommandContext context,
      ActorRef<DirectoryReply> replyTo) implements DirectoryCommand {}

  /** Frees a destroyed container's share and address (and any reservation it still had). */
  /**
   * Host {@code host} is fenced ({@code evidence}): each of its containers that fails over (shared storage, a restart
   * policy) is placed on a survivor, highest HA priority first, as a failover saga (one no survivor can take is marked
   * lost). With {@code markLost} (sent once the host's watchdog has ended its local containers too), each other one is
   * marked lost. Idempotent: a container already moved or lost is left as it is. Answered with
   * {@link DirectoryReply.Done} once every saga has begun.
   */
  record FailOverHost(io.berth.protocol.ids.HostId host, String evidence, boolean markLost, CommandContext context,
      ActorRef<DirectoryReply> replyTo) implements DirectoryCommand {}

  /**
   * The operator's {@code ct recover --empty} of a lost container (its spec, lost on {@code lostOn}): placement picks a
   * survivor and the entity runs it there on a new disk. Answered like {@link MigrateContainer}.
   */
  record RecoverContainer(ContainerSpec spec, io.berth.protocol.ids.HostId lostOn, CommandContext context,
      ActorRef<io.berth.protocol.container.ContainerReply> replyTo) implements DirectoryCommand {}

  record Release(ContainerId container, CommandContext context, ActorRef<DirectoryReply> replyTo) implements DirectoryCommand {}

  /** Where one container runs or is being created; answered with {@link DirectoryReply.Located}. */
  record Locate(ContainerId container, ActorRef<DirectoryReply> replyTo) implements DirectoryCommand {}

  /** The whole directory, for views and for placing shards; answered with {@link DirectoryReply.Snapshot}. */
  record Read(ActorRef<DirectoryReply> replyTo) implements DirectoryCommand {}
}
