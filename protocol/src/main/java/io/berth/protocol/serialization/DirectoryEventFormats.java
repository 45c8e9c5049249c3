package io.berth.protocol.serialization;

import static io.berth.protocol.serialization.ValueCodecs.readContainerId;
import static io.berth.protocol.serialization.ValueCodecs.readHostId;
import static io.berth.protocol.serialization.ValueCodecs.readLimits;
import static io.berth.protocol.serialization.ValueCodecs.readMeta;
import static io.berth.protocol.serialization.ValueCodecs.writeContainerId;
import static io.berth.protocol.serialization.ValueCodecs.writeHostId;
import static io.berth.protocol.serialization.ValueCodecs.writeLimits;
import static io.berth.protocol.serialization.ValueCodecs.writeMeta;
import static io.berth.protocol.serialization.Wire.readString;
import static io.berth.protocol.serialization.Wire.writeString;

import io.berth.protocol.directory.DirectoryEvent.*;
import java.util.List;

/** Version 1 of every {@link io.berth.protocol.directory.DirectoryEvent}; frozen like {@link ContainerEventFormats}. */
final class DirectoryEventFormats {
  private DirectoryEventFormats() {}

  static final EventFormat<ContainerAllocated> CONTAINER_ALLOCATED = EventFormat.of(ContainerAllocated.class, 1,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeContainerId(out, e.container(), "container");
        writeHostId(out, e.host(), "host");
        writeLimits(out, e.limits(), "limits");
        writeString(out, e.antiAffinityGroup());
        writeString(out, e.address());
      },
      in -> new ContainerAllocated(readMeta(in), readContainerId(in, "container"), readHostId(in, "host"),
          readLimits(in, "limits"), readString(in, "antiAffinityGroup"), readString(in, "address")));

  static final EventFormat<AllocationResized> ALLOCATION_RESIZED = EventFormat.of(AllocationResized.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeContainerId(out, e.container(), "container"); writeLimits(out, e.limits(), "limits"); },
      in -> new AllocationResized(readMeta(in), readContainerId(in, "container"), readLimits(in, "limits")));

  static final EventFormat<AllocationMoved> ALLOCATION_MOVED = EventFormat.of(AllocationMoved.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeContainerId(out, e.container(), "container"); writeHostId(out, e.host(), "host"); },
      in -> new AllocationMoved(readMeta(in), readContainerId(in, "container"), readHostId(in, "host")));

  static final EventFormat<AllocationReleased> ALLOCATION_RELEASED = EventFormat.of(AllocationReleased.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeContainerId(out, e.container(), "container"); },
      in -> new AllocationReleased(readMeta(in), readContainerId(in, "container")));

  static final List<EventFormat<?>> ALL = List.of(CONTAINER_ALLOCATED, ALLOCATION_RESIZED, ALLOCATION_MOVED, ALLOCATION_RELEASED);
}
