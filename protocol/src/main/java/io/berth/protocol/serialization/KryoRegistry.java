package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerData;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.ExitStatus;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.container.MigrationProgress;
import io.berth.protocol.container.MigrationRecord;
import io.berth.protocol.container.Operation;
import io.berth.protocol.container.Pending;
import io.berth.protocol.directory.Allocation;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.directory.Reservation;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.migration.MigrationCommand;
import io.berth.protocol.migration.MigrationReply;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import io.berth.protocol.template.TemplateCommand;
import io.berth.protocol.template.TemplateInfo;
import io.berth.protocol.template.TemplateReply;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one list of every class Berth puts on the wire, each with a fixed Kryo id. Every node must hold
 * the same list, so: <b>ids are never changed and never reused</b>. A removed class moves its id to
 * {@link #RETIRED_IDS}; a new class takes the next free id of its block. Kryo's own defaults (ids 0-9:
 * primitives and String) stay as they are.
 *
 * <p>Blocks: 100 value types; 200 container events, 300 host events, 350 directory events, 360 access events; 400
 * container commands, 450 host commands, 470 directory commands, 485 access commands, 490 template commands; 500
 * container replies, 550 host replies, 570 directory replies, 580 access replies, 590 template replies; 600 shared
 * replies; 700 container state, 750 host state, 770 directory state, 780 access state; 800 migration agent commands,
 * 850 its replies.
 */
public final class KryoRegistry {

  /** One registration: its id, its class, the manifest name for non-event messages, and its serializer. */
  public record Entry(int id, Class<?> type, String name, Serializer<?> serializer) {}

  /** Ids of classes that were removed: never to be used again. */
  public static final Set<Integer> RETIRED_IDS = Set.of(
      470, // DirectoryCommand.Allocate: create became the directory's saga (CreateContainer)
      471, // DirectoryCommand.Resize: resize became the directory's saga (ResizeContainer)
      570, // DirectoryReply.Allocated: the directory no longer answers with a bare allocation
      // Limits and ContainerSpec in their layouts before guarantees: a snapshot holding them must fail to load
      // (and the entity replay its events) rather than be read with today's layouts (now 111 and 112).
      103, 106,
      753); // HostState.HostInfo before the overcommit ratios (now 756)

  private static final List<Entry> ENTRIES = new ArrayList<>();
  private static final Map<Class<?>, Entry> BY_TYPE = new HashMap<>();
  private static final Map<String, Entry> BY_NAME = new HashMap<>();

  static {
    // --- 100: value types, by their frozen ValueCodecs layouts -----------------------------------
    value(100, ContainerId.class, KryoSerializers.value(ContainerId.class, ValueCodecs::writeContainerId, ValueCodecs::readContainerId));
    value(101, HostId.class, KryoSerializers.value(HostId.class, ValueCodecs::writeHostId, ValueCodecs::readHostId));
    value(102, TemplateRef.class, KryoSerializers.value(TemplateRef.class, ValueCodecs::writeTemplate, ValueCodecs::readTemplate));
    value(111, Limits.class, KryoSerializers.value(Limits.class, ValueCodecs::writeLimits, ValueCodecs::readLimits));
    enumeration(104, RestartPolicy.class);
    enumeration(110, io.berth.protocol.spec.Storage.class);
    value(105, PlacementConstraints.class, KryoSerializers.value(PlacementConstraints.class, ValueCodecs::writePlacement, ValueCodecs::readPlacement));
    value(112, ContainerSpec.class, KryoSerializers.value(ContainerSpec.class, ValueCodecs::writeSpec, ValueCodecs::readSpec));
    value(107, EventMeta.class, KryoSerializers.value(EventMeta.class, (out, m, f) -> ValueCodecs.writeMeta(out, m), (in, f) -> ValueCodecs.readMeta(in)));
    record(108, CommandContext.class);
    value(109, HostCapacity.class, KryoSerializers.value(HostCapacity.class, (out, c, f) -> HostEventFormats.writeCapacity(out, c), (in, f) -> HostEventFormats.readCapacity(in)));

    // --- 200: container events, 300: host events (their versioned EventFormats) -----------------
    event(200, ContainerEventFormats.CONTAINER_DEFINED);
    event(201, ContainerEventFormats.CONTAINER_PLACED);
    event(202, ContainerEventFormats.ADDRESS_ASSIGNED);
    event(203, ContainerEventFormats.START_REQUESTED);
    event(204, ContainerEventFormats.CONTAINER_STARTED);
    event(205, ContainerEventFormats.STOP_REQUESTED);
    event(206, ContainerEventFormats.KILL_REQUESTED);
    event(207, ContainerEventFormats.CONTAINER_STOPPED);
    event(208, ContainerEventFormats.CONTAINER_EXITED);
    event(209, ContainerEventFormats.LIMITS_CHANGE_REQUESTED);
    event(210, ContainerEventFormats.LIMITS_CHANGED);
    event(211, ContainerEventFormats.DESTROY_REQUESTED);
    event(212, ContainerEventFormats.CONTAINER_DESTROYED);
    event(213, ContainerEventFormats.OPERATION_FAILED);
    event(214, ContainerEventFormats.CONTAINER_ADOPTED);
    event(215, ContainerEventFormats.RESTART_SCHEDULED);
    event(216, ContainerEventFormats.MIGRATION_REQUESTED);
    event(217, ContainerEventFormats.ROOTFS_PRE_COPIED);
    event(218, ContainerEventFormats.CHECKPOINT_TAKEN);
    event(219, ContainerEventFormats.IMAGE_TRANSFERRED);
    event(220, ContainerEventFormats.CONTAINER_MOVED);
    event(221, ContainerEventFormats.CONTAINER_RESTORED);
    event(222, ContainerEventFormats.MIGRATION_COMPLETED);
    event(223, ContainerEventFormats.MIGRATION_FELL_BACK_TO_COLD);
    event(224, ContainerEventFormats.MIGRATION_ABORTED);
    event(225, ContainerEventFormats.CONTAINER_FENCED);
    event(226, ContainerEventFormats.RESERVATION_ACCEPTED);
    event(227, ContainerEventFormats.RESERVATION_DECLINED);
    event(228, ContainerEventFormats.MIGRATION_PREFLIGHT_PASSED);
    event(229, ContainerEventFormats.MEMORY_POST_COPIED);
    event(230, ContainerEventFormats.CONTAINER_FAILED_OVER);
    event(231, ContainerEventFormats.CONTAINER_LOST);
    event(232, ContainerEventFormats.CONTAINER_RECOVERED);
    event(233, ContainerEventFormats.CHECKPOINT_RESTORE_FAILED);
    event(234, ContainerEventFormats.CHECKPOINT_SCHEDULE_SET);

    event(300, HostEventFormats.HOST_REGISTERED);
    event(301, HostEventFormats.HOST_CORDONED);
    event(302, HostEventFormats.HOST_UNCORDONED);
    event(303, HostEventFormats.DRAIN_REQUESTED);
    event(304, HostEventFormats.HOST_DRAINED);
    event(305, HostEventFormats.HOST_FENCED);
    event(306, HostEventFormats.HOST_REJOINED);
    event(307, HostEventFormats.HOST_SELF_FENCED);
    event(308, HostEventFormats.STRAY_COPY_REMOVED);

    event(350, DirectoryEventFormats.CONTAINER_ALLOCATED);
    event(351, DirectoryEventFormats.ALLOCATION_RESIZED);
    event(352, DirectoryEventFormats.ALLOCATION_MOVED);
    event(353, DirectoryEventFormats.ALLOCATION_RELEASED);
    event(354, DirectoryEventFormats.CONTAINER_RESERVED);
    event(355, DirectoryEventFormats.RESIZE_RESERVED);
    event(356, DirectoryEventFormats.RESERVATION_CONFIRMED);
    event(357, DirectoryEventFormats.RESERVATION_RELEASED);
    event(358, DirectoryEventFormats.MIGRATION_RESERVED);

    event(360, AccessEventFormats.TOKEN_ISSUED);
    event(361, AccessEventFormats.TOKEN_REVOKED);

    // --- 400: container commands, 450: host commands --------------------------------------------
    record(400, ContainerCommand.Define.class);
    record(401, ContainerCommand.Start.class);
    record(402, ContainerCommand.Stop.class);
    record(403, ContainerCommand.Kill.class);
    record(404, ContainerCommand.SetLimits.class);
    record(405, ContainerCommand.Destroy.class);
    record(406, ContainerCommand.Migrate.class);
    record(407, ContainerCommand.Exec.class);
    record(408, ContainerCommand.Get.class);
    record(409, ContainerCommand.Settle.class);
    record(410, ContainerCommand.FailOver.class);
    record(411, ContainerCommand.MarkLost.class);
    record(412, ContainerCommand.Recover.class);
    record(413, ContainerCommand.SetCheckpointSchedule.class);

    record(450, HostCommand.Register.class);
    record(451, HostCommand.Cordon.class);
    record(452, HostCommand.Uncordon.class);
    record(453, HostCommand.Drain.class);
    record(454, HostCommand.MarkDrained.class);
    record(455, HostCommand.MarkFenced.class);
    record(456, HostCommand.MarkRejoined.class);
    record(457, HostCommand.Get.class);
    record(458, HostCommand.ReportSelfFence.class);
    record(459, HostCommand.ReportUsage.class);
    record(460, HostCommand.ReportStrayCopy.class);

    record(472, DirectoryCommand.Release.class);
    record(473, DirectoryCommand.Read.class);
    record(474, DirectoryCommand.CreateContainer.class);
    record(475, DirectoryCommand.ResizeContainer.class);
    record(476, DirectoryCommand.Locate.class);
    record(477, DirectoryCommand.MigrateContainer.class);
    record(478, DirectoryCommand.SettleMigration.class);
    record(479, DirectoryCommand.FailOverHost.class);
    record(480, DirectoryCommand.RecoverContainer.class);

    record(485, io.berth.protocol.access.AccessCommand.Issue.class);
    record(486, io.berth.protocol.access.AccessCommand.Revoke.class);
    record(487, io.berth.protocol.access.AccessCommand.Read.class);

    record(490, TemplateCommand.Import.class);
    record(491, TemplateCommand.List.class);
    record(492, TemplateCommand.Build.class);

    // --- 500: container replies, 550: host replies, 600: shared ----------------------------------
    record(500, ContainerReply.Done.class);
    record(501, ContainerReply.Refused.class);
    record(502, ContainerReply.ExecResult.class);
    record(503, ContainerReply.States.class);

    record(550, HostReply.Done.class);
    record(551, HostReply.Refused.class);

    record(571, DirectoryReply.Done.class);
    record(572, DirectoryReply.Snapshot.class);
    record(573, DirectoryReply.Refused.class);
    record(574, DirectoryReply.Located.class);

    record(580, io.berth.protocol.access.AccessReply.Done.class);
    record(581, io.berth.protocol.access.AccessReply.Snapshot.class);
    record(582, io.berth.protocol.access.AccessReply.Refused.class);

    record(590, TemplateReply.Imported.class);
    record(591, TemplateReply.Listed.class);
    record(592, TemplateReply.Failed.class);
    record(593, TemplateInfo.class);
    record(594, TemplateReply.Built.class);

    record(600, Rejection.class);
    enumeration(601, Rejection.Code.class);

    // --- 700: container state (sent in replies), 750: host state ---------------------------------
    record(700, ContainerState.Empty.class);
    record(701, ContainerState.Defined.class);
    record(702, ContainerState.Running.class);
    record(703, ContainerState.Stopped.class);
    record(704, ContainerState.Migrating.class);
    record(705, ContainerState.Destroyed.class);
    record(706, ContainerData.class);
    record(707, Pending.class);
    record(708, ExitStatus.class);
    record(709, MigrationProgress.class);
    enumeration(710, MigrationProgress.Step.class);
    enumeration(711, MigrationMode.class);
    enumeration(712, Operation.class);
    record(713, MigrationRecord.class);
    enumeration(714, io.berth.protocol.container.PostCopy.class);
    record(715, ContainerState.Lost.class);

    record(750, HostState.Unregistered.class);
    record(751, HostState.Active.class);
    record(752, HostState.Fenced.class);
    record(754, io.berth.protocol.host.DrainPlan.class);
    enumeration(755, io.berth.protocol.host.DrainMode.class);
    record(756, HostState.HostInfo.class);
    record(757, io.berth.protocol.host.Overcommit.class);
    record(758, io.berth.protocol.host.HostUsage.class);
    record(759, io.berth.protocol.host.HostUsage.ContainerUsage.class);

    record(770, DirectoryState.class);
    record(771, Allocation.class);
    record(772, Reservation.class);
    enumeration(773, Reservation.Kind.class);

    record(780, io.berth.protocol.access.AccessState.class);
    record(781, io.berth.protocol.access.IssuedToken.class);
    record(782, io.berth.protocol.access.TokenScope.class);
    enumeration(783, io.berth.protocol.access.Role.class);
    record(784, io.berth.protocol.access.Credential.class);
    enumeration(785, io.berth.protocol.access.Credential.Kind.class);

    // --- 800: migration agent commands, 850: its replies ----------------------------------------
    record(800, MigrationCommand.Prepare.class);
    record(801, MigrationCommand.Restore.class);
    record(802, MigrationCommand.Status.class);
    record(803, MigrationCommand.Discard.class);
    record(804, MigrationCommand.AwaitPostCopy.class);
    record(805, MigrationCommand.OnSource.class);
    enumeration(806, MigrationCommand.SourceAction.class);
    record(850, MigrationReply.Prepared.class);
    record(851, MigrationReply.Holds.class);
    record(852, MigrationReply.Failed.class);
    enumeration(853, MigrationReply.Holding.class);
  }

  private KryoRegistry() {}

  /** Every registration, in id order. */
  public static List<Entry> entries() {
    return Collections.unmodifiableList(ENTRIES);
  }

  /** The registration of {@code type}, or null. */
  public static Entry byType(Class<?> type) {
    return BY_TYPE.get(type);
  }

  /** The registration whose manifest name is {@code name}, or null. */
  public static Entry byName(String name) {
    return BY_NAME.get(name);
  }

  /**
   * The manifest name of a non-event message: the class name inside its package, nested classes
   * joined with '.', e.g. {@code ContainerCommand.Start}.
   */
  public static String nameOf(Class<?> type) {
    return type.getName().substring(type.getPackageName().length() + 1).replace('$', '.');
  }

  static void registerAll(Kryo kryo) {
    // Kryo's default String serializer reads a length and allocates before checking the input.
    kryo.getRegistration(String.class).setSerializer(new com.esotericsoftware.kryo.Serializer<String>(false, true) {
      @Override
      public void write(Kryo k, com.esotericsoftware.kryo.io.Output out, String s) {
        Wire.writeString(out, s);
      }

      @Override
      public String read(Kryo k, com.esotericsoftware.kryo.io.Input in, Class<? extends String> t) {
        return Wire.readString(in, "string");
      }
    });
    for (Entry e : ENTRIES) kryo.register(e.type(), e.serializer(), e.id());
  }

  // --- building the table --------------------------------------------------------------------------

  private static void value(int id, Class<?> type, Serializer<?> serializer) {
    add(new Entry(id, type, nameOf(type), serializer));
  }

  private static <E extends BerthEvent> void event(int id, EventFormat<E> format) {
    add(new Entry(id, format.type(), nameOf(format.type()), KryoSerializers.event(format)));
  }

  private static <T> void record(int id, Class<T> type) {
    add(new Entry(id, type, nameOf(type), new GuardedRecordSerializer<>(type)));
  }

  private static <E extends Enum<E>> void enumeration(int id, Class<E> type) {
    add(new Entry(id, type, nameOf(type), KryoSerializers.enumeration(type)));
  }

  private static void add(Entry e) {
    if (e.id() < 100) throw new IllegalStateException("Kryo ids below 100 are Kryo's and reserved: " + e);
    if (RETIRED_IDS.contains(e.id())) throw new IllegalStateException("id " + e.id() + " is retired and must not be reused: " + e.type().getName());
    for (Entry other : ENTRIES) {
      if (other.id() == e.id()) throw new IllegalStateException("id " + e.id() + " is taken by " + other.type().getName() + ", not free for " + e.type().getName());
    }
    if (BY_TYPE.put(e.type(), e) != null) throw new IllegalStateException(e.type().getName() + " is registered twice");
    if (BY_NAME.put(e.name(), e) != null) throw new IllegalStateException("two classes named " + e.name());
    ENTRIES.add(e);
  }
}
