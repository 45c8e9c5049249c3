package io.berth.protocol.host;

/** How a drain moves a host's containers off. */
public enum DrainMode {
  /** Live migration, each going cold where live cannot work. */
  LIVE,
  /** Cold migration: stop, move the disk, start on the target. */
  COLD,
  /** No move: the running containers are stopped where they are. */
  STOP
}
