package io.berth.chaos;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's report under {@code chaos-tests/target/chaos/<run>/}: {@code history.json} (every op and fault),
 * {@code verdicts.json} (each checker, its problems, what it checked, the seed and settings), {@code copies.txt}, {@code logs/} and {@code summary.txt},
 * the table also printed to stdout. A failure is replayed from the seed the report names.
 */
final class ChaosReport {
  private ChaosReport() {}

  static Path write(Path dir, long seed, Map<String, Object> settings, History history, List<Verdict> verdicts) throws IOException {
    Files.createDirectories(dir);
    var json = Berth.JSON.copy().findAndRegisterModules().enable(SerializationFeature.INDENT_OUTPUT)
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    ArrayNode ops = json.createArrayNode();
    for (History.Op op : history.ops()) {
      ObjectNode o = ops.addObject();
      o.put("index", op.index()).put("process", op.process()).put("type", op.type().name().toLowerCase(java.util.Locale.ROOT))
          .put("f", op.f()).put("target", op.target()).put("correlationId", op.correlationId()).put("at", op.at().toString())
          .put("detail", op.detail());
      o.set("args", json.valueToTree(op.args()));
    }
    json.writeValue(dir.resolve("history.json").toFile(), ops);
    ObjectNode v = json.createObjectNode();
    v.put("seed", seed);
    v.set("settings", json.valueToTree(settings));
    v.put("valid", Checkers.countInvalid(verdicts) == 0);
    v.set("verdicts", json.valueToTree(verdicts));
    json.writeValue(dir.resolve("verdicts.json").toFile(), v);
    String summary = summary(seed, history, verdicts);
    Files.writeString(dir.resolve("summary.txt"), summary);
    return dir;
  }

  /** {@code copies.txt}: where each pool name ran over the run, the samplers' transitions the never-two-copies verdict was drawn from. */
  static void writeCopies(Path dir, List<CopySampler> samplers) throws IOException {
    StringBuilder copies = new StringBuilder();
    for (CopySampler s : samplers) copies.append(s.container()).append(":\n  ").append(s.transitions().replace("; ", "\n  ")).append('\n');
    Files.writeString(dir.resolve("copies.txt"), copies);
  }

  /** {@code logs/}: every node's log as the run left it (the cluster's directory goes with {@code berth down}). */
  static void copyNodeLogs(Path dir, Path cluster) throws IOException {
    Files.createDirectories(dir.resolve("logs"));
    try (var logs = Files.newDirectoryStream(cluster, "node-*.log")) {
      for (Path log : logs) Files.copy(log, dir.resolve("logs").resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The readable table: operations by kind and outcome, then each checker's verdict and its first problem. */
  static String summary(long seed, History history, List<Verdict> verdicts) {
    Map<String, int[]> byF = new TreeMap<>();
    for (History.Op op : history.ops()) {
      int[] c = byF.computeIfAbsent(("nemesis".equals(op.process()) ? "fault " : "") + op.f(), k -> new int[4]);
      c[op.type().ordinal()]++;
    }
    StringBuilder b = new StringBuilder();
    b.append("chaos run, seed ").append(seed).append('\n');
    b.append(String.format("%-22s %7s %5s %5s %8s%n", "operation", "invoked", "ok", "fail", "unknown"));
    byF.forEach((f, c) -> b.append(String.format("%-22s %7d %5d %5d %8d%n", f, c[0], c[1], c[2], c[3])));
    b.append('\n').append(String.format("%-20s %-7s %s%n", "checker", "verdict", "checked / first problem"));
    for (Verdict v : verdicts) {
      b.append(String.format("%-20s %-7s %s%n", v.checker(), v.valid() ? "valid" : "INVALID", v.checked()));
      if (!v.valid()) b.append(String.format("%-28s %s (and %d more)%n", "", v.problems().get(0), v.problems().size() - 1));
    }
    return b.toString();
  }
}
