package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.DnsLabel;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the operator asked for: everything needed to run the container on any host. Validated at
 * construction, so a spec that exists is a spec that can be acted on (host-dependent limits aside).
 *
 * @param id        the container's name
 * @param template  the root filesystem it runs on
 * @param hostname  its hostname (defaults to the id)
 * @param command   its init, argv form; empty means the template's default ({@code /bin/sh})
 * @param limits    cpu, memory, disk, pids
 * @param restart   what to do when the init exits or the host dies
 * @param labels    the operator's labels
 * @param placement where it may run
 * @param privileged run without the user namespace and the other confinement layers: root inside is
 *                   root on the host. Off unless the operator asks for it by name ({@code --privileged});
 *                   shown in {@code ct show} and recorded in the log like every other field
 * @param storage   where its disk image lives ({@link Storage}): what happens to it when its host dies
 * @param haPriority the order in which a dead host's containers are restarted elsewhere: higher first
 *                   (0..{@value #MAX_HA_PRIORITY}, default 0); placement fills the survivors in that order
 * @param checkpointEvery how often its host takes a checkpoint of it while it runs ({@code criu dump --leave-running}
 *                   onto shared storage), restored when it fails over; {@link Duration#ZERO}: never (the default).
 *                   Off, or {@link #MIN_CHECKPOINT_EVERY} to {@link #MAX_CHECKPOINT_EVERY}; only on shared storage
 */
public record ContainerSpec(
    ContainerId id,
    TemplateRef template,
    String hostname,
    List<String> command,
    Limits limits,
    RestartPolicy restart,
    Map<String, String> labels,
    PlacementConstraints placement,
    boolean privileged,
    Storage storage,
    int haPriority,
    Duration checkpointEvery) {

  public static final int MAX_COMMAND_ARGS = 256;
  public static final int MAX_COMMAND_BYTES = 64 * 1024;
  public static final int MAX_HA_PRIORITY = 1000;
  /** Below this a checkpoint's frozen time (a few hundred ms) would be a noticeable share of the container's time. */
  public static final Duration MIN_CHECKPOINT_EVERY = Duration.ofSeconds(10);
  public static final Duration MAX_CHECKPOINT_EVERY = Duration.ofHours(24);

  public ContainerSpec {
    InvalidFieldException.required("id", id);
    InvalidFieldException.required("template", template);
    hostname = hostname == null || hostname.isEmpty() ? id.value() : hostname;
    if (!DnsLabel.isValid(hostname)) throw new InvalidFieldException("hostname", DnsLabel.RULE, hostname);
    command = command == null ? List.of() : List.copyOf(command);
    checkCommand(command);
    limits = limits == null ? Limits.DEFAULT : limits;
    restart = restart == null ? RestartPolicy.NEVER : restart;
    labels = Labels.check("labels", labels);
    placement = placement == null ? PlacementConstraints.NONE : placement;
    storage = storage == null ? Storage.LOCAL : storage;
    if (haPriority < 0 || haPriority > MAX_HA_PRIORITY) {
      throw new InvalidFieldException("haPriority", "must be an integer from 0 to " + MAX_HA_PRIORITY, haPriority);
    }
    checkpointEvery = checkpointEvery == null ? Duration.ZERO : checkpointEvery;
    checkCheckpointEvery(checkpointEvery, storage);
  }

  /** On local storage, HA priority 0, no checkpoints: the spec as it was before storage classes existed. */
  public ContainerSpec(ContainerId id, TemplateRef template, String hostname, List<String> command, Limits limits,
      RestartPolicy restart, Map<String, String> labels, PlacementConstraints placement, boolean privileged, Storage storage, int haPriority) {
    this(id, template, hostname, command, limits, restart, labels, placement, privileged, storage, haPriority, Duration.ZERO);
  }

  /** The schedule rules: off, or from 10 s to 24 h, and only where checkpoints can be kept (shared storage). */
  private static void checkCheckpointEvery(Duration every, Storage storage) {
    if (every.isZero()) return;
    if (every.isNegative() || every.compareTo(MIN_CHECKPOINT_EVERY) < 0 || every.compareTo(MAX_CHECKPOINT_EVERY) > 0) {
      throw new InvalidFieldException("checkpointEvery", "must be off or from 10s to 24h", Durations.format(every));
    }
    if (storage != Storage.SHARED) {
      throw new InvalidFieldException("checkpointEvery", "checkpoints are kept on shared storage: needs --storage shared",
          Durations.format(every));
    }
  }

  /** On local storage, HA priority 0: the spec as it was before storage classes existed. */
  public ContainerSpec(ContainerId id, TemplateRef template, String hostname, List<String> command, Limits limits,
      RestartPolicy restart, Map<String, String> labels, PlacementConstraints placement, boolean privileged) {
    this(id, template, hostname, command, limits, restart, labels, placement, privileged, Storage.LOCAL, 0, Duration.ZERO);
  }

  /** An unprivileged (confined) container: the default. */
  public ContainerSpec(ContainerId id, TemplateRef template, String hostname, List<String> command, Limits limits,
      RestartPolicy restart, Map<String, String> labels, PlacementConstraints placement) {
    this(id, template, hostname, command, limits, restart, labels, placement, false);
  }

  private static void checkCommand(List<String> command) {
    if (command.size() > MAX_COMMAND_ARGS) {
      throw new InvalidFieldException("command", "must have at most " + MAX_COMMAND_ARGS + " arguments", command.size());
    }
    long bytes = 0;
    for (int i = 0; i < command.size(); i++) {
      String arg = command.get(i);
      if (arg.indexOf('\0') >= 0) throw new InvalidFieldException("command[" + i + "]", "must not contain a NUL byte", arg);
      bytes += arg.length() + 1;
    }
    if (!command.isEmpty() && command.get(0).isEmpty()) {
      throw new InvalidFieldException("command[0]", "must name a program", "");
    }
    if (bytes > MAX_COMMAND_BYTES) throw new InvalidFieldException("command", "must be at most 64 KiB in all", bytes);
  }

  /** The argv the init runs: the command, or {@code /bin/sh} when none was given. */
  public List<String> argv() {
    return command.isEmpty() ? List.of("/bin/sh") : command;
  }

  public ContainerSpec withLimits(Limits newLimits) {
    return new ContainerSpec(id, template, hostname, command, newLimits, restart, labels, placement, privileged, storage, haPriority, checkpointEvery);
  }

  public ContainerSpec withPlacement(PlacementConstraints newPlacement) {
    return new ContainerSpec(id, template, hostname, command, limits, restart, labels, newPlacement, privileged, storage, haPriority, checkpointEvery);
  }

  /** The same spec checkpointed every {@code every} ({@link Duration#ZERO}: never); the rules apply. */
  public ContainerSpec withCheckpointEvery(Duration every) {
    return new ContainerSpec(id, template, hostname, command, limits, restart, labels, placement, privileged, storage, haPriority, every);
  }

  /** Whether its host takes periodic checkpoints of it. */
  public boolean checkpoints() {
    return !checkpointEvery.isZero();
  }

  /** Whether a dead host's copy of it is restarted elsewhere without the operator: shared storage, and a policy that restarts. */
  public boolean failsOver() {
    return storage == Storage.SHARED && restart != RestartPolicy.NEVER;
  }
}
