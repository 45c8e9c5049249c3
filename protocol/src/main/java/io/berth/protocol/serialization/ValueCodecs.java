package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Storage;
import io.berth.protocol.spec.Labels;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Hand-written layouts of the protocol's value types, shared by every event format and registered in
 * Kryo for commands and replies. Reading builds each value through its constructor, so stored or
 * received data is validated exactly like operator input; a broken rule becomes a
 * {@link WireFormatException} naming where in the message it sat, the type, the field and the rule.
 *
 * <p><b>These layouts are part of every stored event that holds the value: they are frozen.</b> A
 * value type that changes shape gets a new layout method, and the events that hold it get a new
 * version that uses it (see SERIALIZATION.md).
 */
public final class ValueCodecs {
  private ValueCodecs() {}

  /** Stored events hold no nulls except in strings: fail while writing, naming the field. */
  static <T> T required(String field, T value) {
    if (value == null) throw new WireFormatException(field, "must not be null in a serialized message");
    return value;
  }

  static WireFormatException invalid(String field, Class<?> type, InvalidFieldException e) {
    return new WireFormatException(field, "not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
  }

  // --- ids -------------------------------------------------------------------------------------

  public static void writeContainerId(Output out, ContainerId id, String field) {
    Wire.writeString(out, required(field, id).value());
  }

  public static ContainerId readContainerId(Input in, String field) {
    String s = Wire.readRequiredString(in, field);
    try {
      return new ContainerId(s);
    } catch (InvalidFieldException e) {
      throw invalid(field, ContainerId.class, e);
    }
  }

  public static void writeHostId(Output out, HostId id, String field) {
    Wire.writeString(out, required(field, id).value());
  }

  public static HostId readHostId(Input in, String field) {
    String s = Wire.readRequiredString(in, field);
    try {
      return new HostId(s);
    } catch (InvalidFieldException e) {
      throw invalid(field, HostId.class, e);
    }
  }

  /** An optional host: an absent one is the null string. */
  public static void writeOptionalHostId(Output out, Optional<HostId> id, String field) {
    Wire.writeString(out, required(field, id).map(HostId::value).orElse(null));
  }

  public static Optional<HostId> readOptionalHostId(Input in, String field) {
    String s = Wire.readString(in, field);
    if (s == null) return Optional.empty();
    try {
      return Optional.of(new HostId(s));
    } catch (InvalidFieldException e) {
      throw invalid(field, HostId.class, e);
    }
  }

  // --- event meta ------------------------------------------------------------------------------

  /** at (epoch millis), principal, reason, correlation id, previous hash (32 raw bytes). */
  public static void writeMeta(Output out, EventMeta meta) {
    required("meta", meta);
    Wire.writeInstantMillis(out, meta.at());
    Wire.writeString(out, meta.principal());
    Wire.writeString(out, meta.reason());
    Wire.writeString(out, meta.correlationId());
    Wire.writeHash(out, meta.prevHash());
  }

  public static EventMeta readMeta(Input in) {
    var at = Wire.readInstantMillis(in, "meta.at");
    String principal = Wire.readString(in, "meta.principal");
    String reason = Wire.readString(in, "meta.reason");
    String correlationId = Wire.readString(in, "meta.correlationId");
    String prevHash = Wire.readHash(in, "meta.prevHash");
    try {
      return new EventMeta(at, principal, reason, correlationId, prevHash);
    } catch (InvalidFieldException e) {
      throw invalid("meta", EventMeta.class, e);
    }
  }

  // --- spec ------------------------------------------------------------------------------------

  /**
   * Limits layout 1: cpu millis, memory bytes, disk bytes, pids (four varlongs). Frozen: read by the events
   * written before guarantees existed.
   */
  public static void writeLimitsV1(Output out, Limits limits, String field) {
    required(field, limits);
    Wire.writeLong(out, limits.cpuMillis());
    Wire.writeLong(out, limits.memoryBytes());
    Wire.writeLong(out, limits.diskBytes());
    Wire.writeLong(out, limits.pids());
  }

  /** Layout 1, as limits of that time: every cap was also reserved ({@link Limits#reservingCaps}). */
  public static Limits readLimitsV1(Input in, String field) {
    try {
      long cpu = Wire.readLong(in, "cpuMillis");
      long memory = Wire.readLong(in, "memoryBytes");
      long disk = Wire.readLong(in, "diskBytes");
      long pids = Wire.readLong(in, "pids");
      try {
        return Limits.reservingCaps(cpu, memory, disk, pids);
      } catch (InvalidFieldException e) {
        throw invalid("", Limits.class, e);
      }
    } catch (WireFormatException e) {
      throw e.under(field);
    }
  }

  /** Limits layout 2: layout 1, then the cpu weight, the cpu guarantee (millis) and the memory guarantee (bytes), three varlongs. */
  public static void writeLimits(Output out, Limits limits, String field) {
    writeLimitsV1(out, limits, field);
    writeGuarantees(out, limits);
  }

  /** Layout 1's caps, then what layout 2 adds (as spec layout 5 reads them). */
  public static Limits readLimits(Input in, String field) {
    Limits caps = readLimitsV1(in, field);
    try {
      return readGuarantees(in, caps.cpuMillis(), caps.memoryBytes(), caps.diskBytes(), caps.pids());
    } catch (WireFormatException e) {
      throw e.under(field);
    }
  }

  /** What limits layout 2 adds to layout 1, also what spec layout 5 appends. */
  private static void writeGuarantees(Output out, Limits limits) {
    Wire.writeLong(out, limits.cpuWeight());
    Wire.writeLong(out, limits.cpuGuaranteeMillis());
    Wire.writeLong(out, limits.memoryGuaranteeBytes());
  }

  private static Limits readGuarantees(Input in, long cpu, long memory, long disk, long pids) {
    long weight = Wire.readLong(in, "cpuWeight");
    long cpuGuarantee = Wire.readLong(in, "cpuGuaranteeMillis");
    long memoryGuarantee = Wire.readLong(in, "memoryGuaranteeBytes");
    try {
      if (weight < 1 || weight > Limits.MAX_CPU_WEIGHT) {
        throw new InvalidFieldException("limits.cpuWeight", "must be between 1 and " + Limits.MAX_CPU_WEIGHT, weight);
      }
      return new Limits(cpu, memory, disk, pids, (int) weight, cpuGuarantee, memoryGuarantee);
    } catch (InvalidFieldException e) {
      throw invalid("", Limits.class, e);
    }
  }

  public static void writeTemplate(Output out, TemplateRef template, String field) {
    Wire.writeString(out, required(field, template).value());
  }

  public static TemplateRef readTemplate(Input in, String field) {
    String s = Wire.readRequiredString(in, field);
    try {
      return new TemplateRef(s);
    } catch (InvalidFieldException e) {
      throw invalid(field, TemplateRef.class, e);
    }
  }

  /** pinned host (null string when none), host labels (sorted map), anti-affinity group. */
  public static void writePlacement(Output out, PlacementConstraints p, String field) {
    required(field, p);
    try {
      writeOptionalHostId(out, p.pinnedHost(), "pinnedHost");
    } catch (WireFormatException e) {
      throw e.under(field);
    }
    Wire.writeStringMap(out, p.hostLabels());
    Wire.writeString(out, p.antiAffinityGroup());
  }

  public static PlacementConstraints readPlacement(Input in, String field) {
    try {
      Optional<HostId> pinned = readOptionalHostId(in, "pinnedHost");
      Map<String, String> labels = Wire.readStringMap(in, "hostLabels", Labels.MAX_LABELS);
      String group = Wire.readString(in, "antiAffinityGroup");
      try {
        return new PlacementConstraints(pinned, labels, group);
      } catch (InvalidFieldException e) {
        throw invalid("", PlacementConstraints.class, e);
      }
    } catch (WireFormatException e) {
      throw e.under(field);
    }
  }

  /**
   * Layout 1 of {@link ContainerSpec}: id, template, hostname, command (count + strings), limits,
   * restart policy (by name), labels (sorted map), placement. Frozen: read by {@code ContainerDefined:1}.
   */
  public static void writeSpecV1(Output out, ContainerSpec spec, String field) {
    required(field, spec);
    try {
      writeContainerId(out, spec.id(), "id");
      writeTemplate(out, spec.template(), "template");
      Wire.writeString(out, spec.hostname());
      List<String> command = spec.command();
      Wire.writeCount(out, command.size());
      for (String arg : command) Wire.writeString(out, arg);
      writeLimitsV1(out, spec.limits(), "limits");
      Wire.writeEnumName(out, required("restart", spec.restart()));
      Wire.writeStringMap(out, spec.labels());
      writePlacement(out, spec.placement(), "placement");
    } catch (WireFormatException e) {
      throw e.under(field);
    }
  }

  /** Layout 1, as a spec of that time: unprivileged (the flag did not exist, and nothing ran privileged on purpose). */
  public static ContainerSpec readSpecV1(Input in, String field) {
    return readSpecFields(in, field, 1);
  }

  /** Layout 2 of {@link ContainerSpec}: layout 1, then {@code privileged} (one byte, 0 or 1). Frozen: read by {@code ContainerDefined:2}. */
  public static void writeSpecV2(Output out, ContainerSpec spec, String field) {
    writeSpecV1(out, spec, field);
    Wire.writeBoolean(out, spec.privileged());
  }

  /** Layout 2, as a spec of that time: local storage, HA priority 0 (neither existed). */
  public static ContainerSpec readSpecV2(Input in, String field) {
    return readSpecFields(in, field, 2);
  }

  /**
   * Layout 3 of {@link ContainerSpec}: layout 2, then the storage class (by name) and the HA priority (varint).
   * Frozen: read by {@code ContainerDefined:3}.
   */
  public static void writeSpecV3(Output out, ContainerSpec spec, String field) {
    writeSpecV2(out, spec, field);
    Wire.writeEnumName(out, spec.storage());
    Wire.writeInt(out, spec.haPriority());
  }

  /** Layout 3, as a spec of that time: no checkpoints (the schedule did not exist). */
  public static ContainerSpec readSpecV3(Input in, String field) {
    return readSpecFields(in, field, 3);
  }

  /** Layout 4 of {@link ContainerSpec}: layout 3, then the checkpoint schedule in milliseconds (varint; 0: off). Frozen: read by {@code ContainerDefined:4}. */
  public static void writeSpecV4(Output out, ContainerSpec spec, String field) {
    writeSpecV3(out, spec, field);
    Wire.writeLong(out, spec.checkpointEvery().toMillis());
  }

  /** Layout 4, as a spec of that time: its limits reserved what they capped (limits layout 1). */
  public static ContainerSpec readSpecV4(Input in, String field) {
    return readSpecFields(in, field, 4);
  }

  /**
   * Layout 5 of {@link ContainerSpec}: layout 4, then the cpu weight and the guarantees (what limits layout 2 adds
   * to the limits layout 1 that layouts 1 to 4 hold in place).
   */
  public static void writeSpec(Output out, ContainerSpec spec, String field) {
    writeSpecV4(out, spec, field);
    writeGuarantees(out, spec.limits());
  }

  public static ContainerSpec readSpec(Input in, String field) {
    return readSpecFields(in, field, 5);
  }

  private static ContainerSpec readSpecFields(Input in, String field, int layout) {
    try {
      ContainerId id = readContainerId(in, "id");
      TemplateRef template = readTemplate(in, "template");
      String hostname = Wire.readString(in, "hostname");
      int argc = Wire.readRequiredCount(in, "command", ContainerSpec.MAX_COMMAND_ARGS, 1);
      List<String> command = new ArrayList<>(argc);
      for (int i = 0; i < argc; i++) command.add(Wire.readRequiredString(in, "command"));
      Limits limits = readLimitsV1(in, "limits");
      RestartPolicy restart = Wire.readEnumName(in, "restart", RestartPolicy.class);
      Map<String, String> labels = Wire.readStringMap(in, "labels", Labels.MAX_LABELS);
      PlacementConstraints placement = readPlacement(in, "placement");
      boolean privileged = layout >= 2 && Wire.readBoolean(in, "privileged");
      Storage storage = layout >= 3 ? Wire.readEnumName(in, "storage", Storage.class) : Storage.LOCAL;
      int haPriority = layout >= 3 ? Wire.readInt(in, "haPriority") : 0;
      java.time.Duration checkpointEvery = layout >= 4 ? java.time.Duration.ofMillis(Wire.readLong(in, "checkpointEvery")) : java.time.Duration.ZERO;
      if (layout >= 5) {
        try {
          limits = readGuarantees(in, limits.cpuMillis(), limits.memoryBytes(), limits.diskBytes(), limits.pids());
        } catch (WireFormatException e) {
          throw e.under("limits");
        }
      }
      try {
        return new ContainerSpec(id, template, hostname, command, limits, restart, labels, placement, privileged, storage, haPriority,
            checkpointEvery);
      } catch (InvalidFieldException e) {
        throw invalid("", ContainerSpec.class, e);
      }
    } catch (WireFormatException e) {
      throw e.under(field);
    }
  }
}
