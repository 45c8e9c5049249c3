package io.berth.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;

/**
 * Every benchmark prints its figures and appends them as JSON lines to
 * {@code benchmarks/results/<benchmark>.jsonl}, so runs can be compared over time.
 *
 * <p>One line per figure: name, unit, median, p99 (where it applies), the baseline's name and median,
 * and the ratio median/baseline (so for times lower is better; for throughput the line says so).
 */
public final class Results {
  private final Path file;

  public Results(String benchmark) {
    this.file = resultsDir().resolve(benchmark + ".jsonl");
  }

  /** {@code BERTH_BENCH_RESULTS}, or {@code benchmarks/results} of the repository. */
  public static Path resultsDir() {
    String override = System.getenv("BERTH_BENCH_RESULTS");
    if (override != null && !override.isBlank()) return Path.of(override);
    String repo = System.getenv("BERTH_REPO");
    Path base = repo != null && !repo.isBlank() ? Path.of(repo) : Path.of("").toAbsolutePath();
    if (base.getFileName() != null && base.getFileName().toString().equals("benchmarks")) base = base.getParent();
    return base.resolve("benchmarks").resolve("results");
  }

  /**
   * Records one figure with its baseline measured in the same run.
   *
   * @param baselineName   what it was compared with, e.g. {@code runc run}; null when there is none
   * @param baselineMedian the baseline's median in the same unit; NaN when there is none
   * @param p99            the 99th percentile; NaN when it does not apply
   */
  public void record(String name, String unit, double median, double p99, String baselineName, double baselineMedian) {
    double ratio = baselineName == null || Double.isNaN(baselineMedian) || baselineMedian == 0 ? Double.NaN : median / baselineMedian;
    String line = "{\"time\":\"" + Instant.now() + "\",\"name\":" + str(name) + ",\"unit\":" + str(unit)
        + ",\"median\":" + num(median) + ",\"p99\":" + num(p99)
        + ",\"baseline\":" + (baselineName == null ? "null" : str(baselineName))
        + ",\"baseline_median\":" + num(baselineMedian) + ",\"ratio\":" + num(ratio) + "}";
    System.out.printf(Locale.ROOT, "%-60s median %12.3f %-8s p99 %12s  baseline %-28s %12s  ratio %s%n",
        name, median, unit, Double.isNaN(p99) ? "-" : String.format(Locale.ROOT, "%.3f", p99),
        baselineName == null ? "-" : baselineName, Double.isNaN(baselineMedian) ? "-" : String.format(Locale.ROOT, "%.3f", baselineMedian),
        Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.3f", ratio));
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("write benchmark result to " + file, e);
    }
  }

  /** The median of the samples (they are copied, not sorted in place). */
  public static double median(double[] samples) {
    return percentile(samples, 50);
  }

  /** Nearest-rank percentile. */
  public static double percentile(double[] samples, double p) {
    if (samples.length == 0) return Double.NaN;
    double[] sorted = samples.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static String num(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? "null" : String.format(Locale.ROOT, "%.6g", v);
  }

  private static String str(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
