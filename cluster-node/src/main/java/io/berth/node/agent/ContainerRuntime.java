package io.berth.node.agent;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * What a container entity needs of its host's OS-virtualization layer: the narrow interface between
 * the entities and the isolation layer (style habit 10), so the entity logic is testable on its own.
 * The product runs {@link IsolationRuntime}, backed by the real isolation layer.
 *
 * <p>Every method blocks (syscalls, CRIU, iproute2): entities call them on the blocking dispatcher,
 * never on an actor thread. Failures throw {@link RuntimeException}s whose message names the step and
 * the container.
 */
public interface ContainerRuntime {

  /**
   * Makes sure the container's rootfs, cgroup and network exist (creates what is missing), then starts
   * its init. Returns the init's pid in the host's pid namespace.
   */
  long start(ContainerSpec spec, String address, int prefixLength);

  /** SIGTERM to the init, SIGKILL after {@code timeout}; returns how it ended. */
  Exit stop(ContainerId id, Duration timeout);

  /** Sends {@code signal} to the init and waits up to {@code wait} for it to end; empty if it did not. */
  java.util.Optional<Exit> kill(ContainerId id, int signal, Duration wait);

  /** Removes processes, mounts, cgroup, veth and directories: nothing is left. Idempotent. */
  void destroy(ContainerId id);

  /** Applies new limits to a running container's cgroup. */
  void setLimits(ContainerId id, Limits limits);

  /** Runs {@code argv} inside the running container's namespaces and cgroup. */
  ExecOutput exec(ContainerId id, List<String> argv, Duration timeout);

  /** What the kernel says of the container right now. */
  Observed observe(ContainerId id);

  /**
   * Empty while this node may act on its host's containers; otherwise why not (its JVM just stood still, or it
   * fenced its host and leaves the cluster). The entities then neither start nor record anything: the survivors may
   * have taken over meanwhile (HostFence).
   */
  java.util.Optional<String> mayNotAct();

  /**
   * Calls {@code onExit} once, promptly (not by slow polling), when the init {@code pid} ends. If it has
   * already ended, calls it at once.
   */
  void watchExit(ContainerId id, long pid, Consumer<Exit> onExit);

  /**
   * Makes sure the container is prepared (a shared disk adopted in place), then restores its periodic checkpoint
   * {@code checkpoint} instead of starting its init; when that restore fails, starts it cold from its disk and says
   * why in {@link Restored#notRestored}. The start after a failover that found a checkpoint of the copy that ran.
   */
  Restored startFromCheckpoint(ContainerSpec spec, String address, int prefixLength, long checkpoint);

  /** The newest complete periodic checkpoint of the container on shared storage, if any (read from any host). */
  java.util.Optional<CheckpointFacts> latestCheckpoint(ContainerId id);

  /**
   * This host checkpoints the container every {@code every} while it runs here ({@link Duration#ZERO}: no more, and
   * its kept checkpoints are deleted). Returns at once: the host's one scheduler takes them.
   */
  void scheduleCheckpoints(ContainerId id, Duration every);

  /** A start that restored a checkpoint: the init's pid, and why the checkpoint was not restored (empty when it was). */
  record Restored(long pid, String notRestored) {}

  /**
   * A checkpoint as its manifest records it: its sequence, when it was taken, how long the container was frozen for it,
   * and the copy dumped (the host and that copy's init pid).
   */
  record CheckpointFacts(long sequence, java.time.Instant takenAt, long frozenMillis, String host, long initPid) {}

  /** How an init ended: exit code, or the signal that killed it (then {@code exitCode} is 128 + signal). */
  /** How an init ended; {@code reboot} when its guest asked to run again in place (a systemd that rebooted). */
  record Exit(int exitCode, int signal, boolean reboot) {
    public Exit(int exitCode, int signal) {
      this(exitCode, signal, false);
    }
  }

  record ExecOutput(int exitCode, String stdout, String stderr, boolean truncated) {}

  /**
   * {@code pid > 0} when the init runs; {@code known} when the host has anything of the container;
   * {@code lastExit} how its last init ended, when that was recorded (empty when the status was lost,
   * as when its host went down under it).
   */
  record Observed(long pid, boolean known, java.util.Optional<Exit> lastExit) {
    public boolean running() {
      return pid > 0;
    }
  }
}
