package io.berth.cli;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth audit NAME [--host]}, {@code berth audit --since T [--until T]}, {@code berth audit verify}. */
@Command(name = "audit", description = "The audit log: one container's (or host's) history, a time window across the cluster, or verify.",
    subcommands = AuditCommand.Verify.class)
final class AuditCommand extends Verb {
  @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "a container (a host with --host)")
  String name;

  @Option(names = "--host", description = "NAME is a host")
  boolean host;

  @Option(names = "--limit", paramLabel = "N", description = "at most N entries (1-1000, default 100)")
  Integer limit;

  @Option(names = "--from", paramLabel = "SEQ", description = "start at this sequence number (history of NAME)")
  Long from;

  @Option(names = "--since", paramLabel = "TIME", description = "every event since TIME (ISO-8601 or an age: 10m, 2h)")
  String since;

  @Option(names = "--until", paramLabel = "TIME", description = "up to TIME (default now)")
  String until;

  @Override
  int execute() {
    if (name != null && (since != null || until != null)) throw CliFailure.usage("audit: give NAME or --since, not both");
    if (name == null && since == null) throw CliFailure.usage("audit: give NAME (with --host for a host), or --since TIME");
    if (name == null && (host || from != null)) throw CliFailure.usage("audit: --host and --from need NAME");
    String query = limit == null ? "" : "limit=" + limit;
    if (name != null) {
      String kind = host ? "host" : "container";
      String path = (host ? "/v1/hosts/" : "/v1/containers/") + ApiClient.encode(name) + "/history";
      if (from != null) query = (query.isEmpty() ? "" : query + "&") + "from=" + from;
      ApiClient.Answer a = api().get(path + (query.isEmpty() ? "" : "?" + query), kind + " " + name);
      if (json()) printJson(a);
      else {
        Map<String, Object> page = a.json();
        List<Object> items = Render.items(page);
        if (items.isEmpty()) out().println(kind + " " + name + ": no events");
        else Render.audit(out(), items, false);
        if (page.get("next") != null) cli().err.println("berth: more: berth audit " + name + (host ? " --host" : "") + " --from " + page.get("next"));
      }
      return ExitCodes.OK;
    }
    Instant now = Instant.now();
    StringBuilder q = new StringBuilder("since=").append(ApiClient.encode(Times.instant("--since", since, now).toString()));
    if (until != null) q.append("&until=").append(ApiClient.encode(Times.instant("--until", until, now).toString()));
    if (!query.isEmpty()) q.append('&').append(query);
    ApiClient.Answer a = api().get("/v1/audit/timeline?" + q, "audit");
    if (json()) printJson(a);
    else Render.audit(out(), Render.items(a.json()), true);
    return ExitCodes.OK;
  }

  @Command(name = "verify", description = "Recompute the hash chains of every entity (or of NAME), check them against the signed checkpoints, and name each log's first bad sequence number and the check it failed. Exits 1 when one is bad.")
  static final class Verify extends Verb {
    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "one container (a host with --host)")
    String name;

    @Option(names = "--host", description = "NAME is a host")
    boolean host;

    @Override
    int execute() {
      Object body = name == null ? null : ApiClient.map(host ? "host" : "container", name);
      ApiClient.Answer a = withProgress("audit verification", () -> api().send("POST", "/v1/audit/verify", body, "audit verify"));
      Map<String, Object> r = a.json();
      boolean intact = Boolean.TRUE.equals(r.get("intact"));
      if (json()) printJson(a);
      else {
        out().println((intact ? "intact: " : "BROKEN: ") + r.get("entitiesChecked") + " entities, " + r.get("eventsChecked") + " events checked");
        for (Object o : (List<?>) r.getOrDefault("brokenLinks", List.of())) {
          Map<String, Object> b = obj(o);
          out().println("  " + b.get("persistenceId") + " #" + b.get("sequenceNr") + " [" + b.getOrDefault("check", "hash-link") + "]: " + b.get("detail"));
        }
      }
      return intact ? ExitCodes.OK : ExitCodes.FAILED;
    }
  }
}
