package io.berth.protocol.container;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.time.Duration;
import java.time.Instant;

/**
 * Everything that happens to a container, in its own log (persistence id {@code container|<id>}).
 *
 * <p>Operations follow <em>intent, act, outcome</em>: an {@code ...Requested} event is persisted before
 * the kernel is touched, and an outcome event (or {@link OperationFailed}) after. The migration saga's
 * steps are events too, so a crash anywhere resumes or compensates from the log.
 *
 * <p>These types are stored: never edit one that has shipped. Add a new type and an upcaster.
 */
public sealed interface ContainerEvent extends BerthEvent {

  /** The operator defined the container. */
  record ContainerDefined(EventMeta meta, ContainerSpec spec) implements ContainerEvent {}

  /** Placement chose a host, saying why (resource fit, least allocated, pinned, labels, anti-affinity). */
  record ContainerPlaced(EventMeta meta, HostId host, String decision) implements ContainerEvent {}

  /** The container's address in the cluster's range; held until destroy. */
  record AddressAssigned(EventMeta meta, String address, int prefixLength) implements ContainerEvent {}

  record StartRequested(EventMeta meta) implements ContainerEvent {}

  /** The init runs as PID {@code pid} (in the host's pid namespace) on {@code host}. */
  record ContainerStarted(EventMeta meta, HostId host, long pid) implements ContainerEvent {}

  record StopRequested(EventMeta meta, long timeoutMillis) implements ContainerEvent {}

  record KillRequested(EventMeta meta, int signal) implements ContainerEvent {}

  /** A requested stop or kill finished: the init is gone. {@code signal} is 0 when it exited by itself. */
  record ContainerStopped(EventMeta meta, int exitCode, int signal) implements ContainerEvent {}

  /** The init exited without being asked to (crash, OOM kill, normal end of its program). */
  record ContainerExited(EventMeta meta, int exitCode, int signal) implements ContainerEvent {}

  record LimitsChangeRequested(EventMeta meta, Limits limits) implements ContainerEvent {}

  record LimitsChanged(EventMeta meta, Limits limits) implements ContainerEvent {}

  record DestroyRequested(EventMeta meta) implements ContainerEvent {}

  /** Nothing of the container is left on any host; its address is released. */
  record ContainerDestroyed(EventMeta meta) implements ContainerEvent {}

  /** An intent's outcome was a failure; the container is back in the phase it was in before. */
  record OperationFailed(EventMeta meta, Operation operation, String error) implements ContainerEvent {}

  /** After its node restarted, the container was found still running and taken back (not restarted). */
  record ContainerAdopted(EventMeta meta, HostId host, long pid) implements ContainerEvent {}

  /** The restart policy will start the container again after {@code delayMillis} (backoff). */
  record RestartScheduled(EventMeta meta, int attempt, long delayMillis, String cause) implements ContainerEvent {}

  // --- the directory's sagas (create, resize): the container's side ---------------------------------

  /**
   * The container takes part in the directory's reservation {@code reservation} (a create or a resize), in the
   * same write as the step's own events. Reservations are numbered in order by the directory, so any older one
   * is void here from now on: a late copy of an old request is refused.
   */
  record ReservationAccepted(EventMeta meta, long reservation) implements ContainerEvent {}

  /**
   * The directory settled reservation {@code reservation} before the container took part in it: it never will
   * (a define or limits change of that reservation, or an older one, arriving later is refused).
   */
  record ReservationDeclined(EventMeta meta, long reservation) implements ContainerEvent {}

  // --- the migration saga --------------------------------------------------------------------------

  /**
   * The directory reserved room on {@code target} for the container (placement's {@code decision}, or the operator's
   * choice) and the container's entity, on {@code source}, takes the move on. {@code modeForced}: the operator asked
   * for this mode, so a live move that cannot work fails instead of falling back to cold. {@code postCopy}: whether its
   * memory may move after it runs on the target ({@link PostCopy}).
   */
  record MigrationRequested(EventMeta meta, String migrationId, HostId source, HostId target, MigrationMode mode,
      boolean modeForced, PostCopy postCopy, String decision) implements ContainerEvent {}

  /** Both hosts can take the move in its mode (CRIU checks, the target's template, room and kernel): {@code findings}. */
  record MigrationPreflightPassed(EventMeta meta, String migrationId, String findings) implements ContainerEvent {}

  /** The disk image's allocated extents were copied to the target while the container still ran (pre-copy). */
  record RootfsPreCopied(EventMeta meta, String migrationId, long bytes, String sha256) implements ContainerEvent {}

  /** The container was frozen and checkpointed (live) or stopped (cold) on the source. */
  record CheckpointTaken(EventMeta meta, String migrationId, long imageBytes) implements ContainerEvent {}

  /** The checkpoint images and the disk image's last delta reached the target, checksums verified on both sides. */
  record ImageTransferred(EventMeta meta, String migrationId, long bytes, String sha256) implements ContainerEvent {}

  /**
   * Post-copy ended: the container ran on the target while its memory came from the source. {@code complete}: every
   * page arrived ({@code bytes} relayed); otherwise the source went away first, the target killed its copy (it would
   * have read zeros for the pages it never got) and started it again from its disk: its memory is lost, for
   * {@code cause}.
   */
  record MemoryPostCopied(EventMeta meta, String migrationId, long bytes, boolean complete, String cause) implements ContainerEvent {}

  /** The directory places the container on the target host now: its entity's shard follows there. */
  record ContainerMoved(EventMeta meta, String migrationId, HostId target) implements ContainerEvent {}

  /** The container runs on the target (restored from the image, or started for a cold move). */
  record ContainerRestored(EventMeta meta, String migrationId, HostId host, long pid) implements ContainerEvent {}

  /**
   * The move is over: the source holds nothing of the container any more. {@code downtimeMillis}: from the moment it
   * stopped running on the source until it ran on the target, measured by the source around CRIU (0 for a container
   * that was not running); {@code totalMillis}: since {@code MigrationRequested}.
   */
  record MigrationCompleted(EventMeta meta, String migrationId, long downtimeMillis, long totalMillis)
      implements ContainerEvent {}

  /** CRIU could not checkpoint this container: the migration goes on cold, for the recorded reason. */
  record MigrationFellBackToCold(EventMeta meta, String migrationId, String cause) implements ContainerEvent {}

  /**
   * The saga was compensated: the container is on its source host again, running as {@code pid} when
   * {@code pid > 0} (restored or never stopped), stopped otherwise.
   */
  record MigrationAborted(EventMeta meta, String migrationId, String cause, long pid) implements ContainerEvent {}

  // --- failover ---------------------------------------------------------------------------------

  /** Its host was declared dead and fenced; the container no longer runs there. */
  record ContainerFenced(EventMeta meta, HostId deadHost) implements ContainerEvent {}

  /**
   * Its host {@code from} was fenced and the container, on shared storage, now belongs on {@code to} (placement's
   * {@code reason}): a container that ran is started there from the same disk image (a pending start). When it ran
   * with periodic checkpoints and its latest one is of the copy that ran on {@code from}, that checkpoint
   * ({@code checkpoint}, its sequence; taken at {@code checkpointTakenAt}, {@code checkpointAgeMillis} before this
   * event) is restored there instead, so its processes go on from their memory at that moment. {@code checkpoint} 0:
   * none (started cold from its disk); then {@code checkpointTakenAt} is the epoch and the age 0.
   */
  record ContainerFailedOver(EventMeta meta, HostId from, HostId to, String reason, long checkpoint, Instant checkpointTakenAt,
      long checkpointAgeMillis) implements ContainerEvent {
    public ContainerFailedOver {
      checkpointTakenAt = checkpointTakenAt == null ? Instant.EPOCH : checkpointTakenAt;
    }

    /** Without a checkpoint: started cold from its disk (as every failover before checkpoints existed). */
    public ContainerFailedOver(EventMeta meta, HostId from, HostId to, String reason) {
      this(meta, from, to, reason, 0, Instant.EPOCH, 0);
    }
  }

  /**
   * The container's checkpoint {@code checkpoint} could not be restored on its new host after a failover, for
   * {@code cause}: it is started cold from its disk instead (its memory at the checkpoint is lost).
   */
  record CheckpointRestoreFailed(EventMeta meta, long checkpoint, String cause) implements ContainerEvent {}

  /**
   * The operator changed how often its host checkpoints it while it runs ({@link Duration#ZERO}: never; the kept
   * checkpoints are then deleted). The checkpoints themselves are not events (one every 30 s would flood the log):
   * their facts are in their manifests on shared storage.
   */
  record CheckpointScheduleSet(EventMeta meta, Duration every) implements ContainerEvent {}

  /** Its host was fenced and its disk is that host's own: it waits for the operator ({@code berth ct recover}) or its host. */
  record ContainerLost(EventMeta meta, HostId host, String reason) implements ContainerEvent {}

  /**
   * A lost container runs again on {@code to}: on another host with a new, empty disk ({@code fresh}, the operator's
   * {@code ct recover --empty}), or on its own host, come back, from its own disk. A container that ran is started.
   */
  record ContainerRecovered(EventMeta meta, HostId from, HostId to, boolean fresh, String reason) implements ContainerEvent {}
}
