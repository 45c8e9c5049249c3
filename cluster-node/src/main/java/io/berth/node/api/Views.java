package io.berth.node.api;

import io.berth.node.ops.BerthOperations;
import io.berth.node.ops.BerthOperations.AuditEntry;
import io.berth.node.ops.BerthOperations.HostView;
import io.berth.node.ops.BerthOperations.TemplateView;
import io.berth.protocol.container.ContainerData;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.MigrationProgress;
import io.berth.protocol.host.HostState;
import io.berth.protocol.spec.ByteSizes;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.CpuAmounts;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON the API answers with: explicit shapes, not the protocol records as they are, so the wire format
 * changes only when this file does. Sizes and cpu come in the same human forms the requests accept
 * ({@code "64M"}, {@code "0.5"}); times are ISO-8601.
 */
final class Views {
  private Views() {}

  record Items<T>(List<T> items) {}

  /** Caps ({@code cpu}, {@code memory}, {@code pids}, {@code disk}), the weight, and the guarantees placement reserves. */
  record LimitsJson(String cpu, String memory, long pids, String disk, int cpuWeight, String cpuGuarantee, String memoryGuarantee) {
    static LimitsJson of(Limits l) {
      return new LimitsJson(CpuAmounts.format(l.cpuMillis()), ByteSizes.format(l.memoryBytes()), l.pids(), ByteSizes.format(l.diskBytes()),
          l.cpuWeight(), CpuAmounts.format(l.cpuGuaranteeMillis()), ByteSizes.format(l.memoryGuaranteeBytes()));
    }
  }

  record PlacementJson(String host, Map<String, String> hostLabels, String antiAffinityGroup) {
    static PlacementJson of(PlacementConstraints p) {
      return new PlacementJson(p.pinnedHost().map(Object::toString).orElse(null), p.hostLabels(), p.antiAffinityGroup());
    }
  }

  record PendingJson(String operation, String correlationId, Instant since) {}

  record ExitJson(int exitCode, int signal, Instant at, String description) {}

  /** A move under way: where it stands, what was sent so far. */
  record MigrationJson(String migrationId, String source, String target, String mode, String postCopy, String step, long bytes,
      String fallbackReason, Instant requestedAt) {
    static MigrationJson of(MigrationProgress p) {
      return new MigrationJson(p.migrationId(), p.source().value(), p.target().value(), lower(p.mode()), lower(p.postCopy()), lower(p.step()),
          p.bytes(), p.fallbackReason().isEmpty() ? null : p.fallbackReason(), p.requestedAt());
    }
  }

  /**
   * How the last move ended ({@code lastMigration}): {@code frozenMs} from the moment the container stopped running
   * on the source until it ran on the target (null when that is not known: the source's node restarted meanwhile);
   * {@code postCopied}: its memory moved after it ran there; {@code memoryLost}: why that was cut short (it was started
   * again from its disk), null when it was not.
   */
  record LastMigrationJson(String migrationId, String mode, String from, String to, String outcome, Long frozenMs, long totalMs, long bytes,
      String fallbackReason, String cause, boolean postCopied, String memoryLost, Instant endedAt) {
    static LastMigrationJson of(io.berth.protocol.container.MigrationRecord r) {
      return new LastMigrationJson(r.migrationId(), lower(r.mode()), r.from().value(), r.to().value(), r.outcome(),
          r.frozenMillis() < 0 ? null : r.frozenMillis(), r.totalMillis(), r.bytes(), r.fallbackReason().isEmpty() ? null : r.fallbackReason(),
          r.cause().isEmpty() ? null : r.cause(), r.postCopied(), r.memoryLost().isEmpty() ? null : r.memoryLost(), r.endedAt());
    }
  }

  /** A container as {@code GET /v1/containers/{id}} shows it. */
  record ContainerJson(String id, String phase, String host, String address, String template, String hostname,
      List<String> command, LimitsJson limits, String restart, Map<String, String> labels, PlacementJson placement,
      boolean privileged, String storage, int haPriority, String checkpointEvery, Long pid, Instant runningSince, PendingJson pending,
      ExitJson lastExit, String lastError, int restartAttempts, MigrationJson migration, LastMigrationJson lastMigration, LostJson lost,
      CheckpointsJson checkpoints, UsedJson used, Instant updatedAt) {}

  /** What a container uses, as its host's node measured at {@code at} (memory: the working set, to the MiB). */
  record UsedJson(String cpu, String memory, Instant at) {}

  /** Each container's measured use, by id, from the hosts' last reports. */
  static Map<String, UsedJson> containerUsage(List<HostView> hosts) {
    Map<String, UsedJson> used = new java.util.HashMap<>();
    for (HostView h : hosts) {
      h.usage().containers().forEach((id, u) -> used.put(id, new UsedJson(CpuAmounts.format(u.cpuMillis()), mib(u.memoryBytes()), h.usage().at())));
    }
    return used;
  }

  /** Rounded down to whole MiB, as people read a measured size (1150M, not 1205862817). */
  private static String mib(long bytes) {
    return ByteSizes.format(bytes & ~((1L << 20) - 1));
  }

  /**
   * Its periodic checkpoints ({@code ct show} only; on shared storage): how many are kept, the newest one (its
   * sequence, when it was taken and how long ago, how long the container was frozen for it, measured by CRIU), the
   * median frozen time of the kept ones, and the last failure to take one since the last success (null when none).
   */
  record CheckpointsJson(int kept, Long lastSequence, Instant lastTakenAt, Long lastAgeSeconds, Long lastFrozenMs, String lastFrozenSource,
      Long lastImagesBytes, String lastHost, Long medianFrozenMs, String lastError, Instant lastErrorAt) {
    static CheckpointsJson of(io.berth.node.ops.BerthOperations.CheckpointView v, Instant now) {
      var last = v.kept().isEmpty() ? null : v.kept().get(0);
      long[] frozen = v.kept().stream().mapToLong(io.berth.node.ops.BerthOperations.KeptCheckpoint::frozenMillis).sorted().toArray();
      Long median = frozen.length == 0 ? null
          : frozen.length % 2 == 1 ? frozen[frozen.length / 2] : (frozen[frozen.length / 2 - 1] + frozen[frozen.length / 2] + 1) / 2;
      return new CheckpointsJson(v.kept().size(), last == null ? null : last.sequence(), last == null ? null : last.takenAt(),
          last == null ? null : Math.max(0, java.time.Duration.between(last.takenAt(), now).toSeconds()),
          last == null ? null : last.frozenMillis(), last == null ? null : last.frozenSource(), last == null ? null : last.imagesBytes(),
          last == null ? null : last.host(), median, v.lastError().isEmpty() ? null : v.lastError(), v.lastErrorAt().orElse(null));
    }
  }

  /** A lost container: the fenced host that held its only disk, since when, why. */
  record LostJson(String host, Instant since, boolean wasRunning, String reason) {}

  static ContainerJson container(ContainerState.Live state) {
    return container(state, null, null, null);
  }

  /** With what it uses ({@code ct list}); {@code used} null: not measured. */
  static ContainerJson container(ContainerState.Live state, UsedJson used) {
    return container(state, null, null, used);
  }

  /** With its checkpoints ({@code ct show}); {@code checkpoints} null: not read (a list, a local container). */
  static ContainerJson container(ContainerState.Live state, io.berth.node.ops.BerthOperations.CheckpointView checkpoints, Instant now) {
    return container(state, checkpoints, now, null);
  }

  private static ContainerJson container(ContainerState.Live state, io.berth.node.ops.BerthOperations.CheckpointView checkpoints, Instant now,
      UsedJson used) {
    ContainerData d = state.data();
    ContainerSpec s = d.spec();
    Long pid = null;
    Instant since = null;
    MigrationJson migration = null;
    LostJson lost = state instanceof ContainerState.Lost l ? new LostJson(l.host().value(), l.since(), l.wasRunning(), l.reason()) : null;
    if (state instanceof ContainerState.Running r) {
      pid = r.pid();
      since = r.since();
    } else if (state instanceof ContainerState.Migrating m) {
      migration = MigrationJson.of(m.progress());
    }
    return new ContainerJson(s.id().value(), state.phase(), d.host().map(Object::toString).orElse(null),
        d.address().isEmpty() ? null : d.address() + "/" + d.prefixLength(), s.template().value(), s.hostname(), s.command(),
        LimitsJson.of(s.limits()), s.restart().wireName(), s.labels(), PlacementJson.of(s.placement()), s.privileged(),
        s.storage().wireName(), s.haPriority(), io.berth.protocol.spec.Durations.format(s.checkpointEvery()), pid, since,
        d.pending().map(p -> new PendingJson(lower(p.operation()), p.correlationId(), p.since())).orElse(null),
        d.lastExit().map(e -> new ExitJson(e.exitCode(), e.signal(), e.at(), e.toString())).orElse(null),
        d.lastError().isEmpty() ? null : d.lastError(), d.restartAttempts(), migration,
        d.lastMigration().map(LastMigrationJson::of).orElse(null), lost, checkpoints == null ? null : CheckpointsJson.of(checkpoints, now),
        used, d.updatedAt());
  }

  record ExecJson(int exitCode, String stdout, String stderr, boolean truncated) {
    static ExecJson of(ContainerReply.ExecResult r) {
      return new ExecJson(r.exitCode(), r.stdout(), r.stderr(), r.truncated());
    }
  }

  record ResourcesJson(String cpu, String memory, long pids) {
    static ResourcesJson of(long cpuMillis, long memoryBytes, long pids) {
      return new ResourcesJson(CpuAmounts.format(cpuMillis), ByteSizes.format(memoryBytes), pids);
    }
  }

  /** cpu and memory, in the forms requests take. */
  record AmountsJson(String cpu, String memory) {
    static AmountsJson of(long cpuMillis, long memoryBytes) {
      return new AmountsJson(CpuAmounts.format(cpuMillis), ByteSizes.format(memoryBytes));
    }
  }

  /** The overcommit ratios: caps may add up to capacity times these. */
  record OvercommitJson(String cpu, String memory) {
    static OvercommitJson of(io.berth.protocol.host.Overcommit o) {
      return new OvercommitJson(io.berth.protocol.host.Overcommit.format(o.cpuHundredths()), io.berth.protocol.host.Overcommit.format(o.memoryHundredths()));
    }
  }

  /** What the host's containers use together, as its node measured at {@code at} (memory: the working set, to the MiB). */
  record UsageJson(String cpu, String memory, Instant at) {
    static UsageJson of(io.berth.protocol.host.HostUsage u) {
      return u.known() ? new UsageJson(CpuAmounts.format(u.cpuMillis()), mib(u.memoryBytes()), u.at()) : null;
    }
  }

  /**
   * A host: what it offers ({@code capacity}) and lets caps reach ({@code overcommit}: {@code allocatable} is capacity
   * times the ratios), the sums of its containers' caps ({@code allocated}) and guarantees ({@code reserved}), what they
   * use ({@code used}, null until measured), whether its node is up.
   */
  record HostJson(String id, String phase, String address, Map<String, String> labels, ResourcesJson capacity, OvercommitJson overcommit,
      AmountsJson allocatable, ResourcesJson allocated, AmountsJson reserved, UsageJson used, Integer containers, Boolean reachable, boolean cordoned,
      boolean draining, DrainJson drain, List<String> lastDrainLeft, Instant registeredAt, String fencedBy, Instant fencedSince,
      String fencedEvidence) {}

  /** A drain under way: how, how many at a time, since when. */
  record DrainJson(String mode, int parallel, Instant since) {}

  static HostJson host(HostState state, HostView view) {
    ResourcesJson allocated = view == null ? null : ResourcesJson.of(view.cpuMillisAllocated(), view.memoryBytesAllocated(), view.pidsAllocated());
    AmountsJson reserved = view == null ? null : AmountsJson.of(view.cpuMillisReserved(), view.memoryBytesReserved());
    UsageJson used = view == null ? null : UsageJson.of(view.usage());
    Integer containers = view == null ? null : view.containers();
    Boolean reachable = view == null ? null : view.reachable();
    if (state instanceof HostState.Active a) {
      HostState.HostInfo i = a.info();
      DrainJson drain = a.drain().map(d -> new DrainJson(lower(d.mode()), d.parallel(), d.since())).orElse(null);
      return new HostJson(i.id().value(), a.phase(), i.address(), i.labels(), capacity(i), OvercommitJson.of(i.overcommit()), allocatable(i), allocated, reserved,
          used, containers, reachable, a.cordoned(), a.draining(), drain, a.lastDrainLeft(), i.registeredAt(), null, null, null);
    }
    if (state instanceof HostState.Fenced f) {
      HostState.HostInfo i = f.info();
      return new HostJson(i.id().value(), f.phase(), i.address(), i.labels(), capacity(i), OvercommitJson.of(i.overcommit()), allocatable(i), allocated, reserved,
          used, containers, reachable, true, false, null, List.of(), i.registeredAt(), f.by(), f.since(), f.evidence().isEmpty() ? null : f.evidence());
    }
    return new HostJson(state.id().value(), state.phase(), null, Map.of(), null, null, null, allocated, reserved, used, containers, reachable, false,
        false, null, List.of(), null, null, null, null);
  }

  /** What caps may add up to: capacity times the overcommit ratios. */
  private static AmountsJson allocatable(HostState.HostInfo i) {
    return AmountsJson.of(i.overcommit().cpu(i.capacity().cpuMillis()), i.overcommit().memory(i.capacity().memoryBytes()));
  }

  private static ResourcesJson capacity(HostState.HostInfo i) {
    return ResourcesJson.of(i.capacity().cpuMillis(), i.capacity().memoryBytes(), i.capacity().pids());
  }

  record TemplateJson(String name, String digest, long bytes, String size, Instant importedAt) {
    static TemplateJson of(TemplateView t) {
      return new TemplateJson(t.name(), t.digest(), t.bytes(), ByteSizes.format(t.bytes()), t.importedAt());
    }
  }

  record EntityJson(String kind, String id) {}

  /** One audit entry; {@code details} are the event's own fields (see {@link EventDetails}). */
  record AuditJson(String persistenceId, EntityJson entity, long sequenceNr, Instant at, String type, String principal,
      String reason, String correlationId, String offset, Map<String, Object> details) {
    static AuditJson of(AuditEntry e) {
      String pid = e.persistenceId();
      int bar = pid.indexOf('|');
      EntityJson entity = bar < 0 ? null : new EntityJson(pid.substring(0, bar), pid.substring(bar + 1));
      return new AuditJson(pid, entity, e.sequenceNr(), e.at(), e.type(), e.principal(), e.reason(), e.correlationId(),
          e.offset() == null || e.offset().isEmpty() ? null : e.offset(), EventDetails.of(e.event()));
    }
  }

  /** A page of one entity's history; {@code next} is the {@code from} of the next page, null at the end. */
  record HistoryJson(List<AuditJson> items, Long next) {}

  record BrokenLinkJson(String persistenceId, long sequenceNr, String check, String detail) {}

  record VerifyJson(boolean intact, int entitiesChecked, long eventsChecked, List<BrokenLinkJson> brokenLinks) {
    static VerifyJson of(BerthOperations.VerifyReport r) {
      return new VerifyJson(r.brokenLinks().isEmpty(), r.entitiesChecked(), r.eventsChecked(),
          r.brokenLinks().stream().map(b -> new BrokenLinkJson(b.persistenceId(), b.sequenceNr(), b.check(), b.detail())).toList());
    }
  }

  record HostSummary(int total, int reachable, int ready, int cordoned, int draining, int fenced, int unregistered) {}

  record ContainerSummary(int total, Map<String, Integer> byPhase) {}

  /** GET /v1/status. */
  record StatusJson(HostSummary hosts, ContainerSummary containers, Instant at) {}

  static StatusJson status(List<HostView> hosts, List<ContainerState> containers, Instant now) {
    int reachable = 0, ready = 0, cordoned = 0, draining = 0, fenced = 0, unregistered = 0;
    for (HostView h : hosts) {
      if (h.reachable()) reachable++;
      switch (h.state().phase()) {
        case "ready" -> ready++;
        case "cordoned" -> cordoned++;
        case "draining" -> draining++;
        case "fenced" -> fenced++;
        default -> unregistered++;
      }
    }
    Map<String, Integer> byPhase = new TreeMap<>();
    for (ContainerState c : containers) byPhase.merge(c.phase(), 1, Integer::sum);
    return new StatusJson(new HostSummary(hosts.size(), reachable, ready, cordoned, draining, fenced, unregistered),
        new ContainerSummary(containers.size(), byPhase), now);
  }

  /**
   * One API token, never its secret but in the answer that issued it ({@code token}); {@code source} says where it is
   * kept: {@code file} (the tokens file: an admin token until its line goes) or {@code log} (issued through the API).
   */
  /**
   * A token or registered certificate: {@code credential} token or certificate; {@code fingerprint} a certificate's
   * SHA-256 (public, as openssl prints it), never a token's hash; {@code token} only in the answer that issued it.
   */
  record TokenJson(String name, String role, String scope, Instant expiresAt, boolean expired, Instant issuedAt, String issuedBy,
      String source, String credential, String fingerprint, String token, Instant revokedAt) {
    static TokenJson of(io.berth.protocol.access.IssuedToken t, Instant now, String token, Instant revokedAt) {
      var c = t.credential();
      boolean certificate = c.kind() == io.berth.protocol.access.Credential.Kind.CERTIFICATE;
      return new TokenJson(t.name(), t.role().wireName(), t.scope().map(Object::toString).orElse(null), t.expiresAt().orElse(null),
          t.expiredAt(now), t.issuedAt(), t.issuedBy(), "log", c.kind().wireName(), certificate ? c.sha256() : null, token, revokedAt);
    }

    static TokenJson ofFile(String name) {
      return new TokenJson(name, "admin", null, null, false, null, null, "file", "token", null, null, null);
    }
  }

  static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
