package io.berth.protocol.serialization;

import static io.berth.protocol.serialization.ValueCodecs.readMeta;
import static io.berth.protocol.serialization.ValueCodecs.writeMeta;
import static io.berth.protocol.serialization.Wire.readString;
import static io.berth.protocol.serialization.Wire.writeString;

import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostEvent.*;
import java.util.List;

/** Version 1 of every {@link io.berth.protocol.host.HostEvent}; frozen like {@link ContainerEventFormats}. */
final class HostEventFormats {
  private HostEventFormats() {}

  /**
   * Version 3: with the overcommit ratios (cpu, memory: varlongs in hundredths); version 2 (with the node's incarnation)
   * reads as no overcommit, as hosts then placed; version 1 also as incarnation 0 (not named).
   */
  static final EventFormat<HostRegistered> HOST_REGISTERED = EventFormat.of(HostRegistered.class, 3,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeCapacity(out, e.capacity());
        Wire.writeStringMap(out, e.labels());
        writeString(out, e.address());
        Wire.writeLong(out, e.incarnation());
        Wire.writeLong(out, e.overcommit().cpuHundredths());
        Wire.writeLong(out, e.overcommit().memoryHundredths());
      },
      in -> new HostRegistered(readMeta(in), readCapacity(in), Wire.readStringMap(in, "labels", Wire.MAX_COUNT), readString(in, "address"),
          Wire.readLong(in, "incarnation"), readOvercommit(in)))
      .withOldVersion(2, in -> new HostRegistered(readMeta(in), readCapacity(in), Wire.readStringMap(in, "labels", Wire.MAX_COUNT),
          readString(in, "address"), Wire.readLong(in, "incarnation")))
      .withOldVersion(1, in -> new HostRegistered(readMeta(in), readCapacity(in), Wire.readStringMap(in, "labels", Wire.MAX_COUNT),
          readString(in, "address")));

  static final EventFormat<HostCordoned> HOST_CORDONED = EventFormat.of(HostCordoned.class, 1,
      (out, e) -> writeMeta(out, e.meta()),
      in -> new HostCordoned(readMeta(in)));

  static final EventFormat<HostUncordoned> HOST_UNCORDONED = EventFormat.of(HostUncordoned.class, 1,
      (out, e) -> writeMeta(out, e.meta()),
      in -> new HostUncordoned(readMeta(in)));

  /** Version 2: with mode and parallelism; version 1 (before drains ran) reads as live, one at a time. */
  static final EventFormat<DrainRequested> DRAIN_REQUESTED = EventFormat.of(DrainRequested.class, 2,
      (out, e) -> { writeMeta(out, e.meta()); Wire.writeEnumName(out, e.mode()); Wire.writeInt(out, e.parallel()); },
      in -> new DrainRequested(readMeta(in), Wire.readEnumName(in, "mode", io.berth.protocol.host.DrainMode.class), Wire.readInt(in, "parallel")))
      .withOldVersion(1, in -> new DrainRequested(readMeta(in), io.berth.protocol.host.DrainMode.LIVE, 1));

  /** Version 2: with the containers left and why; version 1 reads as none left. */
  static final EventFormat<HostDrained> HOST_DRAINED = EventFormat.of(HostDrained.class, 2,
      (out, e) -> {
        writeMeta(out, e.meta());
        Wire.writeCount(out, e.notMoved().size());
        for (String s : e.notMoved()) writeString(out, s);
      },
      in -> {
        var meta = readMeta(in);
        int n = Wire.readCount(in, "notMoved", Wire.MAX_COUNT, 1);
        java.util.List<String> left = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) left.add(readString(in, "notMoved[" + i + "]"));
        return new HostDrained(meta, java.util.List.copyOf(left));
      })
      .withOldVersion(1, in -> new HostDrained(readMeta(in), java.util.List.of()));

  /** Version 2: with the evidence and the incarnation fenced; version 1 reads with neither. */
  static final EventFormat<HostFenced> HOST_FENCED = EventFormat.of(HostFenced.class, 2,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.by()); writeString(out, e.evidence()); Wire.writeLong(out, e.incarnation()); },
      in -> new HostFenced(readMeta(in), readString(in, "by"), readString(in, "evidence"), Wire.readLong(in, "incarnation")))
      .withOldVersion(1, in -> new HostFenced(readMeta(in), readString(in, "by")));

  static final EventFormat<HostRejoined> HOST_REJOINED = EventFormat.of(HostRejoined.class, 1,
      (out, e) -> writeMeta(out, e.meta()),
      in -> new HostRejoined(readMeta(in)));

  static final EventFormat<HostSelfFenced> HOST_SELF_FENCED = EventFormat.of(HostSelfFenced.class, 1,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeString(out, e.by());
        Wire.writeInstantMillis(out, e.fencedAt());
        Wire.writeInstantMillis(out, e.lastFedAt());
        Wire.writeLong(out, e.deadlineMillis());
        Wire.writeCount(out, e.containers().size());
        for (String c : e.containers()) writeString(out, c);
        Wire.writeBoolean(out, e.complete());
        Wire.writeLong(out, e.tookMillis());
      },
      in -> {
        var meta = readMeta(in);
        String by = readString(in, "by");
        var fencedAt = Wire.readInstantMillis(in, "fencedAt");
        var lastFedAt = Wire.readInstantMillis(in, "lastFedAt");
        long deadline = Wire.readLong(in, "deadlineMillis");
        int n = Wire.readCount(in, "containers", Wire.MAX_COUNT, 1);
        java.util.List<String> containers = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) containers.add(readString(in, "containers[" + i + "]"));
        return new HostSelfFenced(meta, by, fencedAt, lastFedAt, deadline, containers, Wire.readBoolean(in, "complete"), Wire.readLong(in, "tookMillis"));
      });

  static final EventFormat<StrayCopyRemoved> STRAY_COPY_REMOVED = EventFormat.of(StrayCopyRemoved.class, 1,
      (out, e) -> {
        writeMeta(out, e.meta());
        ValueCodecs.writeContainerId(out, e.container(), "container");
        writeString(out, e.why());
        writeString(out, e.found());
        Wire.writeBoolean(out, e.diskKept());
      },
      in -> new StrayCopyRemoved(readMeta(in), ValueCodecs.readContainerId(in, "container"), readString(in, "why"), readString(in, "found"),
          Wire.readBoolean(in, "diskKept")));

  static final List<EventFormat<?>> ALL = List.of(
      HOST_REGISTERED, HOST_CORDONED, HOST_UNCORDONED, DRAIN_REQUESTED, HOST_DRAINED, HOST_FENCED, HOST_REJOINED, HOST_SELF_FENCED,
      STRAY_COPY_REMOVED);

  static io.berth.protocol.host.Overcommit readOvercommit(Input in) {
    long cpu = Wire.readLong(in, "overcommit.cpu");
    long memory = Wire.readLong(in, "overcommit.memory");
    try {
      return new io.berth.protocol.host.Overcommit(cpu, memory);
    } catch (io.berth.protocol.InvalidFieldException e) {
      throw ValueCodecs.invalid("overcommit", io.berth.protocol.host.Overcommit.class, e);
    }
  }

  /** cpu millis, memory bytes, pids: three varlongs (layout 1 of {@link HostCapacity}). */
  static void writeCapacity(Output out, HostCapacity c) {
    ValueCodecs.required("capacity", c);
    Wire.writeLong(out, c.cpuMillis());
    Wire.writeLong(out, c.memoryBytes());
    Wire.writeLong(out, c.pids());
  }

  static HostCapacity readCapacity(Input in) {
    long cpu = Wire.readLong(in, "capacity.cpuMillis");
    long memory = Wire.readLong(in, "capacity.memoryBytes");
    long pids = Wire.readLong(in, "capacity.pids");
    try {
      return new HostCapacity(cpu, memory, pids);
    } catch (InvalidFieldException e) {
      throw ValueCodecs.invalid("capacity", HostCapacity.class, e);
    }
  }
}
