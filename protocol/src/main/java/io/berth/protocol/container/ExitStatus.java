package io.berth.protocol.container;

import java.time.Instant;

/**
 * How a container's init ended.
 *
 * @param exitCode its exit code, meaningful when {@code signal == 0}
 * @param signal   the signal that killed it, or 0
 * @param at       when Berth recorded it
 */
public record ExitStatus(int exitCode, int signal, Instant at) {
  /** Whether the restart policy {@code on-failure} counts this as a failure. */
  public boolean failed() {
    return signal != 0 || exitCode != 0;
  }

  @Override
  public String toString() {
    return signal != 0 ? "killed by signal " + signal : "exit code " + exitCode;
  }
}
