package io.berth.cli;

import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth ct exec NAME -- CMD ARGS...}: runs a command in the container; its stdout and stderr are passed
 * through and its exit code is the CLI's, as with {@code vzctl exec} and {@code incus exec}.
 */
@Command(name = "exec", description = "Run CMD ARGS inside NAME; exits with the command's exit code.")
final class ContainerExec extends Verb {
  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "after --: the command's argv")
  List<String> command;

  @Option(names = "--timeout", paramLabel = "DURATION", description = "kill the command after this long; default 30s")
  String timeout;

  @Override
  int execute() {
    Long millis = timeout == null ? null : Times.duration("--timeout", timeout).toMillis();
    ApiClient.Answer a = withProgress("command in container " + name,
        () -> api().send("POST", ContainerCommand.path(name) + "/exec", ApiClient.map("command", command, "timeoutMillis", millis),
            "container " + name));
    Map<String, Object> r = a.json();
    int code = ((Number) r.getOrDefault("exitCode", 1)).intValue();
    if (json()) {
      printJson(a);
      return code;
    }
    out().print(str(r.getOrDefault("stdout", "")));
    out().flush();
    cli().err.print(str(r.getOrDefault("stderr", "")));
    if (Boolean.TRUE.equals(r.get("truncated"))) cli().err.println("berth: output of the command was truncated");
    cli().err.flush();
    return code;
  }
}
