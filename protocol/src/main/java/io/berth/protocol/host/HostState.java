package io.berth.protocol.host;

import io.berth.protocol.event.EventHashes;
import io.berth.protocol.host.HostEvent.*;
import io.berth.protocol.ids.HostId;
import java.time.Instant;
import java.util.Map;

/**
 * A host's state, one record per phase, and the pure fold {@link #apply} the host entity and the audit
 * service share. An event impossible in the current phase throws (a corrupt or foreign log).
 */
public sealed interface HostState extends io.berth.protocol.BerthMessage {

  HostId id();

  String phase();

  String lastEventHash();

  static HostState empty(HostId id) {
    return new Unregistered(id, "");
  }

  /** No node has registered this host yet. */
  record Unregistered(HostId id, String lastEventHash) implements HostState {
    @Override
    public String phase() {
      return "unregistered";
    }
  }

  /**
   * A registered host.
   *
   * @param cordoned     takes no new containers
   * @param draining     its containers are being moved off
   * @param drain        how, while draining
   * @param lastDrainLeft the containers the last drain could not move, each "name: why"
   */
  record Active(HostInfo info, boolean cordoned, boolean draining, java.util.Optional<DrainPlan> drain, java.util.List<String> lastDrainLeft,
      String lastEventHash) implements HostState {
    public Active(HostInfo info, boolean cordoned, boolean draining, String lastEventHash) {
      this(info, cordoned, draining, draining ? java.util.Optional.of(new DrainPlan(DrainMode.LIVE, 1, info.registeredAt())) : java.util.Optional.empty(),
          java.util.List.of(), lastEventHash);
    }

    @Override
    public HostId id() {
      return info.id();
    }

    @Override
    public String phase() {
      return draining ? "draining" : cordoned ? "cordoned" : "ready";
    }
  }

  /** Lost the cluster and fenced; takes nothing until it rejoins. */
  record Fenced(HostInfo info, String by, String evidence, Instant since, String lastEventHash) implements HostState {
    @Override
    public HostId id() {
      return info.id();
    }

    @Override
    public String phase() {
      return "fenced";
    }
  }

  /** What a registered host told about itself. */
  record HostInfo(HostId id, HostCapacity capacity, Map<String, String> labels, String address, Instant registeredAt, long incarnation,
      Overcommit overcommit) {
    public HostInfo(HostId id, HostCapacity capacity, Map<String, String> labels, String address, Instant registeredAt) {
      this(id, capacity, labels, address, registeredAt, 0, Overcommit.NONE);
    }
  }

  /** Whether placement may put a new container here. */
  default boolean schedulable() {
    return this instanceof Active a && !a.cordoned() && !a.draining();
  }

  /** The fold: the state after {@code event}. Pure. */
  default HostState apply(HostEvent event) {
    String hash = EventHashes.hashOf(event);
    Instant at = event.meta().at();
    // A report of the past: the host's phase is what it is now.
    if (event instanceof HostSelfFenced || event instanceof StrayCopyRemoved) return withHash(hash);
    if (event instanceof HostRegistered e) {
      HostInfo info = new HostInfo(id(), e.capacity(), e.labels(), e.address(), at, e.incarnation(), e.overcommit());
      if (this instanceof Active a) return new Active(info, a.cordoned(), a.draining(), a.drain(), a.lastDrainLeft(), hash);
      if (this instanceof Fenced) throw mismatch(event, "a fenced host must rejoin first");
      return new Active(info, false, false, hash);
    }
    if (this instanceof Active a) {
      if (event instanceof HostCordoned) return new Active(a.info(), true, a.draining(), a.drain(), a.lastDrainLeft(), hash);
      // Uncordon ends a drain too: the operator takes the host back as it is.
      if (event instanceof HostUncordoned) return new Active(a.info(), false, false, java.util.Optional.empty(), a.lastDrainLeft(), hash);
      if (event instanceof DrainRequested e) {
        return new Active(a.info(), true, true, java.util.Optional.of(new DrainPlan(e.mode(), e.parallel(), at)), java.util.List.of(), hash);
      }
      if (event instanceof HostDrained e) return new Active(a.info(), true, false, java.util.Optional.empty(), e.notMoved(), hash);
      if (event instanceof HostFenced e) return new Fenced(a.info(), e.by(), e.evidence(), at, hash);
    }
    if (this instanceof Fenced f) {
      if (event instanceof HostRejoined) return new Active(f.info(), false, false, hash);
      if (event instanceof HostFenced) return new Fenced(f.info(), f.by(), f.evidence(), f.since(), hash);
    }
    throw mismatch(event, "not in this phase");
  }

  private HostState withHash(String hash) {
    if (this instanceof Active a) return new Active(a.info(), a.cordoned(), a.draining(), a.drain(), a.lastDrainLeft(), hash);
    if (this instanceof Fenced f) return new Fenced(f.info(), f.by(), f.evidence(), f.since(), hash);
    throw new IllegalStateException("host " + id() + " is " + phase() + ": cannot apply a self-fence report (not registered)");
  }

  private IllegalStateException mismatch(HostEvent event, String why) {
    return new IllegalStateException("host " + id() + " is " + phase() + ": cannot apply "
        + event.getClass().getSimpleName() + " (" + why + ")");
  }
}
