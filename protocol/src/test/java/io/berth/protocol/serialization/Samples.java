package io.berth.protocol.serialization;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerData;
import io.berth.protocol.container.ContainerEvent;
import io.berth.protocol.container.ContainerEvent.*;
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
import io.berth.protocol.directory.DirectoryEvent;
import io.berth.protocol.directory.DirectoryEvent.*;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.directory.Reservation;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.host.HostEvent.*;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One fixed sample of every event, command, reply and state type. The event samples are what the
 * golden files hold: <b>never change an event sample</b> (the golden test compares with it); a new
 * event type adds its sample here, then its golden file (GoldenFileGenerator).
 */
public final class Samples {
  private Samples() {}

  public static final Instant AT = Instant.parse("2025-03-01T12:00:00.123Z");
  public static final String HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  public static final ContainerId CT = ContainerId.of("web-1");
  public static final HostId H1 = HostId.of("host-a");
  public static final HostId H2 = HostId.of("host-b");
  public static final String MIGRATION_ID = "mig-7";

  public static EventMeta meta() {
    return new EventMeta(AT, "alice", "roll out v2", "8d0b8f9e-6a0e-4f4e-9a55-1f6d2d0c9b11", HASH);
  }

  /** Limits with every field away from its default. */
  public static final Limits LIMITS = new Limits(1500, 512L << 20, 2L << 30, 256, 200, 500, 128L << 20);
  /** {@link #LIMITS} as limits layout 1 stored them (before weights and guarantees): every cap reserved. */
  public static final Limits LIMITS_V1 = Limits.reservingCaps(1500, 512L << 20, 2L << 30, 256);
  /** The limits of a resize in the samples. */
  public static final Limits RESIZED = new Limits(2000, 1L << 30, 0, 1024, 50, 2000, 0);
  public static final Limits RESIZED_V1 = Limits.reservingCaps(2000, 1L << 30, 0, 1024);

  /** A spec with every field set, non-ASCII included, so every part of its layout is exercised. */
  public static ContainerSpec fullSpec() {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("tier", "frontend");
    labels.put("app", "shop");
    labels.put("team.io/owner", "web@example");
    return new ContainerSpec(CT, TemplateRef.of("busybox"), "web-1", List.of("/bin/httpd", "-f", "-p", "8080", "-h", "/www/é"),
        LIMITS, RestartPolicy.ON_FAILURE, labels,
        new PlacementConstraints(Optional.of(H1), Map.of("zone", "z1", "ssd", "true"), "web"), true,
        io.berth.protocol.spec.Storage.SHARED, 10, java.time.Duration.ofSeconds(30));
  }

  /** {@link #fullSpec()} as layout 4 stored it (limits layout 1, before weights and guarantees): every cap reserved. */
  public static ContainerSpec fullSpecV4() {
    ContainerSpec s = fullSpec();
    return new ContainerSpec(s.id(), s.template(), s.hostname(), s.command(), LIMITS_V1, s.restart(), s.labels(), s.placement(), s.privileged(),
        s.storage(), s.haPriority(), s.checkpointEvery());
  }

  /** {@link #fullSpec()} as layout 3 stored it (before checkpoint schedules): no checkpoints. */
  public static ContainerSpec fullSpecV3() {
    return fullSpecV4().withCheckpointEvery(java.time.Duration.ZERO);
  }

  /** {@link #fullSpec()} as layout 2 stored it (before storage classes and HA priorities): local, priority 0. */
  public static ContainerSpec fullSpecV2() {
    ContainerSpec s = fullSpecV4();
    return new ContainerSpec(s.id(), s.template(), s.hostname(), s.command(), s.limits(), s.restart(), s.labels(), s.placement(), true);
  }

  /** {@link #fullSpec()} as layout 1 stored it (before {@code privileged} existed): unprivileged. */
  public static ContainerSpec fullSpecV1() {
    ContainerSpec s = fullSpecV4();
    return new ContainerSpec(s.id(), s.template(), s.hostname(), s.command(), s.limits(), s.restart(), s.labels(), s.placement(), false);
  }

  /** A spec with only what is required: defaults everywhere else. */
  public static ContainerSpec minimalSpec() {
    return new ContainerSpec(ContainerId.of("db"), TemplateRef.of("sha256:" + HASH), null, null, null, null, null, null);
  }

  /** One sample of every event type, in a fixed order. */
  public static List<BerthEvent> events() {
    EventMeta m = meta();
    String mig = MIGRATION_ID;
    return List.of(
        new ContainerDefined(m, fullSpec()),
        new ContainerPlaced(m, H1, "resource fit: least allocated (cpu 12%, memory 30%)"),
        new AddressAssigned(m, "198.18.0.17", 15),
        new StartRequested(m),
        new ContainerStarted(m, H1, 48213),
        new StopRequested(m, 10_000),
        new KillRequested(m, 9),
        new ContainerStopped(m, 0, 15),
        new ContainerExited(m, 137, 0),
        new LimitsChangeRequested(m, RESIZED),
        new LimitsChanged(m, RESIZED),
        new DestroyRequested(m),
        new ContainerDestroyed(m),
        new OperationFailed(m, Operation.START, "exec /bin/httpd: no such file or directory"),
        new ContainerAdopted(m, H2, 777),
        new RestartScheduled(m, 3, 4_000, "exit code 1"),
        new MigrationRequested(m, mig, H1, H2, MigrationMode.LIVE, true, io.berth.protocol.container.PostCopy.AUTO, "the operator named host-b"),
        new MemoryPostCopied(m, mig, 16_777_216L, false, "criu lazy-pages exited 1 before every page arrived (4096 of 65536 pages)"),
        new MigrationPreflightPassed(m, mig, "criu check passed on both hosts; template busybox present on host-b"),
        new RootfsPreCopied(m, mig, 734_003_200L, HASH),
        new CheckpointTaken(m, mig, 28_311_552L),
        new ImageTransferred(m, mig, 29_000_000L, HASH),
        new ContainerMoved(m, mig, H2),
        new ContainerRestored(m, mig, H2, 51_002),
        new MigrationCompleted(m, mig, 312, 4_870),
        new MigrationFellBackToCold(m, mig, "criu dump: unsupported socket type"),
        new MigrationAborted(m, mig, "target host-b unreachable", 48_213),
        new ContainerFenced(m, H1),
        new ContainerFailedOver(m, H1, H2, "failover of host-a (fenced): least allocated (cpu 12%, memory 30%), HA priority 10", 17,
            AT.minusSeconds(12), 12_000),
        new CheckpointRestoreFailed(m, 17, "criu restore: Can't restore the tcp socket (log: ...)"),
        new CheckpointScheduleSet(m, java.time.Duration.ofMinutes(5)),
        new ContainerLost(m, H1, "host host-a was fenced (unreachable since 03:00:01Z); its disk is local: berth ct recover"),
        new ContainerRecovered(m, H1, H2, true, "ct recover --empty by the operator: host-a is fenced"),
        new ReservationAccepted(m, 42),
        new ReservationDeclined(m, 43),
        new HostRegistered(m, new HostCapacity(2000, 24L << 30, 4_194_304), Map.of("zone", "z1", "ssd", "true"), "198.18.0.2", 7_340_121_456_789L,
            new io.berth.protocol.host.Overcommit(1600, 150)),
        new HostCordoned(m),
        new HostUncordoned(m),
        new DrainRequested(m, io.berth.protocol.host.DrainMode.COLD, 4),
        new HostDrained(m, List.of("web-3: no host has room (host-b: memory 95% allocated)")),
        new HostFenced(m, "host-b", "unreachable from host-b, host-c since 03:00:01Z; downed by keep-majority at 03:00:06Z", 7_340_121_456_789L),
        new HostRejoined(m),
        new io.berth.protocol.host.HostEvent.HostSelfFenced(m, "watchdog", Instant.parse("2026-12-02T03:00:04.018Z"),
            Instant.parse("2026-12-02T03:00:01.016Z"), 3000, List.of("web-1", "db-1"), true, 41),
        new io.berth.protocol.host.HostEvent.StrayCopyRemoved(m, CT, "its log says stopped on host host-a", "sweep", true),
        new ContainerAllocated(m, CT, H1, LIMITS, "web", "198.18.0.17"),
        new AllocationResized(m, CT, RESIZED),
        new AllocationMoved(m, CT, H2),
        new AllocationReleased(m, CT),
        new ContainerReserved(m, 42, CT, H1, LIMITS, "web", "198.18.0.17",
            "least allocated of 3 fitting hosts (host-a: cpu 25%, memory 25% after placing)"),
        new ResizeReserved(m, 44, CT, RESIZED),
        new ReservationConfirmed(m, 42, CT, H1, LIMITS),
        new ReservationReleased(m, 44, CT, "container web-1 answered that it keeps cpu=1.5 memory=512M"),
        new MigrationReserved(m, 46, CT, H2, "least allocated of 2 fitting hosts"),
        new io.berth.protocol.access.AccessEvent.TokenIssued(m, "ci", io.berth.protocol.access.Credential.token(HASH), io.berth.protocol.access.Role.OPERATOR,
            Optional.of(new io.berth.protocol.access.TokenScope("owner", "acme")), Optional.of(AT.plusSeconds(30 * 86_400))),
        new io.berth.protocol.access.AccessEvent.TokenRevoked(m, "ci"));
  }

  /** Other instances with edge values (empty strings, minimal spec, empty meta fields, negative numbers). */
  public static List<BerthEvent> edgeEvents() {
    EventMeta m = new EventMeta(Instant.EPOCH.minusMillis(1), EventMeta.SYSTEM_PRINCIPAL, "", "c", "");
    return List.of(
        new ContainerDefined(m, minimalSpec()),
        new ContainerPlaced(m, H1, ""),
        new ContainerStopped(m, -1, Integer.MAX_VALUE),
        new ContainerStarted(m, H2, Long.MAX_VALUE),
        new RootfsPreCopied(m, "", 0, ""),
        new HostRegistered(m, new HostCapacity(1, 1, 1), Map.of(), ""),
        new HostFenced(m, ""),
        new io.berth.protocol.host.HostEvent.HostSelfFenced(m, "", Instant.EPOCH, Instant.EPOCH, 0, List.of(), false, 0),
        new io.berth.protocol.host.HostEvent.StrayCopyRemoved(m, CT, "", "", false),
        new io.berth.protocol.access.AccessEvent.TokenIssued(m, "a", io.berth.protocol.access.Credential.certificate(HASH), io.berth.protocol.access.Role.VIEWER, Optional.empty(), Optional.empty()));
  }

  /** The sample of {@code type}. */
  public static BerthEvent event(Class<?> type) {
    for (BerthEvent e : events()) if (e.getClass() == type) return e;
    throw new AssertionError("no sample event of " + type.getName() + ": add one to Samples.events()");
  }

  /** Every concrete event type: the permitted subclasses of the sealed event interfaces. */
  public static List<Class<?>> eventTypes() {
    List<Class<?>> types = new ArrayList<>();
    for (Class<?> root : List.of(ContainerEvent.class, HostEvent.class, DirectoryEvent.class,
        io.berth.protocol.access.AccessEvent.class)) collectLeaves(root, types);
    return types;
  }

  static void collectLeaves(Class<?> type, List<Class<?>> into) {
    if (type.isSealed()) {
      for (Class<?> sub : type.getPermittedSubclasses()) collectLeaves(sub, into);
    } else {
      into.add(type);
    }
  }

  // --- states ------------------------------------------------------------------------------------

  public static ContainerData data() {
    return new ContainerData(fullSpec(), Optional.of(H1), "198.18.0.17", 15,
        Optional.of(new Pending(Operation.STOP, "corr-1", AT)), Optional.of(new ExitStatus(1, 0, AT)),
        "start: exec failed", 2, 42, HASH, AT, Optional.of(new MigrationRecord("mig-6", MigrationMode.LIVE, H2, H1, "completed", 212, 3_400,
            52_000_000L, "", "", true, "", AT)), 17);
  }

  public static ContainerData bareData() {
    return new ContainerData(minimalSpec(), Optional.empty(), "", 0, Optional.empty(), Optional.empty(), "", 0, 0, "", AT, Optional.empty());
  }

  public static List<ContainerState> containerStates() {
    return List.of(
        ContainerState.empty(CT),
        new ContainerState.Empty(CT, 43, HASH),
        new ContainerState.Defined(bareData()),
        new ContainerState.Running(data(), 48213, AT),
        new ContainerState.Stopped(data()),
        new ContainerState.Lost(data(), H1, true, "host host-a was fenced", AT),
        new ContainerState.Migrating(data(),
            new MigrationProgress("mig-7", H1, H2, MigrationMode.LIVE, MigrationProgress.Step.IMAGE_TRANSFERRED, 48213, 0, false,
                io.berth.protocol.container.PostCopy.ON, false, "", 29_000_000L, "", AT)),
        new ContainerState.Destroyed(bareData()));
  }

  public static List<HostState> hostStates() {
    HostState.HostInfo info = new HostState.HostInfo(H1, new HostCapacity(2000, 24L << 30, 4096), Map.of("zone", "z1"), "198.18.0.2", AT, 99,
        io.berth.protocol.host.Overcommit.DEFAULT);
    return List.of(
        HostState.empty(H1),
        new HostState.Active(info, true, false, HASH),
        new HostState.Active(info, true, true, Optional.of(new io.berth.protocol.host.DrainPlan(io.berth.protocol.host.DrainMode.LIVE, 2, AT)),
            List.of("db-1: pinned"), HASH),
        new HostState.Fenced(info, "host-b", "unreachable since 03:00:01Z", AT, HASH));
  }

  // --- commands and replies ------------------------------------------------------------------------

  public static CommandContext context() {
    return new CommandContext("alice", "because", "corr-42");
  }

  public static DirectoryState directoryState() {
    return new DirectoryState(Map.of(
        CT, new Allocation(H1, LIMITS, "web", "198.18.0.17"),
        ContainerId.of("db"), new Allocation(H2, Limits.DEFAULT, "", "198.18.0.18")),
        Map.of(
            CT, new Reservation(44, Reservation.Kind.RESIZE, H1, RESIZED, "web", "198.18.0.17", "", AT, "corr-44"),
            ContainerId.of("api"), new Reservation(45, Reservation.Kind.CREATE, H2, Limits.DEFAULT, "", "198.18.0.19", "pinned", AT, "corr-45")),
        45, HASH);
  }

  public static List<BerthMessage> commands(ActorRef<ContainerReply> c, ActorRef<HostReply> h, ActorRef<DirectoryReply> d) {
    CommandContext ctx = context();
    return List.of(
        new ContainerCommand.Define(fullSpec(), H1, "pinned", "198.18.0.17", 15, true, 42, ctx, c),
        new ContainerCommand.Start(ctx, c),
        new ContainerCommand.Stop(10_000, ctx, c),
        new ContainerCommand.Kill(9, ctx, c),
        new ContainerCommand.SetLimits(Limits.DEFAULT, 44, ctx, c),
        new ContainerCommand.Settle(45, ctx, c),
        new ContainerCommand.Destroy(ctx, c),
        new ContainerCommand.Migrate(H2, MigrationMode.COLD, true, io.berth.protocol.container.PostCopy.OFF, "pinned by the operator", 46, ctx, c),
        new ContainerCommand.Exec(List.of("/bin/echo", "hi"), 5_000, ctx, c),
        new ContainerCommand.Get(c),
        new ContainerCommand.FailOver(H1, H2, "failover of host-a", 47, ctx, c),
        new ContainerCommand.MarkLost(H1, "host-a fenced", ctx, c),
        new ContainerCommand.Recover(H2, true, "ct recover --empty", 48, ctx, c),
        new ContainerCommand.SetCheckpointSchedule(java.time.Duration.ofSeconds(30), ctx, c),
        new HostCommand.Register(new HostCapacity(2000, 24L << 30, 4096), Map.of("zone", "z1"), "198.18.0.2", 99,
            io.berth.protocol.host.Overcommit.DEFAULT, ctx, h),
        new HostCommand.ReportUsage(new io.berth.protocol.host.HostUsage(350, 3L << 30, Map.of("web-1", new io.berth.protocol.host.HostUsage.ContainerUsage(12, 5L << 20)), AT), h),
        new HostCommand.Cordon(ctx, h),
        new HostCommand.Uncordon(ctx, h),
        new HostCommand.Drain(io.berth.protocol.host.DrainMode.LIVE, 2, ctx, h),
        new HostCommand.MarkDrained(List.of("db-1: pinned"), ctx, h),
        new HostCommand.MarkFenced("host-b", "unreachable since 03:00:01Z", 99, ctx, h),
        new HostCommand.MarkRejoined(ctx, h),
        new HostCommand.Get(h),
        new DirectoryCommand.CreateContainer(fullSpec(), true, ctx, c),
        new DirectoryCommand.ResizeContainer(CT, Limits.DEFAULT, ctx, c),
        new DirectoryCommand.Release(CT, ctx, d),
        new DirectoryCommand.Locate(CT, d),
        new DirectoryCommand.MigrateContainer(fullSpec(), Optional.of(H2), MigrationMode.LIVE, false, io.berth.protocol.container.PostCopy.AUTO, ctx,
            c),
        new DirectoryCommand.SettleMigration(CT, 46, true, ctx, d),
        new DirectoryCommand.Read(d),
        new DirectoryCommand.FailOverHost(H1, "unreachable since 03:00:01Z", true, ctx, d),
        new DirectoryCommand.RecoverContainer(fullSpec(), H1, ctx, c));
  }

  public static List<BerthMessage> replies() {
    Rejection rejection = new Rejection(Rejection.Code.WRONG_PHASE, "phase", "container web-1 is running: cannot start");
    List<BerthMessage> all = new ArrayList<>();
    for (ContainerState s : containerStates()) all.add(new ContainerReply.Done(s));
    all.add(new ContainerReply.Refused(rejection));
    all.add(new ContainerReply.ExecResult(0, "hi\n", "", false));
    all.add(new ContainerReply.States(containerStates()));
    for (HostState s : hostStates()) all.add(new HostReply.Done(s));
    all.add(new HostReply.Done(hostStates().get(1), new io.berth.protocol.host.HostUsage(350, 3L << 30, Map.of("web-1", new io.berth.protocol.host.HostUsage.ContainerUsage(12, 5L << 20)), AT)));
    all.add(new HostReply.Refused(new Rejection(Rejection.Code.NOT_FOUND, null, "no host x")));
    all.add(new DirectoryReply.Located(CT, Optional.of(H1)));
    all.add(new DirectoryReply.Located(ContainerId.of("ghost"), Optional.empty()));
    all.add(new DirectoryReply.Done(directoryState()));
    all.add(new DirectoryReply.Snapshot(DirectoryState.EMPTY));
    all.add(new DirectoryReply.Refused(rejection));
    all.add(rejection);
    return all;
  }

  /** A state of the access log: one scoped token that expires, one admin token for good. */
  public static io.berth.protocol.access.AccessState accessState() {
    var scoped = new io.berth.protocol.access.IssuedToken("ci", io.berth.protocol.access.Credential.token(HASH), io.berth.protocol.access.Role.OPERATOR,
        Optional.of(new io.berth.protocol.access.TokenScope("owner", "acme")), Optional.of(AT.plusSeconds(86_400)), AT, "alice");
    var admin = new io.berth.protocol.access.IssuedToken("ops", io.berth.protocol.access.Credential.certificate("cd".repeat(32)), io.berth.protocol.access.Role.ADMIN,
        Optional.empty(), Optional.empty(), AT, "admin");
    return new io.berth.protocol.access.AccessState(Map.of("ci", scoped, "ops", admin), HASH);
  }

  /** Access log messages (commands and replies). */
  public static List<BerthMessage> accessMessages(ActorRef<io.berth.protocol.access.AccessReply> a) {
    var state = accessState();
    return List.of(
        new io.berth.protocol.access.AccessCommand.Issue("ci", io.berth.protocol.access.Credential.token(HASH), io.berth.protocol.access.Role.OPERATOR,
            Optional.of(new io.berth.protocol.access.TokenScope("owner", "acme")), Optional.of(AT), context(), a),
        new io.berth.protocol.access.AccessCommand.Issue("ops", io.berth.protocol.access.Credential.certificate(HASH), io.berth.protocol.access.Role.ADMIN, Optional.empty(), Optional.empty(), context(), a),
        new io.berth.protocol.access.AccessCommand.Revoke("ci", context(), a),
        new io.berth.protocol.access.AccessCommand.Read(a),
        new io.berth.protocol.access.AccessReply.Done(state.tokens().get("ci"), state),
        new io.berth.protocol.access.AccessReply.Snapshot(io.berth.protocol.access.AccessState.EMPTY),
        new io.berth.protocol.access.AccessReply.Refused(new Rejection(Rejection.Code.ALREADY_EXISTS, "name", "a token named ci is in force")));
  }

  /** Template agent messages (commands and replies). */
  public static List<BerthMessage> templateMessages(ActorRef<io.berth.protocol.template.TemplateReply> t) {
    var info = new io.berth.protocol.template.TemplateInfo("busybox", "sha256:" + "ab".repeat(32), 1_234_567, Instant.ofEpochSecond(1_700_000_000L));
    return List.of(
        new io.berth.protocol.template.TemplateCommand.Import("alpine", "/srv/templates/alpine.tar", context(), t),
        new io.berth.protocol.template.TemplateCommand.List(t),
        new io.berth.protocol.template.TemplateCommand.Build("web", "debian-12", List.of("nginx", "openssh-server"), context(), t),
        new io.berth.protocol.template.TemplateReply.Built(H1, info, "/var/lib/berth/isolation/templates/sha256/" + "ab".repeat(32)),
        new io.berth.protocol.template.TemplateReply.Imported(H1, info),
        new io.berth.protocol.template.TemplateReply.Listed(H2, List.of(info)),
        new io.berth.protocol.template.TemplateReply.Failed(H1, "path", "must be a directory or a tarball on the node", "path: ..."));
  }
}
