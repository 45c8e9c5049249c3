package io.berth.persistence.embedded;

/** The embedded Cassandra node could not be started, reached or stopped; the message names the step and the data root. */
public final class EmbeddedCassandraException extends RuntimeException {
  public EmbeddedCassandraException(String message) {
    super(message);
  }

  public EmbeddedCassandraException(String message, Throwable cause) {
    super(message, cause);
  }
}
