package io.berth.persistence;

/**
 * Cassandra cannot take or serve Berth's events right now (unreachable, timing out, schema missing). The message
 * names what was tried and where; nothing was persisted by the operation that got it.
 */
public final class PersistenceUnavailableException extends RuntimeException {
  public PersistenceUnavailableException(String message) {
    super(message);
  }

  public PersistenceUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
