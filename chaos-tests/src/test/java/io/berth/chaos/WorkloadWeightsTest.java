package io.berth.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code berth.chaos.ops} mix: defaults, a chosen subset, and bad specs refused naming the rule (no cluster). */
class WorkloadWeightsTest {
  @Test
  void blankMeansEveryKindWithItsOwnWeight() {
    Map<Workload.Kind, Integer> all = Workload.weights("");
    assertEquals(Workload.Kind.values().length, all.size());
    assertEquals(6, all.get(Workload.Kind.CREATE));
    assertEquals(1, all.get(Workload.Kind.DRAIN));
  }

  @Test
  void aListKeepsOnlyItsKindsWithTheirOwnOrGivenWeights() {
    assertEquals(Map.of(Workload.Kind.CREATE, 6, Workload.Kind.START, 2), Workload.weights("create, start:2"));
    assertEquals(Map.of(Workload.Kind.MIGRATE_LIVE, 3), Workload.weights("migrate-live"));
  }

  @Test
  void anUnknownKindOrABadWeightIsRefusedNamingTheRule() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Workload.weights("create,reboot"));
    assertEquals("berth.chaos.ops: \"reboot\" is not an operation (one of [create, start, stop, exec, set, migrate-live, migrate-cold, drain, "
        + "uncordon, destroy])", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Workload.weights("create:0"));
    assertEquals("berth.chaos.ops: the weight of create must be a whole number of at least 1 (got \"create:0\")", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Workload.weights("start:many"));
  }
}
