package io.berth.isolation;

/**
 * An operation asked in a state that does not allow it, e.g. a second start of a running
 * container: names the operation, the container, the state it is in and what the rule wants.
 */
public final class ContainerStateException extends IsolationException {
  private static final long serialVersionUID = 1L;

  private final ContainerStatus status;

  public ContainerStateException(String operation, String container, ContainerStatus status, String rule) {
    super(operation, container, "it is " + status.name().toLowerCase(java.util.Locale.ROOT) + "; " + rule);
    this.status = status;
  }

  public ContainerStatus status() {
    return status;
  }
}
