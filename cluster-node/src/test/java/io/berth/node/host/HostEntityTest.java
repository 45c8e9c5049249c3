package io.berth.node.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostCapacity;
import io.berth.protocol.host.HostCommand;
import io.berth.protocol.host.HostEvent;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import io.berth.protocol.reply.Rejection.Code;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The host entity's fencing commands: the survivors' fence of one incarnation, and the host's own report of what it
 * fenced while cut off (recorded in any registered phase, changing none). The journal is the testkit's in-memory one
 * (unit test only); every command, event and state goes through the real Berth serializer.
 */
class HostEntityTest {
  private static final ActorTestKit testKit = ActorTestKit.create(
      EventSourcedBehaviorTestKit.config().withFallback(PersistenceTestKitPlugin.getInstance().config())
          .withFallback(ConfigFactory.parseString("pekko.actor.serialize-messages = on")).withFallback(ConfigFactory.load()));
  private static final AtomicInteger TESTS = new AtomicInteger();
  private static final CommandContext SYSTEM = CommandContext.system("testing");
  private static final Instant FENCED_AT = Instant.parse("2026-12-02T03:00:04.018Z");
  private static final Instant LAST_FED = Instant.parse("2026-12-02T03:00:01.516Z");

  private EventSourcedBehaviorTestKit<HostCommand, HostEvent, HostState> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), HostEntity.create("node-" + TESTS.incrementAndGet(), Clock.systemUTC(), e -> Set.of()));
  }

  private void register(long incarnation) {
    var r = kit.<HostReply>runCommand(reply -> new HostCommand.Register(new HostCapacity(2000, 1L << 30, 4096), Map.of(), "198.18.251.11",
        incarnation, io.berth.protocol.host.Overcommit.DEFAULT, SYSTEM, reply));
    assertInstanceOf(HostReply.Done.class, r.reply());
  }

  private static HostCommand.ReportSelfFence report(String by, List<String> containers, ActorRef<HostReply> reply) {
    return new HostCommand.ReportSelfFence(by, FENCED_AT, LAST_FED, 2500, containers, true, 37, SYSTEM, reply);
  }

  @Test
  void aReportOfWhatTheWatchdogFencedIsRecordedOnAFencedHostAndItStaysFenced() {
    register(7);
    var fenced = kit.<HostReply>runCommand(reply -> new HostCommand.MarkFenced("node-2", "unreachable from node-2 since 03:00:01Z", 7, SYSTEM, reply));
    assertInstanceOf(HostState.Fenced.class, fenced.state());
    var r = kit.<HostReply>runCommand(reply -> report("watchdog", List.of("web-1", "db-1"), reply));
    assertInstanceOf(HostReply.Done.class, r.reply());
    var e = (HostEvent.HostSelfFenced) r.event();
    assertEquals("watchdog", e.by());
    assertEquals(FENCED_AT, e.fencedAt());
    assertEquals(LAST_FED, e.lastFedAt());
    assertEquals(2500, e.deadlineMillis());
    assertEquals(List.of("web-1", "db-1"), e.containers());
    assertEquals("fenced", r.state().phase(), "a report of the past changes no phase");
  }

  @Test
  void aStrayCopyItsNodeRemovedIsRecordedOnAReadyOrFencedHostAndChangesNoPhase() {
    register(7);
    var r = kit.<HostReply>runCommand(reply -> new HostCommand.ReportStrayCopy(io.berth.protocol.ids.ContainerId.of("ch-3"),
        "its log says stopped on host node-1", "sweep", true, SYSTEM, reply));
    assertInstanceOf(HostReply.Done.class, r.reply());
    var e = (HostEvent.StrayCopyRemoved) r.event();
    assertEquals("ch-3", e.container().value());
    assertEquals("its log says stopped on host node-1", e.why());
    assertEquals("sweep", e.found());
    assertEquals(true, e.diskKept());
    assertEquals("ready", r.state().phase());
    kit.<HostReply>runCommand(reply -> new HostCommand.MarkFenced("node-2", "unreachable from node-2 since 03:00:01Z", 7, SYSTEM, reply));
    var back = kit.<HostReply>runCommand(reply -> new HostCommand.ReportStrayCopy(io.berth.protocol.ids.ContainerId.of("web-1"),
        "the log places it on node-3 now", "return", false, SYSTEM, reply));
    assertInstanceOf(HostReply.Done.class, back.reply());
    assertEquals("fenced", back.state().phase(), "a returning host reports what it removed before it rejoins");
  }

  @Test
  void aReportOnAReadyHostIsRecordedAndItStaysReady() {
    register(3);
    var r = kit.<HostReply>runCommand(reply -> report("node", List.of(), reply));
    assertInstanceOf(HostEvent.HostSelfFenced.class, r.event());
    assertEquals("ready", r.state().phase());
  }

  @Test
  void aReportForAHostNeverRegisteredIsRefusedAndNothingIsRecorded() {
    var r = kit.<HostReply>runCommand(reply -> report("watchdog", List.of("web-1"), reply));
    var refused = assertInstanceOf(HostReply.Refused.class, r.reply());
    assertEquals(Code.NOT_FOUND, refused.rejection().code(), refused.toString());
    assertTrue(r.events().isEmpty());
  }

  @Test
  void aRejoinIsRecordedOnceAndAskedAgainIsAnsweredAsItIs() {
    register(7);
    kit.<HostReply>runCommand(reply -> new HostCommand.MarkFenced("node-2", "unreachable", 7, SYSTEM, reply));
    var first = kit.<HostReply>runCommand(reply -> new HostCommand.MarkRejoined(SYSTEM, reply));
    assertInstanceOf(HostEvent.HostRejoined.class, first.event());
    var again = kit.<HostReply>runCommand(reply -> new HostCommand.MarkRejoined(SYSTEM, reply));
    assertInstanceOf(HostReply.Done.class, again.reply());
    assertTrue(again.events().isEmpty(), "nothing recorded twice");
    assertEquals("ready", again.state().phase());
  }

  @Test
  void aFenceOfAnOlderIncarnationIsRefusedOnceANewerOneRegistered() {
    register(7);
    register(8);
    var r = kit.<HostReply>runCommand(reply -> new HostCommand.MarkFenced("node-2", "unreachable", 7, SYSTEM, reply));
    var refused = assertInstanceOf(HostReply.Refused.class, r.reply());
    assertTrue(refused.rejection().message().contains("registered again as incarnation 8"), refused.toString());
    assertEquals("ready", r.state().phase());
  }
}
