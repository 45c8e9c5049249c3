package io.berth.isolation;

import io.berth.protocol.ids.ContainerId;
import java.util.OptionalInt;

/**
 * A container's init ended. Exactly one of exitCode and signal is present, or neither when the
 * shim that waits for the init was itself killed and the status is lost.
 *
 * @param requested true when Berth asked for it (stop, kill, destroy, checkpoint)
 */
public record ContainerExit(ContainerId id, OptionalInt exitCode, OptionalInt signal, boolean requested) {
  @Override
  public String toString() {
    String how = exitCode.isPresent() ? "exited " + exitCode.getAsInt()
        : signal.isPresent() ? "killed by signal " + signal.getAsInt() : "ended (status lost)";
    return id + " " + how + (requested ? " (requested)" : "");
  }
}
