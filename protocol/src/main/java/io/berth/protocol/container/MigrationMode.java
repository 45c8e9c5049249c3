package io.berth.protocol.container;

/** Live: CRIU checkpoint, transfer, restore; processes keep their memory. Cold: stop, transfer, start. */
public enum MigrationMode {
  LIVE,
  COLD
}
