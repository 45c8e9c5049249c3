package io.berth.cli;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code berth ct ...}: the container verbs. */
@Command(name = "ct", description = "Containers: create, start, stop, kill, destroy, list, show, set, exec, migrate, recover.")
final class ContainerCommand extends Verb {
  /** Its verbs, added to the command line on demand (see Subcommands). */
  static final Class<?>[] VERBS = {ContainerCreate.class, ContainerCommand.Start.class, ContainerCommand.Stop.class, ContainerCommand.Kill.class, ContainerCommand.Destroy.class, ContainerCommand.ListContainers.class, ContainerCommand.Show.class, ContainerCommand.Set.class, ContainerExec.class, ContainerMigrate.class, ContainerCommand.Recover.class};

  @Override
  int execute() {
    throw CliFailure.usage("ct needs a verb: create, start, stop, kill, destroy, list, show, set, exec, migrate, recover (see 'berth ct --help')");
  }

  static String path(String name) {
    return "/v1/containers/" + ApiClient.encode(name);
  }

  /** Prints a container answer: JSON as it came, or one line {@code container NAME: PHASE on HOST}. */
  static int printed(Verb v, ApiClient.Answer a) {
    if (v.json()) {
      v.printJson(a);
      return ExitCodes.OK;
    }
    Map<String, Object> c = a.json();
    v.out().println("container " + c.get("id") + ": " + c.get("phase") + (c.get("host") == null ? "" : " on " + c.get("host"))
        + (c.get("address") == null ? "" : " at " + c.get("address")));
    return ExitCodes.OK;
  }

  @Command(name = "recover", description = "Run a lost container (its host fenced, its disk that host's own) on another host.")
  static final class Recover extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--empty", description = "on a new, empty disk from its template (what was on the lost disk stays there)")
    boolean empty;

    @Option(names = "--from-checkpoint", description = "from its last checkpoint")
    boolean fromCheckpoint;

    @Override
    int execute() {
      if (empty == fromCheckpoint) throw CliFailure.usage("ct recover " + name + ": name exactly one of --empty, --from-checkpoint");
      Map<String, Object> body = Map.of("from", empty ? "empty" : "checkpoint");
      return printed(this, withProgress("container " + name + " to be recovered",
          () -> api().send("POST", path(name) + "/recover", body, "container " + name)));
    }
  }

  @Command(name = "start", description = "Start NAME's init.")
  static final class Start extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    int execute() {
      return printed(this, withProgress("container " + name + " to start",
          () -> api().send("POST", path(name) + "/start", null, "container " + name)));
    }
  }

  @Command(name = "stop", description = "Stop NAME: SIGTERM, then SIGKILL after the timeout.")
  static final class Stop extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--timeout", paramLabel = "DURATION", description = "before SIGKILL: 10 (seconds), 10s, 500ms, 2m; default 10s")
    String timeout;

    @Override
    int execute() {
      Map<String, Object> body = new LinkedHashMap<>();
      if (timeout != null) body.put("timeoutMillis", Times.duration("--timeout", timeout).toMillis());
      return printed(this, withProgress("container " + name + " to stop",
          () -> api().send("POST", path(name) + "/stop", body, "container " + name)));
    }
  }

  @Command(name = "kill", description = "Send a signal to NAME's init (KILL by default).")
  static final class Kill extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--signal", paramLabel = "SIGNAL", description = "a number or a name: TERM, KILL, HUP, INT, USR1 ...")
    String signal;

    @Override
    int execute() {
      return printed(this, withProgress("container " + name + " to be killed",
          () -> api().send("POST", path(name) + "/kill", ApiClient.map("signal", signal), "container " + name)));
    }
  }

  @Command(name = "destroy", description = "Destroy NAME: nothing of it is left on any host.")
  static final class Destroy extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    int execute() {
      return printed(this, withProgress("container " + name + " to be destroyed",
          () -> api().send("DELETE", path(name), null, "container " + name)));
    }
  }

  @Command(name = "list", aliases = "ls", description = "List containers.")
  static final class ListContainers extends Verb {
    @Override
    int execute() {
      ApiClient.Answer a = api().get("/v1/containers", "containers");
      if (json()) printJson(a);
      else Render.containers(out(), Render.items(a.json()));
      return ExitCodes.OK;
    }
  }

  @Command(name = "show", description = "Show NAME, now or as it was at a time (the fold of its events up to then).")
  static final class Show extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--at", paramLabel = "TIME", description = "2025-01-31T12:00:00Z, 2025-01-31T12:00 (local), or an age: 10m, 2h")
    String at;

    @Override
    int execute() {
      String query = at == null ? "" : "?at=" + ApiClient.encode(Times.instant("--at", at, Instant.now()).toString());
      ApiClient.Answer a = api().get(path(name) + query, "container " + name);
      if (json()) printJson(a);
      else Render.container(out(), a.json());
      return ExitCodes.OK;
    }
  }

  @Command(name = "set", description = "Change NAME's limits or its checkpoint schedule; what is not named keeps its value.")
  static final class Set extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--memory", paramLabel = "SIZE", description = "e.g. 64M, 1G")
    String memory;

    @Option(names = "--cpus", paramLabel = "CPUS", description = "cores (0.5, 2) or millicores (500m)")
    String cpus;

    @Option(names = "--pids", paramLabel = "N", description = "the most processes and threads")
    String pids;

    @Option(names = "--cpu-weight", paramLabel = "N", description = "its share of contended cpu, 1-10000 (100 is everyone's default)")
    String cpuWeight;

    @Option(names = "--cpu-guarantee", paramLabel = "CPUS", description = "cpu placement reserves for it, at most its cpu cap")
    String cpuGuarantee;

    @Option(names = "--memory-guarantee", paramLabel = "SIZE", description = "memory placement reserves for it, at most its memory limit")
    String memoryGuarantee;

    @Option(names = "--disk", paramLabel = "SIZE", description = "size of the writable layer (its own ext4 image, enforced); 0 = the host's default, 10G")
    String disk;

    @Option(names = "--checkpoint-every", paramLabel = "DURATION|off", description = "how often its host checkpoints it while it runs "
        + "(10s to 24h: 30s, 5m; shared storage only); off stops and deletes its checkpoints")
    String checkpointEvery;

    @Override
    int execute() {
      Map<String, Object> limits = ApiClient.map("cpu", cpus, "memory", memory, "pids", pids, "disk", disk, "cpuWeight", cpuWeight,
        "cpuGuarantee", cpuGuarantee, "memoryGuarantee", memoryGuarantee);
      if (limits.isEmpty() && checkpointEvery == null) {
        throw CliFailure.usage("ct set " + name + ": name at least one of --memory, --cpus, --pids, --disk, --cpu-weight, --cpu-guarantee, "
            + "--memory-guarantee, --checkpoint-every");
      }
      Map<String, Object> schedule = checkpointEvery == null ? Map.of() : Map.of("checkpointEvery", checkpointEvery(checkpointEvery));
      if (limits.isEmpty()) {
        return printed(this, withProgress("checkpoint schedule of container " + name,
            () -> api().send("PUT", path(name) + "/checkpoint-schedule", schedule, "container " + name)));
      }
      int code = printed(this, withProgress("limits of container " + name,
          () -> api().send("PATCH", path(name) + "/limits", limits, "container " + name)));
      if (code != 0 || schedule.isEmpty()) return code;
      return printed(this, withProgress("checkpoint schedule of container " + name,
          () -> api().send("PUT", path(name) + "/checkpoint-schedule", schedule, "container " + name)));
    }
  }

  /**
   * A checkpoint schedule as the API takes it ({@code 30s}, {@code 5m}, {@code off}): its form is checked here with the
   * rule of the protocol's {@code Durations} (the CLI runs without the protocol's classes: its own lib dir), its range
   * and storage by the node.
   */
  static String checkpointEvery(String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.equals("off") || t.equals("0")) return "off";
    if (!t.matches("\\d{1,9}\\s*[smhd]")) {
      throw CliFailure.usage("--checkpoint-every: must be off, or a whole number with s, m, h or d (30s, 5m) (got \"" + text + "\")");
    }
    return t.replaceAll("\\s+", "");
  }

  /** {@code k=v} pairs from repeated options, refused here when there is no '='. */
  static Map<String, Object> pairs(String option, List<String> values) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (String v : values == null ? new ArrayList<String>() : values) {
      int eq = v.indexOf('=');
      if (eq <= 0) throw CliFailure.usage(option + ": must be key=value (got \"" + v + "\")");
      m.put(v.substring(0, eq), v.substring(eq + 1));
    }
    return m;
  }
}
