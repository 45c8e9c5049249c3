package io.berth.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** One in-process run of the CLI: its exit code and what it printed, so a test reads them as an operator's shell would. */
record CliRun(int code, String out, String err) {

  /** Runs {@link BerthCli#run} with these args and environment, stdout and stderr captured apart, as bin/berth would print them. */
  static CliRun of(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = BerthCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), env);
    return new CliRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** stdout's lines; none when nothing was printed (split alone would answer one empty line). */
  List<String> lines() {
    return out.isEmpty() ? List.of() : List.of(out.split("\n"));
  }

  /** stdout's last line, as a script would take a value printed after its explanation. */
  String lastLine() {
    String[] lines = out.strip().split("\n");
    return lines[lines.length - 1];
  }
}
