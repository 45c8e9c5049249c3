package io.berth.node.fence;

import io.berth.isolation.IsolationLayer;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.directory.DirectoryState;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The copies this host's kernel holds that the log places elsewhere, found and removed while the node runs (what
 * {@link HostReturn} does once for a host that comes back fenced). A container's log is its truth (invariant 3): a
 * copy on a host its log does not name is never used again, and one that runs is a second copy. Such a copy is
 * rare and always the end of a race between hosts (CI's chaos run found one: a container the log says is stopped on
 * node-1, started on node-2 by a move's restore that was undone meanwhile, and running there for good, as nothing on
 * node-2 ever looked at it again).
 *
 * <p>A copy is removed only when every source agrees it is stray, twice, a sweep apart: the directory places the
 * container on another host (or nowhere) with no create, resize or move under way; its entity, asked, names another
 * host and no move (or says it was destroyed); and no move to this host holds it here ({@code movingHere}). A log
 * that holds nothing of the name, an entity that does not answer, or a directory that cannot be read decide nothing:
 * the copy stays until a later sweep can tell. A shared disk image stays where it is (its container's host may be
 * writing it); a local one is deleted with the copy (the container runs on another disk). Each removal goes in the
 * host's log ({@code StrayCopyRemoved}, through {@link StrayReports}).
 */
public final class StrayCopies {
  private static final Logger log = LoggerFactory.getLogger(StrayCopies.class);

  /** How often a node looks: a stray is gone at most two sweeps and a little after it was first seen. */
  public static final Duration SWEEP_EVERY = Duration.ofSeconds(20);

  private final IsolationLayer layer;
  private final HostId me;
  private final Optional<Path> sharedRoot;
  private final Supplier<Optional<DirectoryState>> directory;
  private final Function<ContainerId, Optional<ContainerState>> entity;
  private final Predicate<ContainerId> movingHere;
  private final Consumer<RemovedCopy> report;
  /** The copies found stray by the last sweep, with why: removed if the next one finds them stray again. */
  private Map<ContainerId, String> strayBefore = Map.of();

  /**
   * @param directory  the directory now, or empty when it cannot be read
   * @param entity     the container's state as its entity answers, or empty when it does not answer
   * @param movingHere whether a move to this host holds the container here now (its receiver or its restore)
   * @param report     puts a removal in the host's log (StrayReports)
   */
  public StrayCopies(IsolationLayer layer, HostId me, Optional<Path> sharedRoot, Supplier<Optional<DirectoryState>> directory,
      Function<ContainerId, Optional<ContainerState>> entity, Predicate<ContainerId> movingHere, Consumer<RemovedCopy> report) {
    this.layer = layer;
    this.me = me;
    this.sharedRoot = sharedRoot;
    this.directory = directory;
    this.entity = entity;
    this.movingHere = movingHere;
    this.report = report;
  }

  /** One sweep; not thread-safe (one runs at a time). Returns the copies removed. */
  public List<RemovedCopy> sweep() {
    List<ContainerId> here = layer.ids();
    if (here.isEmpty()) {
      strayBefore = Map.of();
      return List.of();
    }
    Optional<DirectoryState> dir = directory.get();
    if (dir.isEmpty()) return List.of(); // nothing decided: the strays seen before stay candidates
    Map<ContainerId, String> strayNow = new HashMap<>();
    List<RemovedCopy> removed = new ArrayList<>();
    for (ContainerId id : here) {
      if (!placedElsewhere(dir.get(), id) || movingHere.test(id)) continue;
      Optional<String> why = entity.apply(id).flatMap(state -> strayBecause(state, me));
      if (why.isEmpty()) continue;
      strayNow.put(id, why.get());
      if (!strayBefore.containsKey(id)) {
        log.warn("container {}: this host holds a copy although {}; removed at the next sweep if that still holds", id, why.get());
        continue;
      }
      if (movingHere.test(id)) continue; // a move began since: its saga decides
      try {
        RemovedCopy copy = new RemovedCopy(id, why.get(), HostReturn.removeCopy(layer, id, sharedRoot));
        removed.add(copy);
        strayNow.remove(id);
        report.accept(copy);
      } catch (RuntimeException e) {
        log.error("container {}: cannot remove this host's stray copy ({}): {}", id, why.get(), e.getMessage());
      }
    }
    strayBefore = Map.copyOf(strayNow);
    if (!removed.isEmpty()) log.error("host {}: removed {} copies the log places elsewhere: {}", me, removed.size(), removed);
    return removed;
  }

  /** The directory places it on another host or nowhere, and no saga of it is under way. */
  private boolean placedElsewhere(DirectoryState dir, ContainerId id) {
    return !dir.hostOf(id).map(me::equals).orElse(false) && !dir.reservations().containsKey(id);
  }

  /** Why the entity's state makes {@code me}'s copy stray, or empty when it may belong here (or cannot tell). */
  static Optional<String> strayBecause(ContainerState state, HostId me) {
    if (!(state instanceof ContainerState.Live live) || state instanceof ContainerState.Migrating) return Optional.empty();
    if (live.data().pending().isPresent()) return Optional.empty(); // an operation under way (a destroy tearing it down) decides
    if (state instanceof ContainerState.Destroyed) return Optional.of("its log says it was destroyed");
    Optional<HostId> host = live.data().host();
    if (host.isEmpty() || host.get().equals(me)) return Optional.empty();
    return Optional.of("its log says " + state.phase() + " on host " + host.get());
  }
}
