package io.berth.protocol.spec;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.DnsLabel;
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
    boolean privileged) {

  public static final int MAX_COMMAND_ARGS = 256;
  public static final int MAX_COMMAND_BYTES = 64 * 1024;

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
    return new ContainerSpec(id, template, hostname, command, newLimits, restart, labels, placement, privileged);
  }
}
