package io.berth.protocol.container;

import io.berth.protocol.container.ContainerEvent.*;
import io.berth.protocol.container.ContainerState.*;
import io.berth.protocol.container.MigrationProgress.Step;
import java.time.Instant;

/** The transition table behind {@link ContainerState#apply}; package-private, pure. */
final class ContainerFold {
  private ContainerFold() {}

  static ContainerState next(ContainerState state, ContainerEvent event) {
    if (event instanceof ReservationAccepted e) return reserved(state, event, e.reservation());
    if (event instanceof ReservationDeclined e) return reserved(state, event, e.reservation());
    if (state instanceof Empty) {
      if (event instanceof ContainerDefined e) {
        if (!e.spec().id().equals(state.id())) throw mismatch(state, event, "it defines " + e.spec().id());
        return new Defined(ContainerData.defined(e.spec(), state.lastReservation(), e.meta().at()));
      }
      throw mismatch(state, event, "a container must be defined first");
    }
    if (state instanceof Destroyed) {
      // A destroyed container's name may be used again: a new incarnation, continuing the same log.
      if (event instanceof ContainerDefined e) return new Defined(ContainerData.defined(e.spec(), state.lastReservation(), e.meta().at()));
      throw mismatch(state, event, "a destroyed container takes no more events until it is defined again");
    }
    Live live = (Live) state;
    ContainerData d = live.data();
    Instant at = event.meta().at();

    if (event instanceof ContainerPlaced e) return with(live, d.withHost(e.host()));
    if (event instanceof AddressAssigned e) return with(live, d.withAddress(e.address(), e.prefixLength()));
    if (event instanceof StartRequested) {
      requirePhase(state, event, Defined.class, Stopped.class);
      return with(live, d.withPending(pending(Operation.START, event)).withRestartAttempts(0));
    }
    if (event instanceof RestartScheduled e) {
      requirePhase(state, event, Stopped.class);
      return with(live, d.withPending(pending(Operation.RESTART, event)).withRestartAttempts(e.attempt()));
    }
    if (event instanceof ContainerStarted e) {
      requirePhase(state, event, Defined.class, Stopped.class);
      return new Running(d.withHost(e.host()).settled(), e.pid(), at);
    }
    if (event instanceof ContainerAdopted e) {
      return new Running(d.withHost(e.host()).settled(), e.pid(), at);
    }
    if (event instanceof StopRequested) {
      requirePhase(state, event, Running.class);
      return with(live, d.withPending(pending(Operation.STOP, event)));
    }
    if (event instanceof KillRequested) {
      requirePhase(state, event, Running.class);
      return with(live, d.withPending(pending(Operation.KILL, event)));
    }
    if (event instanceof ContainerStopped e) {
      requirePhase(state, event, Running.class);
      return new Stopped(d.withExit(new ExitStatus(e.exitCode(), e.signal(), at)).settled());
    }
    if (event instanceof ContainerExited e) {
      // An exit can race with a stop the operator asked for: the pending stop is then answered by it.
      requirePhase(state, event, Running.class);
      return new Stopped(d.withExit(new ExitStatus(e.exitCode(), e.signal(), at)).settled());
    }
    if (event instanceof LimitsChangeRequested) {
      return with(live, d.withPending(pending(Operation.SET_LIMITS, event)));
    }
    if (event instanceof LimitsChanged e) {
      return with(live, d.withSpec(d.spec().withLimits(e.limits())).settled());
    }
    if (event instanceof DestroyRequested) {
      return with(live, d.withPending(pending(Operation.DESTROY, event)));
    }
    if (event instanceof ContainerDestroyed) {
      return new Destroyed(d.withAddress("", 0).settled());
    }
    if (event instanceof OperationFailed e) {
      return with(live, d.failed(e.operation().name().toLowerCase(java.util.Locale.ROOT) + ": " + e.error()));
    }
    if (event instanceof ContainerFailedOver e) {
      requirePhase(state, event, Defined.class, Running.class, Stopped.class);
      if (!d.host().map(e.from()::equals).orElse(false)) throw mismatch(state, event, "it is not on host " + e.from());
      if (!(state instanceof Running)) return with(live, d.withHost(e.to()));
      return new Stopped(d.withExit(new ExitStatus(0, 9, at)).withHost(e.to()).withPending(pending(Operation.START, event))
          .withRestoreCheckpoint(e.checkpoint()));
    }
    if (event instanceof CheckpointRestoreFailed e) {
      // The pending start goes on, cold from the disk.
      requirePhase(state, event, Stopped.class);
      if (d.restoreCheckpoint() != e.checkpoint()) throw mismatch(state, event, "its start restores checkpoint " + d.restoreCheckpoint());
      return with(live, d.withRestoreCheckpoint(0));
    }
    if (event instanceof CheckpointScheduleSet e) {
      requirePhase(state, event, Defined.class, Running.class, Stopped.class);
      return with(live, d.withSpec(d.spec().withCheckpointEvery(e.every())));
    }
    if (event instanceof ContainerLost e) {
      requirePhase(state, event, Defined.class, Running.class, Stopped.class);
      if (!d.host().map(e.host()::equals).orElse(false)) throw mismatch(state, event, "it is not on host " + e.host());
      return new Lost(d.settled(), e.host(), state instanceof Running, e.reason(), at);
    }
    if (event instanceof ContainerRecovered e) {
      requirePhase(state, event, Lost.class);
      Lost lost = (Lost) state;
      ContainerData moved = d.withHost(e.to());
      if (!lost.wasRunning()) return new Stopped(moved);
      return new Stopped(moved.withExit(new ExitStatus(0, 9, at)).withPending(pending(Operation.START, event)));
    }
    if (event instanceof ContainerFenced e) {
      if (state instanceof Running) {
        return new Stopped(d.withExit(new ExitStatus(0, 9, at)).settled());
      }
      return with(live, d);
    }
    return migration(live, d, event, at);
  }

  private static ContainerState migration(Live live, ContainerData d, ContainerEvent event, Instant at) {
    if (event instanceof MigrationRequested e) {
      requirePhase(live, event, Defined.class, Running.class, Stopped.class);
      long pid = live instanceof Running r ? r.pid() : 0;
      MigrationProgress p = new MigrationProgress(e.migrationId(), e.source(), e.target(), e.mode(), Step.REQUESTED, pid, 0, e.modeForced(),
          e.postCopy(), false, "", 0, "", at);
      return new Migrating(d.withPending(pending(Operation.MIGRATE, event)), p);
    }
    if (!(live instanceof Migrating m)) throw mismatch(live, event, "no migration is under way");
    String id = migrationIdOf(event);
    if (!m.progress().migrationId().equals(id)) {
      throw mismatch(live, event, "it belongs to migration " + id + ", not " + m.progress().migrationId());
    }
    MigrationProgress p = m.progress();
    if (event instanceof MigrationPreflightPassed) return new Migrating(d, p.at(Step.PREFLIGHT_PASSED));
    if (event instanceof RootfsPreCopied e) return new Migrating(d, p.sent(Step.ROOTFS_PRE_COPIED, e.bytes()));
    if (event instanceof CheckpointTaken) return new Migrating(d, p.at(Step.CHECKPOINTED));
    if (event instanceof ImageTransferred e) return new Migrating(d, p.sent(Step.IMAGE_TRANSFERRED, e.bytes()));
    if (event instanceof ContainerRestored e) return new Migrating(d.withHost(e.host()), p.restored(e.pid()));
    if (event instanceof ContainerMoved e) return new Migrating(d.withHost(e.target()), p.at(Step.MOVED));
    if (event instanceof MigrationFellBackToCold e) return new Migrating(d, p.cold(e.cause()));
    if (event instanceof MemoryPostCopied e) return new Migrating(d, p.postCopied(e.bytes(), e.complete() ? "" : e.cause()));
    if (event instanceof MigrationCompleted e) {
      if (!p.isPast(Step.MOVED)) throw mismatch(live, event, "the directory has not placed it on the target yet");
      ContainerData done = d.settled().withLastMigration(new MigrationRecord(p.migrationId(), p.mode(), p.source(), p.target(), "completed",
          e.downtimeMillis(), e.totalMillis(), p.bytes(), p.fallbackReason(), "", p.postCopied(), p.memoryLost(), at));
      return p.pidAfter() > 0 ? new Running(done, p.pidAfter(), at) : stoppedOrDefined(done);
    }
    if (event instanceof MigrationAborted e) {
      ContainerData back = d.withHost(p.source()).failed("migrate: " + e.cause())
          .withLastMigration(new MigrationRecord(p.migrationId(), p.mode(), p.source(), p.target(), "aborted", 0,
              java.time.Duration.between(p.requestedAt(), at).toMillis(), p.bytes(), p.fallbackReason(), e.cause(), p.postCopied(), p.memoryLost(),
              at));
      return e.pid() > 0 ? new Running(back, e.pid(), at) : stoppedOrDefined(back);
    }
    throw mismatch(live, event, "unknown event type");
  }

  /** The reservation fence moves forward, in any phase; it never goes back. */
  private static ContainerState reserved(ContainerState state, ContainerEvent event, long reservation) {
    if (reservation <= state.lastReservation()) {
      throw mismatch(state, event, "reservation " + reservation + " is not after " + state.lastReservation());
    }
    if (state instanceof Empty e) return new Empty(e.id(), reservation, e.lastEventHash());
    Live live = (Live) state;
    return with(live, live.data().withLastReservation(reservation));
  }

  private static ContainerState stoppedOrDefined(ContainerData d) {
    return d.lastExit().isPresent() ? new Stopped(d) : new Defined(d);
  }

  private static String migrationIdOf(ContainerEvent event) {
    if (event instanceof MigrationPreflightPassed e) return e.migrationId();
    if (event instanceof RootfsPreCopied e) return e.migrationId();
    if (event instanceof CheckpointTaken e) return e.migrationId();
    if (event instanceof ImageTransferred e) return e.migrationId();
    if (event instanceof ContainerMoved e) return e.migrationId();
    if (event instanceof ContainerRestored e) return e.migrationId();
    if (event instanceof MigrationCompleted e) return e.migrationId();
    if (event instanceof MigrationFellBackToCold e) return e.migrationId();
    if (event instanceof MigrationAborted e) return e.migrationId();
    if (event instanceof MemoryPostCopied e) return e.migrationId();
    throw new IllegalStateException("not a migration step: " + event.getClass().getSimpleName());
  }

  private static Pending pending(Operation op, ContainerEvent event) {
    return new Pending(op, event.meta().correlationId(), event.meta().at());
  }

  private static ContainerState with(Live live, ContainerData d) {
    if (live instanceof Defined) return new Defined(d);
    if (live instanceof Running r) return new Running(d, r.pid(), r.since());
    if (live instanceof Stopped) return new Stopped(d);
    if (live instanceof Migrating m) return new Migrating(d, m.progress());
    if (live instanceof Lost l) return new Lost(d, l.host(), l.wasRunning(), l.reason(), l.since());
    return new Destroyed(d);
  }

  @SafeVarargs
  private static void requirePhase(ContainerState state, ContainerEvent event, Class<? extends ContainerState>... phases) {
    for (Class<? extends ContainerState> p : phases) {
      if (p.isInstance(state)) return;
    }
    throw mismatch(state, event, "not in this phase");
  }

  static ContainerState stamp(ContainerState state, String hash, Instant at) {
    if (state instanceof Live live) return with(live, live.data().stamped(hash, at));
    if (state instanceof Empty e) return new Empty(e.id(), e.lastReservation(), hash);
    return state;
  }

  private static IllegalStateException mismatch(ContainerState state, ContainerEvent event, String why) {
    return new IllegalStateException("container " + state.id() + " is " + state.phase() + ": cannot apply "
        + event.getClass().getSimpleName() + " (" + why + ")");
  }
}
