package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.MapReferenceResolver;

/**
 * One Kryo instance with every Berth class registered under its fixed id ({@link KryoRegistry}),
 * registration required, no references (messages are trees), a bounded depth, and its own output
 * buffer. Not thread-safe: {@link BerthSerializer} pools them.
 */
final class BerthKryo extends Kryo {
  /** The largest message written or read (Pekko's remoting frame is far smaller by default). */
  static final int MAX_MESSAGE_BYTES = 16 << 20;
  /** Messages nest a few levels (reply, state, data, spec); deeper is corruption, not data. */
  static final int MAX_DEPTH = 32;
  /** Buffers that grew past this for one big message are not kept in the pool. */
  private static final int KEEP_BUFFER_BYTES = 1 << 20;

  private final ActorRefCodec actorRefs;
  private Output output = newOutput();

  BerthKryo(ActorRefCodec actorRefs) {
    super(new RegisteredOnly(), new MapReferenceResolver());
    this.actorRefs = actorRefs;
    setRegistrationRequired(true);
    setReferences(false);
    setMaxDepth(MAX_DEPTH);
    KryoRegistry.registerAll(this);
  }

  ActorRefCodec actorRefs() {
    return actorRefs;
  }

  /** This instance's output, reset. */
  Output output() {
    if (output.getBuffer().length > KEEP_BUFFER_BYTES) output = newOutput();
    output.reset();
    return output;
  }

  private static Output newOutput() {
    return new Output(1024, MAX_MESSAGE_BYTES);
  }

  /**
   * Classes by id only. Kryo reads a class written by name (an unregistered one) before it checks registration, and
   * the name's length comes from the bytes: corrupt bytes claiming a name of 2^31 characters made it allocate and
   * read for seconds (BadInputTest found it). Berth never writes a class by name, so reading one is refused at once.
   */
  private static final class RegisteredOnly extends DefaultClassResolver {
    @Override
    protected Registration readName(Input input) {
      throw new KryoException("a class named in the bytes, not one of Berth's registered ids (corrupt)");
    }
  }
}
