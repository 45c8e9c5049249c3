package io.berth.protocol.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.berth.protocol.BerthMessage;
import io.berth.protocol.container.ContainerCommand;
import io.berth.protocol.container.ContainerEvent.ContainerStarted;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.host.HostState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The serializer inside a real typed ActorSystem, with protocol's reference.conf and serialize-messages on. */
class BerthSerializerTest {
  private static ActorTestKit kit;
  private static Serialization serialization;
  private static TestProbe<ContainerReply> containerReplies;
  private static TestProbe<HostReply> hostReplies;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("berth-serializer-test",
        ConfigFactory.parseString("pekko.actor.serialize-messages = on").withFallback(ConfigFactory.load()));
    serialization = SerializationExtension.get(Adapter.toClassic(kit.system()));
    containerReplies = kit.createTestProbe(ContainerReply.class);
    hostReplies = kit.createTestProbe(HostReply.class);
  }

  @AfterAll
  static void stop() {
    if (kit != null) kit.shutdownTestKit();
  }

  static List<Object> everyMessage() {
    List<Object> all = new ArrayList<>();
    all.addAll(Samples.events());
    all.addAll(Samples.edgeEvents());
    all.addAll(Samples.commands(containerReplies.ref(), hostReplies.ref(), kit.createTestProbe(io.berth.protocol.directory.DirectoryReply.class).ref()));
    all.addAll(Samples.replies());
    all.addAll(Samples.templateMessages(kit.createTestProbe(io.berth.protocol.template.TemplateReply.class).ref()));
    all.addAll(Samples.accessMessages(kit.createTestProbe(io.berth.protocol.access.AccessReply.class).ref()));
    return all;
  }

  @Test
  void configTurnsJavaSerializationOffAndBindsBerthMessages() throws Exception {
    var config = kit.system().settings().config();
    assertFalse(config.getBoolean("pekko.actor.allow-java-serialization"));
    assertTrue(config.getBoolean("pekko.actor.serialize-messages"));
    for (Object o : everyMessage()) {
      Serializer s = serialization.findSerializerFor(o);
      assertInstanceOf(BerthSerializer.class, s, o.getClass().getName());
      assertEquals(BerthSerializer.IDENTIFIER, s.identifier());
    }
    // Something not bound is not silently Java-serialized: Pekko's disabled Java serializer refuses it.
    record Stray(String x) implements java.io.Serializable {}
    var attempt = serialization.serialize(new Stray("x"));
    assertTrue(attempt.isFailure(), "a Serializable that is no BerthMessage must not serialize");
  }

  @Test
  void everyEventCommandReplyAndStateRoundTripsThroughPekko() {
    for (Object o : everyMessage()) {
      byte[] bytes = serialization.serialize(o).get();
      Serializer s = serialization.findSerializerFor(o);
      String manifest = ((BerthSerializer) s).manifest(o);
      Object back = serialization.deserialize(bytes, BerthSerializer.IDENTIFIER, manifest).get();
      assertEquals(o, back, manifest);
      assertNotSame(o, back);
      if (o instanceof BerthEvent e) {
        assertEquals(BerthEventCodec.manifest(e), manifest);
        assertTrue(java.util.Arrays.equals(BerthEventCodec.toBytes(e), bytes), manifest + ": the journal and the hash chain must see the same bytes");
      } else {
        assertEquals(KryoRegistry.nameOf(o.getClass()), manifest);
      }
    }
  }

  @Test
  void statesRoundTripOnTheirOwnToo() throws Exception {
    BerthSerializer s = (BerthSerializer) serialization.serializerFor(BerthMessage.class);
    List<Object> states = new ArrayList<>(Samples.containerStates());
    states.addAll(Samples.hostStates());
    for (Object state : states) {
      Object back = s.fromBinary(s.toBinary(state), s.manifest(state));
      assertEquals(state, back);
    }
  }

  @Test
  void actorRefsArriveAsTheSameActor() throws Exception {
    BerthSerializer s = (BerthSerializer) serialization.serializerFor(BerthMessage.class);
    ContainerCommand.Get get = new ContainerCommand.Get(containerReplies.ref());
    ContainerCommand.Get back = (ContainerCommand.Get) s.fromBinary(s.toBinary(get), s.manifest(get));
    back.replyTo().tell(new ContainerReply.Done(ContainerState.empty(Samples.CT)));
    assertEquals(new ContainerReply.Done(ContainerState.empty(Samples.CT)), containerReplies.receiveMessage(Duration.ofSeconds(5)));
  }

  /** With serialize-messages on, every tell is serialized and deserialized: what arrives is a copy. */
  @Test
  void messagesBetweenActorsGoThroughTheSerializer() {
    List<HostState> hostStates = Samples.hostStates();
    ActorRef<Object> entity = kit.spawn(Behaviors.receive(Object.class)
        .onMessage(ContainerCommand.Get.class, get -> {
          get.replyTo().tell(new ContainerReply.States(Samples.containerStates()));
          return Behaviors.same();
        })
        .onMessage(io.berth.protocol.host.HostCommand.Get.class, get -> {
          get.replyTo().tell(new HostReply.Done(hostStates.get(1)));
          return Behaviors.same();
        })
        .build());
    entity.tell(new ContainerCommand.Get(containerReplies.ref()));
    assertEquals(new ContainerReply.States(Samples.containerStates()), containerReplies.receiveMessage(Duration.ofSeconds(5)));
    entity.tell(new io.berth.protocol.host.HostCommand.Get(hostReplies.ref()));
    assertEquals(new HostReply.Done(hostStates.get(1)), hostReplies.receiveMessage(Duration.ofSeconds(5)));

    TestProbe<BerthEvent> events = kit.createTestProbe(BerthEvent.class);
    ContainerStarted started = (ContainerStarted) Samples.event(ContainerStarted.class);
    events.ref().tell(started);
    BerthEvent arrived = events.receiveMessage(Duration.ofSeconds(5));
    assertEquals(started, arrived);
    assertNotSame(started, arrived, "serialize-messages should have delivered a deserialized copy");
    // One that cannot be serialized (a stored event needs its host) is not delivered at all.
    events.ref().tell(new ContainerStarted(Samples.meta(), null, 1));
    events.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void enumMessagesAndNullsInTransientMessagesRoundTrip() throws Exception {
    BerthSerializer s = (BerthSerializer) serialization.serializerFor(BerthMessage.class);
    var refused = new ContainerReply.Refused(null);
    assertEquals(refused, s.fromBinary(s.toBinary(refused), s.manifest(refused)));
    var exec = new ContainerReply.ExecResult(-1, null, "é\u0000x", true);
    assertEquals(exec, s.fromBinary(s.toBinary(exec), s.manifest(exec)));
    assertSame(BerthSerializer.class, s.getClass());
  }

  @Test
  void unregisteredClassesAreRefusedWhenWriting() throws Exception {
    BerthSerializer s = (BerthSerializer) serialization.serializerFor(BerthMessage.class);
    record Unregistered(String x) implements BerthMessage {}
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.toBinary(new Unregistered("x")));
    assertTrue(e.getMessage().contains("not in KryoRegistry"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.manifest(new Unregistered("x")));
  }
}
