package io.berth.protocol.container;

/** The lifecycle operations of a container; one at a time per container. */
public enum Operation {
  DEFINE,
  START,
  STOP,
  KILL,
  SET_LIMITS,
  DESTROY,
  MIGRATE,
  RESTART
}
