package io.berth.protocol.container;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import java.time.Instant;
import java.util.Optional;

/**
 * What every phase of a defined container knows.
 *
 * @param spec            what the operator asked for (limits as last changed)
 * @param host            where placement put it; empty until placed
 * @param address         its address in the cluster's range; empty until assigned
 * @param prefixLength    the prefix length of that range
 * @param pending         the operation in progress, if any (intent persisted, outcome not yet)
 * @param lastExit        how its init last ended
 * @param lastError       the error of the last failed operation; empty when the last one succeeded
 * @param restartAttempts restarts by the restart policy since the last start the operator asked for
 * @param lastReservation the directory's reservation the container last took part in or declined (0: none);
 *                        older ones are refused
 * @param lastEventHash   hex SHA-256 of the stored bytes of the last event applied (the hash chain's head)
 * @param updatedAt       when the last event was decided
 * @param lastMigration   how its last migration ended, if it ever moved
 * @param restoreCheckpoint the checkpoint (its sequence) the pending start restores instead of starting cold: set by a
 *                        failover that found one of the copy that ran, cleared by the start's outcome; 0: none
 */
public record ContainerData(
    ContainerSpec spec,
    Optional<HostId> host,
    String address,
    int prefixLength,
    Optional<Pending> pending,
    Optional<ExitStatus> lastExit,
    String lastError,
    int restartAttempts,
    long lastReservation,
    String lastEventHash,
    Instant updatedAt,
    Optional<MigrationRecord> lastMigration,
    long restoreCheckpoint) {

  /** Without a checkpoint to restore (every state before checkpoints existed). */
  public ContainerData(ContainerSpec spec, Optional<HostId> host, String address, int prefixLength, Optional<Pending> pending,
      Optional<ExitStatus> lastExit, String lastError, int restartAttempts, long lastReservation, String lastEventHash, Instant updatedAt,
      Optional<MigrationRecord> lastMigration) {
    this(spec, host, address, prefixLength, pending, lastExit, lastError, restartAttempts, lastReservation, lastEventHash, updatedAt,
        lastMigration, 0);
  }

  public ContainerId id() {
    return spec.id();
  }

  /** A new incarnation of the container; the reservation fence carries over from before (never goes back). */
  static ContainerData defined(ContainerSpec spec, long lastReservation, Instant at) {
    return new ContainerData(spec, Optional.empty(), "", 0, Optional.empty(), Optional.empty(), "", 0, lastReservation, "", at, Optional.empty());
  }

  ContainerData withSpec(ContainerSpec v) {
    return new ContainerData(v, host, address, prefixLength, pending, lastExit, lastError, restartAttempts, lastReservation, lastEventHash, updatedAt, lastMigration, restoreCheckpoint);
  }

  ContainerData withHost(HostId v) {
    return new ContainerData(spec, Optional.of(v), address, prefixLength, pending, lastExit, lastError, restartAttempts, lastReservation, lastEventHash, updatedAt, lastMigration, restoreCheckpoint);
  }

  ContainerData withAddress(String v, int prefix) {
    return new ContainerData(spec, host, v, prefix, pending, lastExit, lastError, restartAttempts, lastReservation, lastEventHash, updatedAt, lastMigration, restoreCheckpoint);
  }

  ContainerData withPending(Pending v) {
    return new ContainerData(spec, host, address, prefixLength, Optional.of(v), lastExit, lastError, restartAttempts, lastReservation, lastEventHash, updatedAt, lastMigration, restoreCheckpoint);
  }

  /** The outcome arrived: nothing is in progress, and the last operation succeeded. */
  ContainerData settled() {
    return new ContainerData(spec, host, address, prefixLength, Optional.empty(), lastExit, "", restartAttempts, lastReservation, lastEventHash, updatedAt, lastMigration, 0);
  }

  ContainerData failed(String error) {
    return new ContainerData(spec, host, address, prefixLength, Optional.empty(), lastExit, error, restartAttempts, lastReservation, lastEventHash, updatedAt, lastMigration, 0);
  }

  ContainerData withExit(ExitStatus v) {
    return new ContainerData(spec, host, address, prefixLength, pending, Optional.of(v), lastError, restartAttempts, lastReservation, lastEventHash, updatedAt, lastMigration, restoreCheckpoint);
  }

  ContainerData withRestartAttempts(int v) {
    return new ContainerData(spec, host, address, prefixLength, pending, lastExit, lastError, v, lastReservation, lastEventHash, updatedAt, lastMigration, restoreCheckpoint);
  }

  ContainerData withLastReservation(long v) {
    return new ContainerData(spec, host, address, prefixLength, pending, lastExit, lastError, restartAttempts, v, lastEventHash, updatedAt, lastMigration, restoreCheckpoint);
  }

  ContainerData stamped(String hash, Instant at) {
    return new ContainerData(spec, host, address, prefixLength, pending, lastExit, lastError, restartAttempts, lastReservation, hash, at, lastMigration, restoreCheckpoint);
  }

  ContainerData withLastMigration(MigrationRecord v) {
    return new ContainerData(spec, host, address, prefixLength, pending, lastExit, lastError, restartAttempts, lastReservation, lastEventHash, updatedAt,
        Optional.of(v), restoreCheckpoint);
  }

  ContainerData withRestoreCheckpoint(long v) {
    return new ContainerData(spec, host, address, prefixLength, pending, lastExit, lastError, restartAttempts, lastReservation, lastEventHash, updatedAt,
        lastMigration, v);
  }
}
