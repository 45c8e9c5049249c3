package io.berth.protocol.migration;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What the source of a migration asks the target host's migration agent. The agent keeps no log: what it holds
 * of a container is what its kernel holds ({@link Status}), so a crash of the target's node loses nothing the
 * saga needs. Every command is safe to send again.
 */
public sealed interface MigrationCommand extends BerthMessage {
  String migrationId();

  ActorRef<MigrationReply> replyTo();

  /**
   * Preflight: can this host take the container in {@code mode} (its template, CRIU, room for its disk; with
   * {@code postCopy}, a lazy restore too)? If so the agent opens a receiver for the migration's files and answers
   * {@link MigrationReply.Prepared}.
   */
  record Prepare(String migrationId, ContainerSpec spec, String address, int prefixLength, MigrationMode mode, boolean postCopy,
      ActorRef<MigrationReply> replyTo) implements MigrationCommand {}

  /**
   * Runs the container here from what was received: restored from its checkpoint ({@code live}), or set up on its
   * disk and, with {@code start}, started (cold). {@code viaPageServer}: the dump sent its pages to this host's page
   * server (wait for it to end), else they came with the files. {@code lazyPagesFrom}: post-copy, the memory comes
   * from the source's relay at this {@code address:port} after the restore (empty: not post-copy). Answered
   * {@link MigrationReply.Holds} once it runs (or is set up).
   */
  record Restore(String migrationId, ContainerId container, boolean live, boolean start, boolean viaPageServer, String lazyPagesFrom,
      ActorRef<MigrationReply> replyTo) implements MigrationCommand {}

  /**
   * Post-copy: answered {@link MigrationReply.Holds} once the memory's transfer of this migration has ended here: every
   * page arrived, or it was cut short and the container was killed and started again from its disk (then
   * {@code memoryLost} says why). Answered at once when no transfer of it runs here.
   */
  record AwaitPostCopy(String migrationId, ContainerId container, ActorRef<MigrationReply> replyTo) implements MigrationCommand {}

  /**
   * Asked of the source host's agent when the saga runs elsewhere (the source's node went down and the container's
   * entity recovered on another host): the source side's step there, as the entity on the source would have run it.
   * {@code COMMIT}: the held source ends (the target runs it); {@code RESUME}: the move is off, the source resumes or
   * starts again ({@code spec}, {@code address}, {@code prefixLength}, {@code ran} as for the entity's own undo);
   * {@code REMOVE}: the source's copy is removed (the target runs it). Answered {@link MigrationReply.Holds} with what
   * the source host holds then.
   */
  record OnSource(String migrationId, ContainerId container, SourceAction action, ContainerSpec spec, String address, int prefixLength,
      boolean ran, ActorRef<MigrationReply> replyTo) implements MigrationCommand {}

  enum SourceAction { COMMIT, RESUME, REMOVE }

  /** What this host holds of the container now: nothing, set up, or running (with its pid). */
  record Status(String migrationId, ContainerId container, ActorRef<MigrationReply> replyTo) implements MigrationCommand {}

  /**
   * The move is off: remove what this host holds of the container for it (refused if the directory places the
   * container on this host: then it is not a migration's leftover).
   */
  record Discard(String migrationId, ContainerId container, ActorRef<MigrationReply> replyTo) implements MigrationCommand {}
}
