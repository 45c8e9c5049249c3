package io.berth.node.placement;

/**
 * Whether a host may take a new container, and if not, why. Only {@link #READY} hosts are candidates;
 * the others are named in a refusal with their condition.
 */
public enum HostCondition {
  /** Registered, reachable, not cordoned: takes new containers. */
  READY("ready"),
  /** The operator cordoned it: keeps its containers, takes no new ones. */
  CORDONED("cordoned"),
  /** Its containers are being moved off. */
  DRAINING("draining"),
  /** The cluster cannot reach it right now (its member is unreachable); it may be about to fence itself. */
  UNREACHABLE("unreachable"),
  /** It lost the cluster and fenced its containers; takes nothing until it rejoins. */
  FENCED("fenced");

  private final String word;

  HostCondition(String word) {
    this.word = word;
  }

  /** The word used in refusals and reasons: {@code node-2: cordoned}. */
  public String word() {
    return word;
  }

  public boolean schedulable() {
    return this == READY;
  }
}
