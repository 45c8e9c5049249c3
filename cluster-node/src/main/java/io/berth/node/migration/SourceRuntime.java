package io.berth.node.migration;

import io.berth.protocol.container.PostCopy;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.migration.MigrationReply;
import io.berth.protocol.spec.ContainerSpec;
import java.time.Duration;
import java.util.Optional;

/**
 * What a container's entity needs of its own host to move the container away: the source side of a migration
 * (CRIU on the local kernel, the disk image, sending to the target). Every method blocks: entities call them on
 * the blocking dispatcher. The product runs {@link IsolationSource}.
 */
public interface SourceRuntime {

  /** Empty if a live move can start here (CRIU checks, the container runs), else why not. */
  Optional<String> liveRefusal(ContainerId id);

  /** Whether this host has the container's disk image (it was started at least once here). */
  boolean hasDisk(ContainerId id);

  /** Round 1, while the container runs on: every allocated extent of its disk image. */
  Sent preCopyDisk(ContainerId id, String migrationId, MigrationReply.Prepared target);

  /**
   * Live: CRIU dumps the container and holds it frozen ({@link #commit} or {@link #resume} ends the hold, and the
   * hold's own bound kills it if neither comes: never two copies); then the images and the disk's last delta go to
   * the target. With {@code postCopy} ON (or AUTO and at least {@code berth.migration.post-copy-from} of memory) the
   * memory stays with the frozen tasks and goes after the restore, through a relay ({@link Frozen#lazyPagesFrom}):
   * the target's daemon connecting to it commits the hold (the restore needs pages to complete).
   */
  Frozen freezeAndSend(ContainerId id, String migrationId, MigrationReply.Prepared target, PostCopy postCopy);

  /** Cold: stops the container (when it runs), takes its disk down, and sends the disk's last delta. */
  Sent stopAndSend(ContainerId id, String migrationId, MigrationReply.Prepared target, boolean running);

  /** The target runs it: the held source's tasks are killed (CRIU ends the hold with success; post-copy: once every page was taken). */
  void commit(ContainerId id, String migrationId);

  /**
   * The move is off: the held source resumes where it was (same pid); after a cold stop it is set up again and
   * started when it ran before. Returns its pid, or 0 when it does not run. Idempotent.
   */
  long resumeOrRestart(ContainerId id, String migrationId, ContainerSpec spec, String address, int prefixLength, boolean ran);

  /** Whether the held dump of this migration still holds the source frozen (after this node restarted, too). */
  boolean isHeld(ContainerId id, String migrationId);

  /** Removes everything of the container from this host (it runs on the target now); forgets the migration. */
  void removeLocal(ContainerId id, String migrationId);

  /** One round's figures: what was sent, and the checksum both ends computed. */
  record Sent(long bytes, String sha256, long millis) {}

  /**
   * The live round: {@code imageBytes} of CRIU images, {@code sent} in all; {@code frozenAtNanos}, on this JVM's
   * clock, is when the dump began (the container stops running from then on); {@code viaPageServer}: its pages went
   * to the target's page server while it dumped (not counted in {@code sent}); {@code lazyPagesFrom}: post-copy, the
   * relay the target's daemon takes the pages from ({@code address:port}), empty otherwise.
   */
  record Frozen(long imageBytes, Sent sent, long frozenAtNanos, boolean viaPageServer, String lazyPagesFrom) {
    public boolean postCopy() {
      return !lazyPagesFrom.isEmpty();
    }
  }
}
