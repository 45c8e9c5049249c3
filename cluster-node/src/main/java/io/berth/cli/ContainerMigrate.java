package io.berth.cli;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth ct migrate NAME [--to HOST] [--live | --cold] [--post-copy auto|on|off] [--detach]}: starts the move, then follows it in the
 * container's own record (its saga's step and the bytes sent, on stderr) until it ends, and prints its figures.
 */
@Command(name = "migrate", description = "Move NAME to another host: live (CRIU checkpoint, transfer, restore; cold when live "
    + "cannot work) unless --live or --cold says which.")
final class ContainerMigrate extends Verb {
  /** How long the CLI follows a move before it says where it stands and leaves it to run. */
  static final Duration FOLLOW_AT_MOST = Duration.ofMinutes(30);
  static final long POLL_MILLIS = 200;

  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Option(names = "--to", paramLabel = "HOST", description = "the target host (placement picks when absent, never the current host)")
  String to;

  @ArgGroup(exclusive = true)
  Mode mode;

  static final class Mode {
    @Option(names = "--live", description = "live, or fail cleanly when live cannot work (nothing changes)")
    boolean live;

    @Option(names = "--cold", description = "stop, move the disk, start")
    boolean cold;
  }

  @Option(names = "--post-copy", paramLabel = "auto|on|off", description = "move the memory after the container runs on the target: "
      + "auto (default: from berth.migration.post-copy-from of memory, when both hosts can), on (or fail, changing nothing), off")
  String postCopy;

  @Option(names = "--detach", description = "return once the move is under way; `berth ct show NAME` follows it")
  boolean detach;

  @Override
  int execute() {
    String modeText = mode == null ? null : mode.cold ? "cold" : "live";
    if (postCopy != null && !postCopy.matches("auto|on|off")) throw CliFailure.usage("--post-copy must be auto, on or off, not '" + postCopy + "'");
    if ("on".equals(postCopy) && "cold".equals(modeText)) throw CliFailure.usage("--post-copy on needs a live move, not --cold");
    ApiClient.Answer started = withProgress("start of the migration of container " + name,
        () -> api().send("POST", ContainerCommand.path(name) + "/migrations", ApiClient.map("to", to, "mode", modeText, "postCopy", postCopy), "container " + name));
    Map<String, Object> c = started.json();
    Map<String, Object> m = obj(c.get("migration"));
    String id = str(m.get("migrationId"));
    if (detach) {
      if (json()) printJson(started);
      else out().println("container " + name + ": migration " + id + " " + m.get("source") + " -> " + m.get("target") + " under way");
      return ExitCodes.OK;
    }
    ApiClient.Answer last = follow(id);
    Map<String, Object> end = last.json();
    Map<String, Object> record = obj(end.get("lastMigration"));
    if ("migrating".equals(end.get("phase")) || !Objects.equals(id, record.get("migrationId"))) {
      throw new CliFailure(ExitCodes.UNAVAILABLE, "migration " + id + " of container " + name + " still runs after "
          + FOLLOW_AT_MOST.toMinutes() + " minutes; `berth ct show " + name + "` follows it");
    }
    if (json()) printJson(last);
    boolean completed = "completed".equals(record.get("outcome"));
    if (!completed) {
      throw new CliFailure(ExitCodes.FAILED, "migration of container " + name + " to " + record.get("to") + " was aborted: "
          + record.get("cause") + " (it stays on " + record.get("from") + ", " + end.get("phase") + ")");
    }
    if (!json()) out().println(summary(name, record));
    return ExitCodes.OK;
  }

  /** Polls the container until its migration {@code id} has ended, printing each new step on stderr. */
  private ApiClient.Answer follow(String id) {
    long deadline = System.nanoTime() + FOLLOW_AT_MOST.toNanos();
    String shown = "";
    while (true) {
      ApiClient.Answer a = api().get(ContainerCommand.path(name), "container " + name);
      Map<String, Object> c = a.json();
      Map<String, Object> m = obj(c.get("migration"));
      if (!"migrating".equals(c.get("phase")) || !Objects.equals(id, m.get("migrationId")) || System.nanoTime() > deadline) return a;
      String line = "migrating " + name + " " + m.get("source") + " -> " + m.get("target") + " (" + m.get("mode") + "): "
          + str(m.get("step")).replace('_', ' ') + ", " + mib(((Number) m.get("bytes")).longValue()) + " sent"
          + (m.get("fallbackReason") == null ? "" : "; cold because " + m.get("fallbackReason"));
      if (!line.equals(shown)) {
        cli().err.println(line);
        shown = line;
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return a;
      }
    }
  }

  static String summary(String name, Map<String, Object> r) {
    Object frozen = r.get("frozenMs");
    return "container " + name + ": migrated " + r.get("mode") + " " + r.get("from") + " -> " + r.get("to") + " in " + r.get("totalMs")
        + " ms (frozen " + (frozen == null ? "unknown" : frozen + " ms") + ", " + mib(((Number) r.get("bytes")).longValue()) + " sent"
        + (Boolean.TRUE.equals(r.get("postCopied")) ? "; memory post-copied" : "")
        + (r.get("fallbackReason") == null ? "" : "; cold because " + r.get("fallbackReason")) + ")"
        + (r.get("memoryLost") == null ? "" : "; its memory was lost on the way (" + r.get("memoryLost") + "): started again from its disk");
  }

  static String mib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }
}
