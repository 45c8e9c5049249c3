package io.berth.node.agent;

import io.berth.isolation.ContainerExit;
import io.berth.isolation.ContainerInfo;
import io.berth.isolation.ContainerStatus;
import io.berth.isolation.ExecResult;
import io.berth.isolation.IsolationException;
import io.berth.isolation.IsolationLayer;
import io.berth.isolation.NetworkAttachment;
import io.berth.isolation.checkpoint.Checkpoint;
import io.berth.node.checkpoint.CheckpointScheduler;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The container runtime the product runs: the host's real isolation layer (namespaces, overlayfs,
 * cgroups, veth on the host's bridge). Exits reach the entities through the layer's exit watcher, so an
 * init that ends is noticed at once, not by polling.
 */
public final class IsolationRuntime implements ContainerRuntime, CheckpointScheduler.Host {
  /** Extra time, past a stop's own timeout, to wait for the watcher to report the exit. */
  private static final Duration EXIT_REPORT_GRACE = Duration.ofSeconds(5);

  private final IsolationLayer layer;
  private final String bridge;
  private final String gateway;
  private final Consumer<ContainerSpec> beforeStart;
  private final java.util.function.Supplier<java.util.Optional<String>> mayNotAct;
  private final Map<ContainerId, Consumer<Exit>> watchers = new ConcurrentHashMap<>();
  private final Map<ContainerId, CompletableFuture<Exit>> awaited = new ConcurrentHashMap<>();
  private volatile String hostName = "unnamed";
  private volatile CheckpointScheduler checkpoints;

  /**
   * @param bridge      the host's container bridge, joined to the cluster's layer-2 segment
   * @param gateway     the bridge's own address, the containers' default route
   * @param beforeStart runs before every start of an init, and may refuse it by throwing (the host's fence: a
   *                    container on shared storage starts only while the watchdog is fed its short deadline)
   * @param mayNotAct   the host's fence: why this node may not act on its containers now, if so
   */
  public IsolationRuntime(IsolationLayer layer, String bridge, String gateway, Consumer<ContainerSpec> beforeStart,
      java.util.function.Supplier<java.util.Optional<String>> mayNotAct) {
    this.beforeStart = beforeStart;
    this.mayNotAct = mayNotAct;
    this.layer = layer;
    this.bridge = bridge;
    this.gateway = gateway;
    layer.onExit(this::exited);
  }

  /**
   * Starts this host's one checkpoint scheduler ({@link CheckpointScheduler}): {@code host} names the host in each
   * checkpoint's manifest; checkpoints run on {@code blocking}, at most {@code parallel} at once. Until then a schedule
   * is refused.
   */
  public IsolationRuntime withCheckpoints(HostId host, Executor blocking, Duration tick, int parallel) {
    this.hostName = host.value();
    this.checkpoints = new CheckpointScheduler(this, blocking, java.time.Clock.systemUTC(), tick, parallel);
    return this;
  }

  /** Stops the checkpoint scheduler (the node stops); the containers and their kept checkpoints stay. */
  public void stopCheckpoints() {
    if (checkpoints != null) checkpoints.close();
  }

  @Override
  public long start(ContainerSpec spec, String address, int prefixLength) {
    prepareOrRevive(spec, address, prefixLength);
    return layer.start(spec.id());
  }

  @Override
  public Restored startFromCheckpoint(ContainerSpec spec, String address, int prefixLength, long checkpoint) {
    prepareOrRevive(spec, address, prefixLength);
    ContainerId id = spec.id();
    Optional<Checkpoint> cp = layer.checkpoints().flatMap(s -> s.kept(id).stream().filter(c -> c.sequence() == checkpoint).findFirst());
    String why;
    if (cp.isEmpty()) {
      why = "checkpoint " + checkpoint + " is not on this host's shared root (deleted, or its manifest does not read)";
    } else {
      try {
        return new Restored(layer.restoreCheckpoint(id, cp.get()), "");
      } catch (RuntimeException e) {
        why = "restore of checkpoint " + checkpoint + " failed: " + e.getMessage();
      }
    }
    // The failed restore left it prepared: it starts cold from its disk.
    return new Restored(layer.start(id), why);
  }

  /** Makes sure the container is prepared here (a shared disk adopted in place), its limits applied, before its init runs. */
  private void prepareOrRevive(ContainerSpec spec, String address, int prefixLength) {
    beforeStart.accept(spec);
    ContainerInfo info = layer.inspect(spec.id());
    if (info.status() == ContainerStatus.ABSENT) {
      layer.prepare(spec, new NetworkAttachment(address, prefixLength, gateway, bridge));
    } else {
      // After a reboot or `berth down` its mount, cgroup and network are gone: set them up again.
      layer.revive(spec.id());
      // Limits changed while it was stopped (or its cgroup was gone): the cgroup takes them before the init starts.
      if (!Objects.equals(info.limits(), spec.limits())) layer.setLimits(spec.id(), spec.limits());
    }
  }

  @Override
  public Optional<CheckpointFacts> latestCheckpoint(ContainerId id) {
    return layer.checkpoints().flatMap(s -> s.latest(id))
        .map(c -> new CheckpointFacts(c.sequence(), c.takenAt(), c.frozenMillis(), c.host(), c.initPid()));
  }

  @Override
  public void scheduleCheckpoints(ContainerId id, Duration every) {
    CheckpointScheduler s = checkpoints;
    if (s == null) throw new IllegalStateException("container " + id + ": this node's checkpoint scheduler has not started");
    s.schedule(id, every);
  }

  // --- CheckpointScheduler.Host: what the scheduler does on this host's layer ----------------------

  @Override
  public boolean running(ContainerId id) {
    return layer.inspect(id).status() == ContainerStatus.RUNNING;
  }

  @Override
  public void checkpoint(ContainerId id) {
    try {
      layer.takeCheckpoint(id, hostName);
    } catch (RuntimeException e) {
      // Stopped meanwhile (the schedule's check raced with a stop): not a failure of the checkpoints.
      if (!running(id)) layer.checkpoints().ifPresent(s -> s.clearFailure(id));
      throw e;
    }
  }

  @Override
  public void deleteCheckpoints(ContainerId id) {
    layer.checkpoints().ifPresent(s -> s.deleteAll(id));
  }

  @Override
  public Exit stop(ContainerId id, Duration timeout) {
    CompletableFuture<Exit> exit = expectExit(id);
    layer.stop(id, timeout);
    return awaitExit(id, exit, timeout.plus(EXIT_REPORT_GRACE)).orElse(new Exit(-1, 0));
  }

  @Override
  public Optional<Exit> kill(ContainerId id, int signal, Duration wait) {
    CompletableFuture<Exit> exit = expectExit(id);
    layer.kill(id, signal);
    return awaitExit(id, exit, wait);
  }

  @Override
  public void destroy(ContainerId id) {
    watchers.remove(id);
    if (checkpoints != null) checkpoints.remove(id);
    layer.destroy(id);
  }

  @Override
  public void setLimits(ContainerId id, Limits limits) {
    layer.setLimits(id, limits);
  }

  @Override
  public ExecOutput exec(ContainerId id, List<String> argv, Duration timeout) {
    ExecResult r = layer.exec(id, argv, timeout);
    String stderr = r.timedOut() ? r.stderr() + "berth: exec timed out after " + timeout.toSeconds() + " s\n" : r.stderr();
    return new ExecOutput(r.exitCode(), r.stdout(), stderr, r.truncated());
  }

  @Override
  public java.util.Optional<String> mayNotAct() {
    return mayNotAct.get();
  }

  @Override
  public Observed observe(ContainerId id) {
    ContainerInfo info = layer.inspect(id);
    if (info.status() == ContainerStatus.RUNNING) return new Observed(info.initPid(), true, Optional.empty());
    if (info.status() == ContainerStatus.ABSENT) return new Observed(0, false, Optional.empty());
    return new Observed(0, true, layer.lastExit(id).map(IsolationRuntime::exitOf));
  }

  @Override
  public void watchExit(ContainerId id, long pid, Consumer<Exit> onExit) {
    watchers.put(id, onExit);
    ContainerInfo info = layer.inspect(id);
    if (info.status() != ContainerStatus.RUNNING || info.initPid() != pid) {
      // It ended before the watch was set: report it now, with the status its shim recorded (the exit file is
      // written before the layer calls it stopped, and removed at each start), or unknown when there is none.
      Consumer<Exit> w = watchers.remove(id);
      if (w != null) w.accept(layer.lastExit(id).map(IsolationRuntime::exitOf).orElse(new Exit(-1, 0)));
    }
  }

  private CompletableFuture<Exit> expectExit(ContainerId id) {
    CompletableFuture<Exit> f = new CompletableFuture<>();
    awaited.put(id, f);
    return f;
  }

  private Optional<Exit> awaitExit(ContainerId id, CompletableFuture<Exit> exit, Duration within) {
    try {
      return Optional.of(exit.get(within.toMillis(), TimeUnit.MILLISECONDS));
    } catch (TimeoutException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IsolationException("await exit", id.value(), e);
    } catch (ExecutionException e) {
      throw new IsolationException("await exit", id.value(), e.getCause());
    } finally {
      awaited.remove(id, exit);
    }
  }

  private static Exit exitOf(ContainerExit e) {
    // A systemd that powered off (from inside or asked by a stop) ended cleanly: an exit 0, not "killed by SIGINT".
    if (e.shutDown()) return new Exit(0, 0);
    // A reboot asked from inside is as clean, and the guest wants to run again: the entity starts it in place.
    if (e.rebooted()) return new Exit(0, 0, true);
    return e.exitCode().isPresent() ? new Exit(e.exitCode().getAsInt(), 0)
        : e.signal().isPresent() ? new Exit(128 + e.signal().getAsInt(), e.signal().getAsInt())
        : new Exit(-1, 0);
  }

  private void exited(ContainerExit e) {
    Exit exit = exitOf(e);
    CompletableFuture<Exit> waiting = awaited.get(e.id());
    if (waiting != null) waiting.complete(exit);
    // An exit somebody asked for is the outcome of that request; the others go to the entity as exits.
    Consumer<Exit> watcher = watchers.remove(e.id());
    if (watcher != null && waiting == null) watcher.accept(exit);
  }
}
