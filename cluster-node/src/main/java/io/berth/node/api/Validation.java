package io.berth.node.api;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ByteSizes;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.CpuAmounts;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.PlacementConstraints;
import io.berth.protocol.spec.RestartPolicy;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Request bodies and parameters to protocol values. Everything is checked here, before any call to
 * {@code BerthOperations}: bad input persists nothing (invariant 6). Every failure is an
 * {@link InvalidFieldException} naming the field as the client wrote it ({@code name}, {@code limits.memory}).
 */
final class Validation {
  static final long MAX_TIMEOUT_MILLIS = 3_600_000;
  static final long DEFAULT_STOP_TIMEOUT_MILLIS = 10_000;
  static final long DEFAULT_EXEC_TIMEOUT_MILLIS = 30_000;
  static final int MAX_PAGE = 1000;
  static final int DEFAULT_PAGE = 100;

  /** The signals an operator may name; numbers 1-64 are accepted too. */
  private static final Map<String, Integer> SIGNALS = Map.ofEntries(
      Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("KILL", 9), Map.entry("USR1", 10),
      Map.entry("USR2", 12), Map.entry("TERM", 15), Map.entry("CONT", 18), Map.entry("STOP", 19));

  private Validation() {}

  static ContainerId containerId(String field, String value) {
    return renamed(field, value, () -> ContainerId.of(value));
  }

  static HostId hostId(String field, String value) {
    return renamed(field, value, () -> HostId.of(value));
  }

  static ContainerSpec spec(Requests.CreateContainer body) {
    ContainerId id = containerId("name", InvalidFieldException.required("name", body.name()));
    TemplateRef template = renamed("template", body.template(), () -> TemplateRef.of(body.template()));
    Limits limits = limits(body.limits(), Limits.DEFAULT);
    RestartPolicy restart = body.restart() == null ? RestartPolicy.NEVER : RestartPolicy.parse("restart", body.restart());
    PlacementConstraints placement = PlacementConstraints.NONE;
    if (body.placement() != null) {
      Requests.PlacementBody p = body.placement();
      Optional<HostId> pinned = p.host() == null || p.host().isEmpty() ? Optional.empty() : Optional.of(hostId("placement.host", p.host()));
      placement = new PlacementConstraints(pinned, p.hostLabels(), p.antiAffinityGroup());
    }
    io.berth.protocol.spec.Storage storage = body.storage() == null ? io.berth.protocol.spec.Storage.LOCAL
        : io.berth.protocol.spec.Storage.parse("storage", body.storage());
    int haPriority = body.haPriority() == null ? 0 : body.haPriority();
    java.time.Duration checkpointEvery = body.checkpointEvery() == null ? java.time.Duration.ZERO
        : io.berth.protocol.spec.Durations.parse("checkpointEvery", body.checkpointEvery());
    return new ContainerSpec(id, template, body.hostname(), body.command(), limits, restart, body.labels(), placement,
        Boolean.TRUE.equals(body.privileged()), storage, haPriority, checkpointEvery);
  }

  /** {@code body} over {@code base}: fields not given keep the base's value. */
  /** The schedule of {@code PUT .../checkpoint-schedule}: required; the spec's own rules are the entity's to check. */
  static java.time.Duration checkpointEvery(Requests.CheckpointSchedule body) {
    if (body == null || body.checkpointEvery() == null) {
      throw new InvalidFieldException("checkpointEvery", "must be given: a duration such as 30s or 5m, or off", null);
    }
    return io.berth.protocol.spec.Durations.parse("checkpointEvery", body.checkpointEvery());
  }

  /** The largest caps with nothing guaranteed: a base against which only each field's own form and range are checked. */
  static final Limits WIDEST = new Limits(Limits.MAX_CPU_MILLIS, Limits.MAX_MEMORY, 0, Limits.MAX_PIDS, Limits.DEFAULT_CPU_WEIGHT, 0, 0);

  static Limits limits(Requests.LimitsBody body, Limits base) {
    if (body == null) return base;
    long cpu = body.cpu() == null ? base.cpuMillis() : CpuAmounts.parseMillis("limits.cpu", body.cpu());
    long memory = body.memory() == null ? base.memoryBytes() : ByteSizes.parse("limits.memory", body.memory());
    long disk = body.disk() == null ? base.diskBytes() : ByteSizes.parse("limits.disk", body.disk());
    long pids = body.pids() == null ? base.pids() : wholeNumber("limits.pids", body.pids());
    long weight = body.cpuWeight() == null ? base.cpuWeight() : wholeNumber("limits.cpuWeight", body.cpuWeight());
    if (weight < 1 || weight > Limits.MAX_CPU_WEIGHT) {
      throw new InvalidFieldException("limits.cpuWeight", "must be between 1 and " + Limits.MAX_CPU_WEIGHT + " (100 is the default share)", body.cpuWeight());
    }
    // A guarantee not given is the base's, lowered to a cap that came down below it (a guarantee above its cap
    // could never be used); one given above its cap is refused by Limits, naming the field.
    long cpuGuarantee = body.cpuGuarantee() == null ? Math.min(base.cpuGuaranteeMillis(), cpu)
        : CpuAmounts.parseMillis("limits.cpuGuarantee", body.cpuGuarantee());
    long memoryGuarantee = body.memoryGuarantee() == null ? Math.min(base.memoryGuaranteeBytes(), memory)
        : ByteSizes.parse("limits.memoryGuarantee", body.memoryGuarantee());
    return new Limits(cpu, memory, disk, pids, (int) weight, cpuGuarantee, memoryGuarantee);
  }

  static long stopTimeout(Requests.Stop body) {
    return timeout("timeoutMillis", body.timeoutMillis(), DEFAULT_STOP_TIMEOUT_MILLIS, 0);
  }

  static long execTimeout(Requests.Exec body) {
    return timeout("timeoutMillis", body.timeoutMillis(), DEFAULT_EXEC_TIMEOUT_MILLIS, 1);
  }

  private static long timeout(String field, Long value, long dflt, long min) {
    if (value == null) return dflt;
    if (value < min || value > MAX_TIMEOUT_MILLIS) {
      throw new InvalidFieldException(field, "must be between " + min + " and " + MAX_TIMEOUT_MILLIS + " milliseconds", value);
    }
    return value;
  }

  static int signal(Requests.Kill body) {
    String s = body.signal();
    if (s == null) return 9;
    String t = s.trim().toUpperCase(Locale.ROOT);
    if (t.startsWith("SIG")) t = t.substring(3);
    Integer named = SIGNALS.get(t);
    if (named != null) return named;
    try {
      int n = Integer.parseInt(t);
      if (n >= 1 && n <= 64) return n;
    } catch (NumberFormatException ignored) {
      // falls through to the error below
    }
    throw new InvalidFieldException("signal", "must be a signal number 1-64 or a name such as TERM or KILL", s);
  }

  static java.util.List<String> execCommand(Requests.Exec body) {
    java.util.List<String> argv = InvalidFieldException.required("command", body.command());
    if (argv.isEmpty()) throw new InvalidFieldException("command", "must name a program", "[]");
    // The spec's rules for an argv (count, size, NUL bytes) apply to exec too.
    new ContainerSpec(ContainerId.of("x"), TemplateRef.of("x"), null, argv, null, null, null, null);
    return argv;
  }

  static io.berth.protocol.host.DrainMode drainMode(String text) {
    if (text == null) return io.berth.protocol.host.DrainMode.LIVE;
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "live" -> io.berth.protocol.host.DrainMode.LIVE;
      case "cold" -> io.berth.protocol.host.DrainMode.COLD;
      case "stop" -> io.berth.protocol.host.DrainMode.STOP;
      default -> throw new InvalidFieldException("mode", "must be live, cold or stop", text);
    };
  }

  static int drainParallel(Integer n) {
    if (n == null) return 2;
    if (n < 1 || n > io.berth.protocol.host.DrainPlan.MAX_PARALLEL) {
      throw new InvalidFieldException("parallel", "must be between 1 and " + io.berth.protocol.host.DrainPlan.MAX_PARALLEL, n);
    }
    return n;
  }

  /** Absent: live, or cold when live cannot work; given: exactly that mode. */
  /** {@code postCopy}: auto (absent), on or off; on needs a live move. */
  static io.berth.protocol.container.PostCopy postCopy(String text, java.util.Optional<MigrationMode> mode) {
    if (text == null) return io.berth.protocol.container.PostCopy.AUTO;
    var p = switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "auto" -> io.berth.protocol.container.PostCopy.AUTO;
      case "on" -> io.berth.protocol.container.PostCopy.ON;
      case "off" -> io.berth.protocol.container.PostCopy.OFF;
      default -> throw new InvalidFieldException("postCopy", "must be auto, on or off", text);
    };
    if (p == io.berth.protocol.container.PostCopy.ON && mode.orElse(MigrationMode.LIVE) == MigrationMode.COLD) {
      throw new InvalidFieldException("postCopy", "on needs a live move (mode is cold: a cold move copies no memory)", text);
    }
    return p;
  }

  static java.util.Optional<MigrationMode> migrationMode(String text) {
    if (text == null) return java.util.Optional.empty();
    return java.util.Optional.of(switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "live" -> MigrationMode.LIVE;
      case "cold" -> MigrationMode.COLD;
      default -> throw new InvalidFieldException("mode", "must be live or cold", text);
    });
  }

  static String templateName(String name) {
    InvalidFieldException.required("name", name);
    TemplateRef ref = renamed("name", name, () -> TemplateRef.of(name));
    if (ref.isDigest()) throw new InvalidFieldException("name", "must be a name, not a digest", name);
    return name;
  }

  /** Name, distribution and packages, each refused by its own field before anything is built. */
  static io.berth.isolation.template.TemplateBuild templateBuild(Requests.BuildTemplate body) {
    templateName(body.name());
    return io.berth.isolation.template.TemplateBuild.of(body.name(), body.distribution(), body.include());
  }

  static Path templateSource(String path) {
    InvalidFieldException.required("path", path);
    if (path.indexOf('\0') >= 0 || path.length() > 4096) throw new InvalidFieldException("path", "must be a file system path of at most 4096 characters", path);
    Path p = Path.of(path);
    if (!p.isAbsolute()) throw new InvalidFieldException("path", "must be absolute (a path on the node)", path);
    return p.normalize();
  }

  static Instant instant(String field, String text) {
    try {
      return Instant.parse(text.trim());
    } catch (DateTimeParseException e) {
      throw new InvalidFieldException(field, "must be an ISO-8601 time such as 2025-01-31T12:00:00Z", text);
    }
  }

  static int pageSize(Optional<String> text) {
    if (text.isEmpty()) return DEFAULT_PAGE;
    long n = wholeNumber("limit", text.get());
    if (n < 1 || n > MAX_PAGE) throw new InvalidFieldException("limit", "must be between 1 and " + MAX_PAGE, n);
    return (int) n;
  }

  static long fromSeqNr(Optional<String> text) {
    if (text.isEmpty()) return 1;
    long n = wholeNumber("from", text.get());
    if (n < 1) throw new InvalidFieldException("from", "must be a sequence number of at least 1", n);
    return n;
  }

  static String offset(String text) {
    if (text.length() > 256 || !text.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new InvalidFieldException("offset", "must be at most 256 printable ASCII characters (an offset the stream gave)", text);
    }
    return text;
  }

  static CommandContext context(String principal, String reason, String correlationId) {
    return new CommandContext(principal, reason, correlationId);
  }

  static long wholeNumber(String field, String text) {
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw new InvalidFieldException(field, "must be a whole number", text);
    }
  }

  /** Runs {@code make}, reporting a broken rule under {@code field} (the name the client used). */
  private static <T> T renamed(String field, String value, Supplier<T> make) {
    try {
      return make.get();
    } catch (InvalidFieldException e) {
      throw new InvalidFieldException(field, e.rule(), value);
    }
  }

  /** A token's lifetime from now: at least a minute (a shorter one expires before it is used), at most ten years. */
  static Optional<java.time.Duration> tokenExpiry(String text) {
    if (text == null || text.isEmpty()) return Optional.empty();
    java.time.Duration d = io.berth.protocol.spec.Durations.parse("expires", text);
    if (d.compareTo(java.time.Duration.ofMinutes(1)) < 0 || d.compareTo(java.time.Duration.ofDays(3650)) > 0) {
      throw new InvalidFieldException("expires", "must be a duration from 1m to 3650d (30d, 12h), or absent for a token that does not expire", text);
    }
    return Optional.of(d);
  }
}
