package io.berth.cli;

/** What {@code berth} exits with; CLI.md lists them. {@code ct exec} exits with the command's own code. */
final class ExitCodes {
  static final int OK = 0;
  /** The operation was tried and failed (on the host, or inside the API). */
  static final int FAILED = 1;
  /** Bad flags or bad input (the API refused a field). */
  static final int USAGE = 2;
  static final int NOT_FOUND = 3;
  /** Exists already, wrong phase, or busy with another operation. */
  static final int CONFLICT = 4;
  static final int NO_CAPACITY = 5;
  /**
   * A change was sent and its answer never came (no answer in time, connection reset): it may or may not have been
   * carried out. Apart from 1 and 69 so a script checks before repeating it, as the CLI does not repeat it itself.
   */
  static final int OUTCOME_UNKNOWN = 6;
  /** The API wants credentials the CLI did not give, or refused the ones it gave (EX_NOPERM). */
  static final int NOT_PERMITTED = 77;
  /** The API could not be reached, or Berth could not reach its nodes or Cassandra (EX_UNAVAILABLE). */
  static final int UNAVAILABLE = 69;

  private ExitCodes() {}

  /** From a problem's {@code type} (urn:berth:problem:KIND) and status. */
  static int of(String type, int status) {
    String kind = type == null ? "" : type.substring(type.lastIndexOf(':') + 1);
    return switch (kind) {
      case "not-found", "no-route" -> NOT_FOUND;
      case "already-exists", "wrong-phase", "busy" -> CONFLICT;
      case "no-capacity" -> NO_CAPACITY;
      case "unavailable" -> UNAVAILABLE;
      case "unauthenticated", "forbidden" -> NOT_PERMITTED;
      case "invalid-field", "unknown-field", "malformed-body", "body-too-large", "unsupported-media-type", "invalid",
           "method-not-allowed" -> USAGE;
      case "failed", "internal" -> FAILED;
      default -> status == 404 ? NOT_FOUND : status == 409 ? CONFLICT : status == 503 ? UNAVAILABLE
          : status == 401 || status == 403 ? NOT_PERMITTED : status >= 400 && status < 500 ? USAGE : FAILED;
    };
  }
}
