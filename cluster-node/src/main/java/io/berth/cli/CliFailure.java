package io.berth.cli;

/** Ends the command with one line on stderr ({@code berth: <message>}) and {@code exitCode}. */
final class CliFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int exitCode;

  CliFailure(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  static CliFailure usage(String message) {
    return new CliFailure(ExitCodes.USAGE, message);
  }
}
