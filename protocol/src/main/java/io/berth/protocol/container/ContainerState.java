package io.berth.protocol.container;

import io.berth.protocol.container.ContainerEvent.*;
import io.berth.protocol.container.MigrationProgress.Step;
import io.berth.protocol.event.EventHashes;
import io.berth.protocol.ids.ContainerId;
import java.time.Instant;

/**
 * A container's state, one record per lifecycle phase, and the pure fold {@link #apply} from events to
 * state. The container entity uses this fold as its event handler and the audit service uses it for
 * "state at time T": one implementation, so both always agree (invariant 5).
 *
 * <p>An event that cannot happen in the current phase means the log is corrupt or was written by a
 * different program: the fold throws {@link IllegalStateException} rather than guess, so an entity
 * never starts with a silently wrong state.
 */
public sealed interface ContainerState extends io.berth.protocol.BerthMessage {

  ContainerId id();

  /** The phase's name as operators see it: {@code defined}, {@code running}, ... */
  String phase();

  /** The head of this container's hash chain: the hash of the last event applied, empty if none. */
  String lastEventHash();

  /**
   * The directory's reservation (create, resize) this container last took part in or declined; 0 if none.
   * A define or limits change of an older reservation is refused (the fence of the directory's sagas).
   */
  long lastReservation();

  static ContainerState empty(ContainerId id) {
    return new Empty(id, 0, "");
  }

  /**
   * Not defined (yet). Its log is empty, or holds only the directory's reservations it declined
   * ({@code lastReservation}, and the chain's head {@code lastEventHash}).
   */
  record Empty(ContainerId id, long lastReservation, String lastEventHash) implements ContainerState {
    @Override
    public String phase() {
      return "absent";
    }
  }

  /** Defined, never started. */
  record Defined(ContainerData data) implements Live {
    @Override
    public String phase() {
      return "defined";
    }
  }

  /** The init runs as {@code pid} (host pid namespace) since {@code since}. */
  record Running(ContainerData data, long pid, Instant since) implements Live {
    @Override
    public String phase() {
      return "running";
    }
  }

  /** Was running; its init is gone (stopped, killed, exited, or fenced with its host). */
  record Stopped(ContainerData data) implements Live {
    @Override
    public String phase() {
      return "stopped";
    }
  }

  /** A migration saga is under way. */
  record Migrating(ContainerData data, MigrationProgress progress) implements Live {
    @Override
    public String phase() {
      return "migrating";
    }
  }

  /**
   * Its host was fenced while it held the container's only disk (local storage): nothing runs it. It waits for its
   * host to come back or for the operator's {@code berth ct recover}. {@code wasRunning}: it ran when its host was lost.
   */
  record Lost(ContainerData data, io.berth.protocol.ids.HostId host, boolean wasRunning, String reason, Instant since) implements Live {
    @Override
    public String phase() {
      return "lost";
    }
  }

  /** Destroyed: nothing is left of it on any host. Final. */
  record Destroyed(ContainerData data) implements Live {
    @Override
    public String phase() {
      return "destroyed";
    }
  }

  /** Every phase after {@code ContainerDefined}: it has data. */
  sealed interface Live extends ContainerState permits Defined, Running, Stopped, Migrating, Lost, Destroyed {
    ContainerData data();

    @Override
    default ContainerId id() {
      return data().id();
    }

    @Override
    default String lastEventHash() {
      return data().lastEventHash();
    }

    @Override
    default long lastReservation() {
      return data().lastReservation();
    }
  }

  /** The fold: the state after {@code event}. Pure; never touches the kernel. */
  default ContainerState apply(ContainerEvent event) {
    ContainerState next = ContainerFold.next(this, event);
    Instant at = event.meta().at();
    String hash = EventHashes.hashOf(event);
    return ContainerFold.stamp(next, hash, at);
  }
}
