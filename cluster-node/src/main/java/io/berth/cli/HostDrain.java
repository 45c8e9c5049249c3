package io.berth.cli;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth host drain HOST [--mode live|cold|stop] [--parallel N] [--detach]}: cordons the host and has every
 * container moved off (placement picks each target), then follows the drain until it ends and says what could not
 * be moved and why. The drain runs in the cluster, not in this command: it goes on (and resumes after a crash) if
 * the command is interrupted; {@code berth host uncordon HOST} ends it.
 */
@Command(name = "drain", description = "Move every container off HOST (cordoned meanwhile); `host uncordon` ends it.")
final class HostDrain extends Verb {
  static final Duration FOLLOW_AT_MOST = Duration.ofHours(2);

  @Parameters(index = "0", paramLabel = "HOST")
  String name;

  @Option(names = "--mode", paramLabel = "MODE", description = "live (default; cold where live cannot work), cold, or stop (stop in place)")
  String mode;

  @Option(names = "--parallel", paramLabel = "N", description = "moves at a time (default 2)")
  Integer parallel;

  @Option(names = "--detach", description = "return once the drain is recorded; `berth host show HOST` follows it")
  boolean detach;

  @Override
  int execute() {
    String path = "/v1/hosts/" + ApiClient.encode(name);
    ApiClient.Answer started = withProgress("drain of host " + name,
        () -> api().send("POST", path + "/drain", ApiClient.map("mode", mode, "parallel", parallel), "host " + name));
    if (detach) {
      if (json()) printJson(started);
      else out().println("host " + name + ": " + started.json().get("phase"));
      return ExitCodes.OK;
    }
    long deadline = System.nanoTime() + FOLLOW_AT_MOST.toNanos();
    String shown = "";
    ApiClient.Answer a = started;
    while ("draining".equals(a.json().get("phase")) && System.nanoTime() < deadline) {
      // The drain's own answer carries no count (the host's view does): nothing to show until the first look.
      Object count = a.json().get("containers");
      String line = "draining host " + name + ": " + count + " containers still on it";
      if (count != null && !line.equals(shown)) {
        cli().err.println(line);
        shown = line;
      }
      sleep(500);
      a = api().get(path, "host " + name);
    }
    Map<String, Object> h = a.json();
    if ("draining".equals(h.get("phase"))) {
      throw new CliFailure(ExitCodes.UNAVAILABLE, "host " + name + " is still draining after " + FOLLOW_AT_MOST.toHours()
          + " hours; `berth host show " + name + "` follows it");
    }
    if (json()) {
      printJson(a);
      return ExitCodes.OK;
    }
    List<?> left = h.get("lastDrainLeft") instanceof List<?> l ? l : List.of();
    out().println("host " + name + ": drained, " + h.get("phase") + (left.isEmpty() ? "; every container moved" : "; not moved:"));
    for (Object o : left) out().println("  " + o);
    return left.isEmpty() ? ExitCodes.OK : ExitCodes.FAILED;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
