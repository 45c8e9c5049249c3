package io.berth.bench.serialization;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.berth.protocol.BerthMessage;
import io.berth.protocol.serialization.BerthSerializer;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.SerializerWithStringManifest;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;

/**
 * The two serializers under test, built in one ActorSystem: Berth's, as protocol's reference.conf
 * binds it, and Pekko's Jackson CBOR serializer as Pekko configures it by default (its
 * ObjectMapper already has the jdk8, jsr310 and parameter-names modules). Jackson needs only to be
 * allowed to touch Berth's classes; the records need no annotations (Jackson reads records natively).
 */
final class Serializers implements AutoCloseable {
  final ActorSystem system;
  final SerializerWithStringManifest berth;
  final SerializerWithStringManifest jackson;

  Serializers() {
    Config config = ConfigFactory.parseString(String.join("\n",
            "pekko.loglevel = WARNING",
            "pekko.serialization.jackson.allowed-class-prefix = [\"io.berth.\"]"))
        .withFallback(ConfigFactory.load());
    system = ActorSystem.create("serialization-bench", config);
    try {
      berth = (SerializerWithStringManifest) SerializationExtension.get(system).serializerFor(BerthMessage.class);
    } catch (NotSerializableException e) {
      throw new IllegalStateException("protocol's reference.conf binds no serializer to BerthMessage", e);
    }
    if (!(berth instanceof BerthSerializer)) throw new IllegalStateException("BerthMessage is bound to " + berth.getClass());
    jackson = new JacksonCborSerializer((ExtendedActorSystem) system, "jackson-cbor");
  }

  /** Serializes and deserializes {@code o} with {@code s} and checks what comes back is equal. */
  static byte[] checkRoundTrip(SerializerWithStringManifest s, Object o) {
    byte[] bytes = s.toBinary(o);
    Object back;
    try {
      back = s.fromBinary(bytes, s.manifest(o));
    } catch (NotSerializableException e) {
      throw new IllegalStateException(s.getClass().getSimpleName() + " cannot read back " + o.getClass().getSimpleName(), e);
    }
    if (!o.equals(back)) {
      throw new IllegalStateException(s.getClass().getSimpleName() + " changed " + o.getClass().getSimpleName() + ": " + o + " -> " + back);
    }
    return bytes;
  }

  @Override
  public void close() {
    system.terminate();
  }
}
