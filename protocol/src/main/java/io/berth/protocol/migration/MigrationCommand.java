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
   * Preflight: can this host take the container in {@code mode} (its template, CRIU, room for its disk)? If so the
   * agent opens a receiver for the migration's files and answers {@link MigrationReply.Prepared}.
   */
  record Prepare(String migrationId, ContainerSpec spec, String address, int prefixLength, MigrationMode mode,
      ActorRef<MigrationReply> replyTo) implements MigrationCommand {}

  /**
   * Runs the container here from what was received: restored from its checkpoint ({@code live}), or set up on its
   * disk and, with {@code start}, started (cold). {@code viaPageServer}: the dump sent its pages to this host's page
   * server (wait for it to end), else they came with the files. Answered {@link MigrationReply.Holds} once it runs
   * (or is set up).
   */
  record Restore(String migrationId, ContainerId container, boolean live, boolean start, boolean viaPageServer,
      ActorRef<MigrationReply> replyTo) implements MigrationCommand {}

  /** What this host holds of the container now: nothing, set up, or running (with its pid). */
  record Status(String migrationId, ContainerId container, ActorRef<MigrationReply> replyTo) implements MigrationCommand {}

  /**
   * The move is off: remove what this host holds of the container for it (refused if the directory places the
   * container on this host: then it is not a migration's leftover).
   */
  record Discard(String migrationId, ContainerId container, ActorRef<MigrationReply> replyTo) implements MigrationCommand {}
}
