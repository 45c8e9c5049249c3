package io.berth.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chaos run on a local cluster of three hosts from {@code bin/berth up}: three clients' random operations for
 * 45 s under the nemesis' faults, then every checker. With no properties it is the short run {@code bin/check} runs
 * (fixed seed); the soak is the same test with a length and a seed:
 *
 * <pre>
 * flock /tmp/berth-chaos.lock mvn -B -o -pl chaos-tests -am verify -Dtest=ChaosRunTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dberth.chaos.length=PT30M -Dberth.chaos.seed=42 [-Dberth.chaos.clients=3] [-Dberth.chaos.hold=PT8S] [-Dberth.chaos.ops=create:6,start:4,...] [-Dberth.chaos.faults=kill-node,kill-host,partition,pause,cassandra,netem]
 * </pre>
 */
class ChaosRunTest {
  private static Berth berth;
  private static ChaosRun.Settings settings;

  @BeforeAll
  static void up() {
    settings = settings(); // bad properties fail here, before a cluster is started for nothing
    berth = Berth.fresh("chaos-run", "btch");
    berth.up();
  }

  @AfterAll
  static void down() {
    if (berth != null) berth.down();
  }

  @Test
  void underFaultsEveryCheckerHolds() throws Exception {
    List<Verdict> verdicts = new ChaosRun(berth, settings).run(Berth.repo().resolve("chaos-tests/target/chaos"));
    List<String> invalid = verdicts.stream().filter(v -> !v.valid()).map(v -> v.checker() + ": " + v.problems()).toList();
    assertEquals(List.of(), invalid, "seed " + settings.seed() + ": checkers that found a problem");
  }

  /** The run's settings from the {@code berth.chaos.*} system properties; a bad one is refused naming it and its rule. */
  static ChaosRun.Settings settings() {
    long seed = number("berth.chaos.seed", 11, Long.MIN_VALUE, Long.MAX_VALUE);
    Duration length = duration("berth.chaos.length", "PT45S");
    boolean soak = length.compareTo(Duration.ofMinutes(5)) > 0;
    List<Nemesis.Fault> faults = Nemesis.Fault.parse(System.getProperty("berth.chaos.faults",
        soak ? "kill-node,kill-host,partition,pause,cassandra,netem" : "kill-node,partition,pause,cassandra,netem"));
    // How long a fault is held: between half of it and all of it. A partition outlasting detection and downing
    // (about 5 s) lets the survivors fail the cut-off host over, which the fencing mutation needs (chaos-tests/mutations/README.md).
    Duration hold = duration("berth.chaos.hold", "PT8S");
    int clients = (int) number("berth.chaos.clients", 3, 1, 16);
    return new ChaosRun.Settings(seed, clients, 5, length, soak ? Integer.MAX_VALUE : 60, faults, Duration.ofSeconds(soak ? 30 : 4), hold,
        Duration.ofSeconds(90), soak ? 1000 : 120, Workload.weights(System.getProperty("berth.chaos.ops", "")));
  }

  /** A whole number from a system property, between {@code min} and {@code max}, or an error naming it and the rule. */
  static long number(String property, long otherwise, long min, long max) {
    String v = System.getProperty(property);
    if (v == null) return otherwise;
    try {
      long n = Long.parseLong(v.strip());
      if (n >= min && n <= max) return n;
    } catch (NumberFormatException e) {
      // named below
    }
    throw new IllegalArgumentException(property + ": must be a whole number" + (min == Long.MIN_VALUE ? "" : " from " + min + " to " + max)
        + " (got \"" + v + "\")");
  }

  /** A positive ISO-8601 duration ({@code PT45S}) from a system property, or an error naming it and the rule. */
  static Duration duration(String property, String otherwise) {
    String v = System.getProperty(property, otherwise);
    try {
      Duration d = Duration.parse(v);
      if (!d.isNegative() && !d.isZero()) return d;
    } catch (java.time.format.DateTimeParseException e) {
      // named below
    }
    throw new IllegalArgumentException(property + ": must be a positive ISO-8601 duration such as PT45S or PT20M (got \"" + v + "\")");
  }
}
