package io.berth.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Arrays;
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

  @BeforeAll
  static void up() {
    berth = Berth.fresh("chaos-run", "btch");
    berth.up();
  }

  @AfterAll
  static void down() {
    if (berth != null) berth.down();
  }

  @Test
  void underFaultsEveryCheckerHolds() throws Exception {
    long seed = Long.getLong("berth.chaos.seed", 11L);
    Duration length = Duration.parse(System.getProperty("berth.chaos.length", "PT45S"));
    boolean soak = length.compareTo(Duration.ofMinutes(5)) > 0;
    List<Nemesis.Fault> faults = Arrays.stream(System.getProperty("berth.chaos.faults",
        soak ? "kill-node,kill-host,partition,pause,cassandra,netem" : "kill-node,partition,pause,cassandra,netem").split(","))
        .filter(s -> !s.isBlank()).map(s -> Nemesis.Fault.valueOf(s.strip().toUpperCase(java.util.Locale.ROOT).replace('-', '_'))).toList();
    // How long a fault is held: between half of it and all of it. A partition outlasting detection and downing
    // (about 5 s) lets the survivors fail the cut-off host over, which the fencing mutation needs (chaos-tests/mutations/README.md).
    Duration hold = Duration.parse(System.getProperty("berth.chaos.hold", "PT8S"));
    ChaosRun.Settings settings = new ChaosRun.Settings(seed, Integer.getInteger("berth.chaos.clients", 3), 5, length,
        soak ? Integer.MAX_VALUE : 60, faults, Duration.ofSeconds(soak ? 30 : 4), hold, Duration.ofSeconds(90), soak ? 1000 : 120,
        Workload.weights(System.getProperty("berth.chaos.ops", "")));
    List<Verdict> verdicts = new ChaosRun(berth, settings).run(Berth.repo().resolve("chaos-tests/target/chaos"));
    List<String> invalid = verdicts.stream().filter(v -> !v.valid()).map(v -> v.checker() + ": " + v.problems()).toList();
    assertEquals(List.of(), invalid, "seed " + seed + ": checkers that found a problem");
  }
}
