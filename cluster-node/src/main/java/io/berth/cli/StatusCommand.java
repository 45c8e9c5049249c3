package io.berth.cli;

import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;

/** {@code berth status}: hosts up and containers by phase. */
@Command(name = "status", description = "Show the cluster: hosts up, containers by phase.")
final class StatusCommand extends Verb {
  @Override
  int execute() {
    ApiClient.Answer a = api().get("/v1/status", "status");
    if (json()) {
      printJson(a);
      return ExitCodes.OK;
    }
    Map<String, Object> s = a.json();
    Map<String, Object> h = obj(s.get("hosts"));
    Map<String, Object> c = obj(s.get("containers"));
    out().println("api:        " + api().base());
    out().println("hosts:      " + h.get("total") + " (" + h.get("reachable") + " reachable, " + h.get("ready") + " ready, "
        + h.get("cordoned") + " cordoned, " + h.get("draining") + " draining, " + h.get("fenced") + " fenced)");
    Map<String, Object> phases = obj(c.get("byPhase"));
    out().println("containers: " + c.get("total") + (phases.isEmpty() ? "" : " (" + phases.entrySet().stream()
        .map(e -> e.getValue() + " " + e.getKey()).collect(Collectors.joining(", ")) + ")"));
    return ExitCodes.OK;
  }
}
