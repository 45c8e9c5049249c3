package io.berth.isolation;

import io.berth.protocol.ids.ContainerId;
import java.util.OptionalInt;

/**
 * A container's init ended. Exactly one of exitCode and signal is present, or neither when the
 * shim that waits for the init was itself killed and the status is lost.
 *
 * @param requested true when Berth asked for it (stop, kill, destroy, checkpoint)
 * @param shutDown a systemd init that finished its own shutdown (power-off or halt, asked from inside or by a stop):
 *     the kernel ended it by SIGINT, as it ends any pid namespace's init that calls reboot(2); a clean end, not a crash
 * @param rebooted a systemd init that finished a reboot asked from inside ({@code reboot}, {@code systemctl reboot}):
 *     the kernel ended it by SIGHUP (pid_namespaces(7)); the guest wants to run again, in place
 */
public record ContainerExit(ContainerId id, OptionalInt exitCode, OptionalInt signal, boolean requested, boolean shutDown, boolean rebooted) {
  public ContainerExit(ContainerId id, OptionalInt exitCode, OptionalInt signal, boolean requested) {
    this(id, exitCode, signal, requested, false, false);
  }

  @Override
  public String toString() {
    String how = exitCode.isPresent() ? "exited " + exitCode.getAsInt()
        : signal.isPresent() ? "killed by signal " + signal.getAsInt() : "ended (status lost)";
    return id + " " + how + (shutDown ? " (its systemd shut down)" : "") + (rebooted ? " (its systemd rebooted)" : "") + (requested ? " (requested)" : "");
  }
}
