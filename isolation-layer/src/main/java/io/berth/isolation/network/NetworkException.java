package io.berth.isolation.network;

/** A network step failed: names the step, the object (bridge, veth, namespace) and what ip said. */
public final class NetworkException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NetworkException(String message) {
    super(message);
  }
}
