package io.berth.protocol.serialization;

import static io.berth.protocol.serialization.ValueCodecs.readContainerId;
import static io.berth.protocol.serialization.ValueCodecs.readHostId;
import static io.berth.protocol.serialization.ValueCodecs.readLimits;
import static io.berth.protocol.serialization.ValueCodecs.readMeta;
import static io.berth.protocol.serialization.ValueCodecs.writeContainerId;
import static io.berth.protocol.serialization.ValueCodecs.writeHostId;
import static io.berth.protocol.serialization.ValueCodecs.writeLimits;
import static io.berth.protocol.serialization.ValueCodecs.writeMeta;
import static io.berth.protocol.serialization.Wire.readLong;
import static io.berth.protocol.serialization.Wire.readString;
import static io.berth.protocol.serialization.Wire.writeLong;
import static io.berth.protocol.serialization.Wire.writeString;

import io.berth.protocol.directory.DirectoryEvent.*;
import java.util.List;

/** Version 1 of every {@link io.berth.protocol.directory.DirectoryEvent}; frozen like {@link ContainerEventFormats}. */
final class DirectoryEventFormats {
  private DirectoryEventFormats() {}

  /** Version 2: limits layout 2 (weight and guarantees); version 1 (limits layout 1) reads as caps that were all reserved. */
  static final EventFormat<ContainerAllocated> CONTAINER_ALLOCATED = EventFormat.of(ContainerAllocated.class, 2,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeContainerId(out, e.container(), "container");
        writeHostId(out, e.host(), "host");
        writeLimits(out, e.limits(), "limits");
        writeString(out, e.antiAffinityGroup());
        writeString(out, e.address());
      },
      in -> new ContainerAllocated(readMeta(in), readContainerId(in, "container"), readHostId(in, "host"),
          readLimits(in, "limits"), readString(in, "antiAffinityGroup"), readString(in, "address")))
      .withOldVersion(1, in -> new ContainerAllocated(readMeta(in), readContainerId(in, "container"), readHostId(in, "host"),
          ValueCodecs.readLimitsV1(in, "limits"), readString(in, "antiAffinityGroup"), readString(in, "address")));

  /** Version 2: limits layout 2 (weight and guarantees); version 1 (limits layout 1) reads as caps that were all reserved. */
  static final EventFormat<AllocationResized> ALLOCATION_RESIZED = EventFormat.of(AllocationResized.class, 2,
      (out, e) -> { writeMeta(out, e.meta()); writeContainerId(out, e.container(), "container"); writeLimits(out, e.limits(), "limits"); },
      in -> new AllocationResized(readMeta(in), readContainerId(in, "container"), readLimits(in, "limits")))
      .withOldVersion(1, in -> new AllocationResized(readMeta(in), readContainerId(in, "container"), ValueCodecs.readLimitsV1(in, "limits")));

  static final EventFormat<AllocationMoved> ALLOCATION_MOVED = EventFormat.of(AllocationMoved.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeContainerId(out, e.container(), "container"); writeHostId(out, e.host(), "host"); },
      in -> new AllocationMoved(readMeta(in), readContainerId(in, "container"), readHostId(in, "host")));

  static final EventFormat<AllocationReleased> ALLOCATION_RELEASED = EventFormat.of(AllocationReleased.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeContainerId(out, e.container(), "container"); },
      in -> new AllocationReleased(readMeta(in), readContainerId(in, "container")));

  // --- the sagas (create, resize) -----------------------------------------------------------------

  /** Version 2: limits layout 2 (weight and guarantees); version 1 (limits layout 1) reads as caps that were all reserved. */
  static final EventFormat<ContainerReserved> CONTAINER_RESERVED = EventFormat.of(ContainerReserved.class, 2,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeLong(out, e.reservation());
        writeContainerId(out, e.container(), "container");
        writeHostId(out, e.host(), "host");
        writeLimits(out, e.limits(), "limits");
        writeString(out, e.antiAffinityGroup());
        writeString(out, e.address());
        writeString(out, e.decision());
      },
      in -> new ContainerReserved(readMeta(in), readLong(in, "reservation"), readContainerId(in, "container"), readHostId(in, "host"),
          readLimits(in, "limits"), readString(in, "antiAffinityGroup"), readString(in, "address"), readString(in, "decision")))
      .withOldVersion(1, in -> new ContainerReserved(readMeta(in), readLong(in, "reservation"), readContainerId(in, "container"), readHostId(in, "host"),
          ValueCodecs.readLimitsV1(in, "limits"), readString(in, "antiAffinityGroup"), readString(in, "address"), readString(in, "decision")));

  /** Version 2: limits layout 2 (weight and guarantees); version 1 (limits layout 1) reads as caps that were all reserved. */
  static final EventFormat<ResizeReserved> RESIZE_RESERVED = EventFormat.of(ResizeReserved.class, 2,
      (out, e) -> { writeMeta(out, e.meta()); writeLong(out, e.reservation()); writeContainerId(out, e.container(), "container"); writeLimits(out, e.limits(), "limits"); },
      in -> new ResizeReserved(readMeta(in), readLong(in, "reservation"), readContainerId(in, "container"), readLimits(in, "limits")))
      .withOldVersion(1, in -> new ResizeReserved(readMeta(in), readLong(in, "reservation"), readContainerId(in, "container"), ValueCodecs.readLimitsV1(in, "limits")));

  /** Version 2: limits layout 2 (weight and guarantees); version 1 (limits layout 1) reads as caps that were all reserved. */
  static final EventFormat<ReservationConfirmed> RESERVATION_CONFIRMED = EventFormat.of(ReservationConfirmed.class, 2,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeLong(out, e.reservation());
        writeContainerId(out, e.container(), "container");
        writeHostId(out, e.host(), "host");
        writeLimits(out, e.limits(), "limits");
      },
      in -> new ReservationConfirmed(readMeta(in), readLong(in, "reservation"), readContainerId(in, "container"), readHostId(in, "host"),
          readLimits(in, "limits")))
      .withOldVersion(1, in -> new ReservationConfirmed(readMeta(in), readLong(in, "reservation"), readContainerId(in, "container"), readHostId(in, "host"),
          ValueCodecs.readLimitsV1(in, "limits")));

  static final EventFormat<ReservationReleased> RESERVATION_RELEASED = EventFormat.of(ReservationReleased.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeLong(out, e.reservation()); writeContainerId(out, e.container(), "container"); writeString(out, e.reason()); },
      in -> new ReservationReleased(readMeta(in), readLong(in, "reservation"), readContainerId(in, "container"), readString(in, "reason")));

  static final EventFormat<MigrationReserved> MIGRATION_RESERVED = EventFormat.of(MigrationReserved.class, 1,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeLong(out, e.reservation());
        writeContainerId(out, e.container(), "container");
        writeHostId(out, e.target(), "target");
        writeString(out, e.decision());
      },
      in -> new MigrationReserved(readMeta(in), readLong(in, "reservation"), readContainerId(in, "container"), readHostId(in, "target"),
          readString(in, "decision")));

  static final List<EventFormat<?>> ALL = List.of(CONTAINER_ALLOCATED, ALLOCATION_RESIZED, ALLOCATION_MOVED, ALLOCATION_RELEASED,
      CONTAINER_RESERVED, RESIZE_RESERVED, RESERVATION_CONFIRMED, RESERVATION_RELEASED, MIGRATION_RESERVED);
}
