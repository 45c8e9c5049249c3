package io.berth.protocol.serialization;

import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * Typed {@link ActorRef}s as strings through Pekko's {@link ActorRefResolver}: a ref's string names
 * its node, so a reply reaches the asker from any member. Needs the system the serializer belongs to;
 * the event codec has none, and events hold no refs.
 */
final class ActorRefCodec {
  /** A ref string longer than this is corruption (a full remote path is well under 1 KiB). */
  static final int MAX_REF_BYTES = 4096;

  private final ExtendedActorSystem system;
  private volatile ActorRefResolver resolver;

  ActorRefCodec(ExtendedActorSystem system) {
    this.system = system;
  }

  /** No system: any ref in a message is an error (used by tests of ref-free messages). */
  static ActorRefCodec none() {
    return new ActorRefCodec(null);
  }

  String toSerializationFormat(ActorRef<?> ref, String field) {
    return resolver(field).toSerializationFormat(ref);
  }

  ActorRef<?> resolve(String path, String field) {
    try {
      return resolver(field).resolveActorRef(path);
    } catch (RuntimeException e) {
      throw new WireFormatException(field, "not an actor ref: '" + Wire.shorten(path) + "' (" + e.getMessage() + ")", e);
    }
  }

  // Resolved on first use: serializers are created while the system starts, before every extension is ready.
  private ActorRefResolver resolver(String field) {
    ActorRefResolver r = resolver;
    if (r == null) {
      if (system == null) throw new WireFormatException(field, "an ActorRef needs the serializer of an ActorSystem (BerthSerializer), not the ActorSystem-free codec");
      r = ActorRefResolver.get(Adapter.toTyped(system));
      resolver = r;
    }
    return r;
  }
}
