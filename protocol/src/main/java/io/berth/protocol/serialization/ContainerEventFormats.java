package io.berth.protocol.serialization;

import static io.berth.protocol.serialization.ValueCodecs.readHostId;
import static io.berth.protocol.serialization.ValueCodecs.readLimits;
import static io.berth.protocol.serialization.ValueCodecs.readMeta;
import static io.berth.protocol.serialization.ValueCodecs.readSpec;
import static io.berth.protocol.serialization.ValueCodecs.writeHostId;
import static io.berth.protocol.serialization.ValueCodecs.writeLimits;
import static io.berth.protocol.serialization.ValueCodecs.writeMeta;
import static io.berth.protocol.serialization.ValueCodecs.writeSpec;
import static io.berth.protocol.serialization.Wire.readEnumName;
import static io.berth.protocol.serialization.Wire.readInt;
import static io.berth.protocol.serialization.Wire.readLong;
import static io.berth.protocol.serialization.Wire.readString;
import static io.berth.protocol.serialization.Wire.writeEnumName;
import static io.berth.protocol.serialization.Wire.writeInt;
import static io.berth.protocol.serialization.Wire.writeLong;
import static io.berth.protocol.serialization.Wire.writeString;

import io.berth.protocol.container.ContainerEvent.*;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.container.PostCopy;
import io.berth.protocol.container.Operation;
import java.util.List;

/**
 * Version 1 of every {@link io.berth.protocol.container.ContainerEvent}: meta first, then the fields
 * in record order. Frozen: golden files under {@code src/test/resources/golden} hold these bytes, and
 * a change that breaks them fails the build. To change an event, add a new record type or a version 2
 * here with an upcaster for 1 (SERIALIZATION.md).
 */
final class ContainerEventFormats {
  private ContainerEventFormats() {}

  /**
   * Version 5: the spec in layout 5 (with the cpu weight and the guarantees); version 4 (layout 4, with the checkpoint
   * schedule) reads as limits that reserved what they capped; version 3 (layout 3, with storage and HA priority)
   * reads as no checkpoints; version 2 (layout 2, with {@code privileged}) also as local storage, priority 0; version 1
   * (layout 1) also as unprivileged.
   */
  static final EventFormat<ContainerDefined> CONTAINER_DEFINED = EventFormat.of(ContainerDefined.class, 5,
      (out, e) -> { writeMeta(out, e.meta()); writeSpec(out, e.spec(), "spec"); },
      in -> new ContainerDefined(readMeta(in), readSpec(in, "spec")))
      .withOldVersion(4, in -> new ContainerDefined(readMeta(in), ValueCodecs.readSpecV4(in, "spec")))
      .withOldVersion(3, in -> new ContainerDefined(readMeta(in), ValueCodecs.readSpecV3(in, "spec")))
      .withOldVersion(2, in -> new ContainerDefined(readMeta(in), ValueCodecs.readSpecV2(in, "spec")))
      .withOldVersion(1, in -> new ContainerDefined(readMeta(in), ValueCodecs.readSpecV1(in, "spec")));

  static final EventFormat<ContainerPlaced> CONTAINER_PLACED = EventFormat.of(ContainerPlaced.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeHostId(out, e.host(), "host"); writeString(out, e.decision()); },
      in -> new ContainerPlaced(readMeta(in), readHostId(in, "host"), readString(in, "decision")));

  static final EventFormat<AddressAssigned> ADDRESS_ASSIGNED = EventFormat.of(AddressAssigned.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.address()); writeInt(out, e.prefixLength()); },
      in -> new AddressAssigned(readMeta(in), readString(in, "address"), readInt(in, "prefixLength")));

  static final EventFormat<StartRequested> START_REQUESTED = EventFormat.of(StartRequested.class, 1,
      (out, e) -> writeMeta(out, e.meta()),
      in -> new StartRequested(readMeta(in)));

  static final EventFormat<ContainerStarted> CONTAINER_STARTED = EventFormat.of(ContainerStarted.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeHostId(out, e.host(), "host"); writeLong(out, e.pid()); },
      in -> new ContainerStarted(readMeta(in), readHostId(in, "host"), readLong(in, "pid")));

  static final EventFormat<StopRequested> STOP_REQUESTED = EventFormat.of(StopRequested.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeLong(out, e.timeoutMillis()); },
      in -> new StopRequested(readMeta(in), readLong(in, "timeoutMillis")));

  static final EventFormat<KillRequested> KILL_REQUESTED = EventFormat.of(KillRequested.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeInt(out, e.signal()); },
      in -> new KillRequested(readMeta(in), readInt(in, "signal")));

  static final EventFormat<ContainerStopped> CONTAINER_STOPPED = EventFormat.of(ContainerStopped.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeInt(out, e.exitCode()); writeInt(out, e.signal()); },
      in -> new ContainerStopped(readMeta(in), readInt(in, "exitCode"), readInt(in, "signal")));

  static final EventFormat<ContainerExited> CONTAINER_EXITED = EventFormat.of(ContainerExited.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeInt(out, e.exitCode()); writeInt(out, e.signal()); },
      in -> new ContainerExited(readMeta(in), readInt(in, "exitCode"), readInt(in, "signal")));

  /** Version 2: limits layout 2 (with the weight and the guarantees); version 1 (layout 1) reads as caps that were all reserved. */
  static final EventFormat<LimitsChangeRequested> LIMITS_CHANGE_REQUESTED = EventFormat.of(LimitsChangeRequested.class, 2,
      (out, e) -> { writeMeta(out, e.meta()); writeLimits(out, e.limits(), "limits"); },
      in -> new LimitsChangeRequested(readMeta(in), readLimits(in, "limits")))
      .withOldVersion(1, in -> new LimitsChangeRequested(readMeta(in), ValueCodecs.readLimitsV1(in, "limits")));

  /** Version 2 as {@link #LIMITS_CHANGE_REQUESTED}. */
  static final EventFormat<LimitsChanged> LIMITS_CHANGED = EventFormat.of(LimitsChanged.class, 2,
      (out, e) -> { writeMeta(out, e.meta()); writeLimits(out, e.limits(), "limits"); },
      in -> new LimitsChanged(readMeta(in), readLimits(in, "limits")))
      .withOldVersion(1, in -> new LimitsChanged(readMeta(in), ValueCodecs.readLimitsV1(in, "limits")));

  static final EventFormat<DestroyRequested> DESTROY_REQUESTED = EventFormat.of(DestroyRequested.class, 1,
      (out, e) -> writeMeta(out, e.meta()),
      in -> new DestroyRequested(readMeta(in)));

  static final EventFormat<ContainerDestroyed> CONTAINER_DESTROYED = EventFormat.of(ContainerDestroyed.class, 1,
      (out, e) -> writeMeta(out, e.meta()),
      in -> new ContainerDestroyed(readMeta(in)));

  static final EventFormat<OperationFailed> OPERATION_FAILED = EventFormat.of(OperationFailed.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeEnumName(out, ValueCodecs.required("operation", e.operation())); writeString(out, e.error()); },
      in -> new OperationFailed(readMeta(in), readEnumName(in, "operation", Operation.class), readString(in, "error")));

  static final EventFormat<ContainerAdopted> CONTAINER_ADOPTED = EventFormat.of(ContainerAdopted.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeHostId(out, e.host(), "host"); writeLong(out, e.pid()); },
      in -> new ContainerAdopted(readMeta(in), readHostId(in, "host"), readLong(in, "pid")));

  static final EventFormat<RestartScheduled> RESTART_SCHEDULED = EventFormat.of(RestartScheduled.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeInt(out, e.attempt()); writeLong(out, e.delayMillis()); writeString(out, e.cause()); },
      in -> new RestartScheduled(readMeta(in), readInt(in, "attempt"), readLong(in, "delayMillis"), readString(in, "cause")));

  // --- the migration saga --------------------------------------------------------------------------

  /**
   * Version 3: with {@code postCopy}; version 2 (with {@code modeForced} and {@code decision}) reads as post-copy off
   * (there was none then); version 1 also as not forced, no decision recorded.
   */
  static final EventFormat<MigrationRequested> MIGRATION_REQUESTED = EventFormat.of(MigrationRequested.class, 3,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeString(out, e.migrationId());
        writeHostId(out, e.source(), "source");
        writeHostId(out, e.target(), "target");
        writeEnumName(out, ValueCodecs.required("mode", e.mode()));
        Wire.writeBoolean(out, e.modeForced());
        writeEnumName(out, ValueCodecs.required("postCopy", e.postCopy()));
        writeString(out, e.decision());
      },
      in -> new MigrationRequested(readMeta(in), readString(in, "migrationId"), readHostId(in, "source"),
          readHostId(in, "target"), readEnumName(in, "mode", MigrationMode.class), Wire.readBoolean(in, "modeForced"),
          readEnumName(in, "postCopy", PostCopy.class), readString(in, "decision")))
      .withOldVersion(2, in -> new MigrationRequested(readMeta(in), readString(in, "migrationId"), readHostId(in, "source"),
          readHostId(in, "target"), readEnumName(in, "mode", MigrationMode.class), Wire.readBoolean(in, "modeForced"), PostCopy.OFF,
          readString(in, "decision")))
      .withOldVersion(1, in -> new MigrationRequested(readMeta(in), readString(in, "migrationId"), readHostId(in, "source"),
          readHostId(in, "target"), readEnumName(in, "mode", MigrationMode.class), false, PostCopy.OFF, ""));

  static final EventFormat<MemoryPostCopied> MEMORY_POST_COPIED = EventFormat.of(MemoryPostCopied.class, 1,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeString(out, e.migrationId());
        writeLong(out, e.bytes());
        Wire.writeBoolean(out, e.complete());
        writeString(out, e.cause());
      },
      in -> new MemoryPostCopied(readMeta(in), readString(in, "migrationId"), readLong(in, "bytes"), Wire.readBoolean(in, "complete"),
          readString(in, "cause")));

  static final EventFormat<MigrationPreflightPassed> MIGRATION_PREFLIGHT_PASSED = EventFormat.of(MigrationPreflightPassed.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.migrationId()); writeString(out, e.findings()); },
      in -> new MigrationPreflightPassed(readMeta(in), readString(in, "migrationId"), readString(in, "findings")));

  static final EventFormat<RootfsPreCopied> ROOTFS_PRE_COPIED = EventFormat.of(RootfsPreCopied.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.migrationId()); writeLong(out, e.bytes()); Wire.writeHash(out, e.sha256()); },
      in -> new RootfsPreCopied(readMeta(in), readString(in, "migrationId"), readLong(in, "bytes"), Wire.readHash(in, "sha256")));

  static final EventFormat<CheckpointTaken> CHECKPOINT_TAKEN = EventFormat.of(CheckpointTaken.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.migrationId()); writeLong(out, e.imageBytes()); },
      in -> new CheckpointTaken(readMeta(in), readString(in, "migrationId"), readLong(in, "imageBytes")));

  static final EventFormat<ImageTransferred> IMAGE_TRANSFERRED = EventFormat.of(ImageTransferred.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.migrationId()); writeLong(out, e.bytes()); Wire.writeHash(out, e.sha256()); },
      in -> new ImageTransferred(readMeta(in), readString(in, "migrationId"), readLong(in, "bytes"), Wire.readHash(in, "sha256")));

  static final EventFormat<ContainerMoved> CONTAINER_MOVED = EventFormat.of(ContainerMoved.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.migrationId()); writeHostId(out, e.target(), "target"); },
      in -> new ContainerMoved(readMeta(in), readString(in, "migrationId"), readHostId(in, "target")));

  static final EventFormat<ContainerRestored> CONTAINER_RESTORED = EventFormat.of(ContainerRestored.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.migrationId()); writeHostId(out, e.host(), "host"); writeLong(out, e.pid()); },
      in -> new ContainerRestored(readMeta(in), readString(in, "migrationId"), readHostId(in, "host"), readLong(in, "pid")));

  static final EventFormat<MigrationCompleted> MIGRATION_COMPLETED = EventFormat.of(MigrationCompleted.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.migrationId()); writeLong(out, e.downtimeMillis()); writeLong(out, e.totalMillis()); },
      in -> new MigrationCompleted(readMeta(in), readString(in, "migrationId"), readLong(in, "downtimeMillis"), readLong(in, "totalMillis")));

  static final EventFormat<MigrationFellBackToCold> MIGRATION_FELL_BACK_TO_COLD = EventFormat.of(MigrationFellBackToCold.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.migrationId()); writeString(out, e.cause()); },
      in -> new MigrationFellBackToCold(readMeta(in), readString(in, "migrationId"), readString(in, "cause")));

  static final EventFormat<MigrationAborted> MIGRATION_ABORTED = EventFormat.of(MigrationAborted.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.migrationId()); writeString(out, e.cause()); writeLong(out, e.pid()); },
      in -> new MigrationAborted(readMeta(in), readString(in, "migrationId"), readString(in, "cause"), readLong(in, "pid")));

  // --- failover ----------------------------------------------------------------------------------

  static final EventFormat<ContainerFenced> CONTAINER_FENCED = EventFormat.of(ContainerFenced.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeHostId(out, e.deadHost(), "deadHost"); },
      in -> new ContainerFenced(readMeta(in), readHostId(in, "deadHost")));

  /** Version 2: with the checkpoint restored (sequence, taken at, age); version 1 reads as none (started cold). */
  static final EventFormat<ContainerFailedOver> CONTAINER_FAILED_OVER = EventFormat.of(ContainerFailedOver.class, 2,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeHostId(out, e.from(), "from");
        writeHostId(out, e.to(), "to");
        writeString(out, e.reason());
        Wire.writeLong(out, e.checkpoint());
        Wire.writeInstantMillis(out, e.checkpointTakenAt());
        Wire.writeLong(out, e.checkpointAgeMillis());
      },
      in -> new ContainerFailedOver(readMeta(in), readHostId(in, "from"), readHostId(in, "to"), readString(in, "reason"),
          Wire.readLong(in, "checkpoint"), Wire.readInstantMillis(in, "checkpointTakenAt"), Wire.readLong(in, "checkpointAgeMillis")))
      .withOldVersion(1, in -> new ContainerFailedOver(readMeta(in), readHostId(in, "from"), readHostId(in, "to"), readString(in, "reason")));

  static final EventFormat<CheckpointRestoreFailed> CHECKPOINT_RESTORE_FAILED = EventFormat.of(CheckpointRestoreFailed.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); Wire.writeLong(out, e.checkpoint()); writeString(out, e.cause()); },
      in -> new CheckpointRestoreFailed(readMeta(in), Wire.readLong(in, "checkpoint"), readString(in, "cause")));

  /** The schedule in milliseconds (varint; 0: off). */
  static final EventFormat<CheckpointScheduleSet> CHECKPOINT_SCHEDULE_SET = EventFormat.of(CheckpointScheduleSet.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); Wire.writeLong(out, e.every().toMillis()); },
      in -> new CheckpointScheduleSet(readMeta(in), java.time.Duration.ofMillis(Wire.readLong(in, "every"))));

  static final EventFormat<ContainerLost> CONTAINER_LOST = EventFormat.of(ContainerLost.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeHostId(out, e.host(), "host"); writeString(out, e.reason()); },
      in -> new ContainerLost(readMeta(in), readHostId(in, "host"), readString(in, "reason")));

  static final EventFormat<ContainerRecovered> CONTAINER_RECOVERED = EventFormat.of(ContainerRecovered.class, 1,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeHostId(out, e.from(), "from");
        writeHostId(out, e.to(), "to");
        Wire.writeBoolean(out, e.fresh());
        writeString(out, e.reason());
      },
      in -> new ContainerRecovered(readMeta(in), readHostId(in, "from"), readHostId(in, "to"), Wire.readBoolean(in, "fresh"),
          readString(in, "reason")));

  // --- the directory's sagas ---------------------------------------------------------------------

  static final EventFormat<ReservationAccepted> RESERVATION_ACCEPTED = EventFormat.of(ReservationAccepted.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeLong(out, e.reservation()); },
      in -> new ReservationAccepted(readMeta(in), readLong(in, "reservation")));

  static final EventFormat<ReservationDeclined> RESERVATION_DECLINED = EventFormat.of(ReservationDeclined.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeLong(out, e.reservation()); },
      in -> new ReservationDeclined(readMeta(in), readLong(in, "reservation")));

  static final List<EventFormat<?>> ALL = List.of(
      CONTAINER_DEFINED, CONTAINER_PLACED, ADDRESS_ASSIGNED, START_REQUESTED, CONTAINER_STARTED, STOP_REQUESTED,
      KILL_REQUESTED, CONTAINER_STOPPED, CONTAINER_EXITED, LIMITS_CHANGE_REQUESTED, LIMITS_CHANGED,
      DESTROY_REQUESTED, CONTAINER_DESTROYED, OPERATION_FAILED, CONTAINER_ADOPTED, RESTART_SCHEDULED,
      MIGRATION_REQUESTED, ROOTFS_PRE_COPIED, CHECKPOINT_TAKEN, IMAGE_TRANSFERRED, CONTAINER_MOVED,
      CONTAINER_RESTORED, MIGRATION_COMPLETED, MIGRATION_FELL_BACK_TO_COLD, MIGRATION_ABORTED, CONTAINER_FENCED,
      RESERVATION_ACCEPTED, RESERVATION_DECLINED, MIGRATION_PREFLIGHT_PASSED, MEMORY_POST_COPIED, CONTAINER_FAILED_OVER,
      CONTAINER_LOST, CONTAINER_RECOVERED, CHECKPOINT_RESTORE_FAILED, CHECKPOINT_SCHEDULE_SET);
}
