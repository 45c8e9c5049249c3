package io.berth.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The chaos run's {@code berth.chaos.*} properties: defaults, and each bad value refused naming the property and rule (no cluster). */
class ChaosSettingsTest {
  private static final List<String> PROPERTIES = List.of("berth.chaos.seed", "berth.chaos.length", "berth.chaos.faults", "berth.chaos.hold",
      "berth.chaos.clients", "berth.chaos.ops");

  @AfterEach
  void clear() {
    PROPERTIES.forEach(System::clearProperty);
  }

  @Test
  void withoutPropertiesItIsTheShortRun() {
    PROPERTIES.forEach(System::clearProperty);
    ChaosRun.Settings s = ChaosRunTest.settings();
    assertEquals(11, s.seed());
    assertEquals(3, s.clients());
    assertEquals(Duration.ofSeconds(45), s.length());
    assertEquals(Duration.ofSeconds(8), s.hold());
    assertEquals(60, s.maxOpsPerClient());
    assertEquals(List.of(Nemesis.Fault.KILL_NODE, Nemesis.Fault.PARTITION, Nemesis.Fault.PAUSE, Nemesis.Fault.CASSANDRA, Nemesis.Fault.NETEM),
        s.faults());
    assertEquals(120, s.fuzz());
  }

  @Test
  void aLengthOverFiveMinutesIsASoak() {
    System.setProperty("berth.chaos.length", "PT20M");
    System.setProperty("berth.chaos.faults", "partition, kill-host");
    ChaosRun.Settings s = ChaosRunTest.settings();
    assertEquals(Integer.MAX_VALUE, s.maxOpsPerClient());
    assertEquals(1000, s.fuzz());
    assertEquals(List.of(Nemesis.Fault.PARTITION, Nemesis.Fault.KILL_HOST), s.faults());
  }

  @Test
  void eachBadPropertyIsRefusedNamingItAndItsRule() {
    assertRefused("berth.chaos.seed", "eleven", "berth.chaos.seed: must be a whole number (got \"eleven\")");
    assertRefused("berth.chaos.clients", "0", "berth.chaos.clients: must be a whole number from 1 to 16 (got \"0\")");
    assertRefused("berth.chaos.length", "45s", "berth.chaos.length: must be a positive ISO-8601 duration such as PT45S or PT20M (got \"45s\")");
    assertRefused("berth.chaos.hold", "PT0S", "berth.chaos.hold: must be a positive ISO-8601 duration such as PT45S or PT20M (got \"PT0S\")");
    assertRefused("berth.chaos.faults", "partition,flood", "berth.chaos.faults: \"flood\" is not a fault (one of [kill-node, kill-host, "
        + "partition, pause, cassandra, netem])");
    assertRefused("berth.chaos.ops", "create:x", "berth.chaos.ops: the weight of create must be a whole number of at least 1 (got \"create:x\")");
  }

  private static void assertRefused(String property, String value, String message) {
    PROPERTIES.forEach(System::clearProperty);
    System.setProperty(property, value);
    assertEquals(message, assertThrows(IllegalArgumentException.class, ChaosRunTest::settings).getMessage());
  }
}
