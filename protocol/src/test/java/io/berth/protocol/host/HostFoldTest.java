package io.berth.protocol.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.HostEvent.*;
import io.berth.protocol.ids.HostId;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HostFoldTest {
  private static EventMeta meta(int s) {
    return new EventMeta(Instant.ofEpochSecond(1_700_000_000L + s), "berth", "", "c" + s, "");
  }

  @Test
  void registerCordonDrainFenceRejoin() {
    HostState s = HostState.empty(HostId.of("node-1"));
    assertFalse(s.schedulable());
    s = s.apply(new HostRegistered(meta(1), new HostCapacity(2000, 1L << 30, 4096), Map.of("zone", "a"), "198.18.0.11"));
    assertEquals("ready", s.phase());
    assertTrue(s.schedulable());
    s = s.apply(new HostCordoned(meta(2)));
    assertEquals("cordoned", s.phase());
    assertFalse(s.schedulable());
    s = s.apply(new HostUncordoned(meta(3))).apply(new DrainRequested(meta(4), DrainMode.COLD, 3));
    assertEquals("draining", s.phase());
    assertEquals(new DrainPlan(DrainMode.COLD, 3, meta(4).at()), ((HostState.Active) s).drain().orElseThrow());
    s = s.apply(new HostDrained(meta(5), java.util.List.of("db-1: pinned")));
    assertEquals("cordoned", s.phase(), "a drained host stays cordoned until the operator uncordons it");
    assertEquals(java.util.List.of("db-1: pinned"), ((HostState.Active) s).lastDrainLeft());
    s = s.apply(new HostFenced(meta(6), "node-2"));
    assertEquals("fenced", s.phase());
    // The host's own report of what it fenced comes later, from its node, and changes no phase.
    s = s.apply(new HostSelfFenced(meta(7), "watchdog", meta(5).at(), meta(4).at(), 3000, java.util.List.of("web-1"), true, 12));
    assertEquals("fenced", s.phase());
    HostState fenced = s;
    assertThrows(IllegalStateException.class, () -> fenced.apply(new HostCordoned(meta(7))));
    s = s.apply(new HostRejoined(meta(8)));
    assertTrue(s.schedulable());
    s = s.apply(new HostSelfFenced(meta(9), "node", meta(8).at(), meta(8).at(), 60000, java.util.List.of(), true, 3));
    assertEquals("ready", s.phase());
    // So does a stray copy its node removed.
    String before = s.lastEventHash();
    s = s.apply(new StrayCopyRemoved(meta(10), io.berth.protocol.ids.ContainerId.of("web-1"), "its log says stopped on host node-1", "sweep", false));
    assertEquals("ready", s.phase());
    assertTrue(!before.equals(s.lastEventHash()), "the report is linked into the host's chain");
    assertEquals(64, s.lastEventHash().length());
  }
}
