package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import io.berth.protocol.event.BerthEvent;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * The Pekko serializer of every {@link io.berth.protocol.BerthMessage} (bound in reference.conf).
 *
 * <ul>
 *   <li>Events: their versioned {@link EventFormat}, manifest {@code <Type>:<version>}, the same bytes
 *       {@link BerthEventCodec} gives (and the hash chain hashes).
 *   <li>Commands, replies, states: pooled Kryo with every class registered under a fixed id
 *       ({@link KryoRegistry}), manifest = the registered name ({@code ContainerCommand.Start}),
 *       typed ActorRefs as strings through the system's {@code ActorRefResolver}.
 * </ul>
 * Bad input of any kind gives a {@link NotSerializableException} naming the manifest, field and rule.
 */
public final class BerthSerializer extends SerializerWithStringManifest {
  /** Fixed forever: the journal stores it beside every event. Pekko reserves 0-40. */
  public static final int IDENTIFIER = 7301;

  private final Pool<BerthKryo> pool;

  public BerthSerializer(ExtendedActorSystem system) {
    ActorRefCodec refs = new ActorRefCodec(system);
    // Kryo is not thread-safe: one instance per concurrent caller, kept for reuse.
    this.pool = new Pool<>(true, false, 64) {
      @Override
      protected BerthKryo create() {
        return new BerthKryo(refs);
      }
    };
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof BerthEvent e) return BerthEventCodec.manifest(e);
    return entryOf(o).name();
  }

  @Override
  public byte[] toBinary(Object o) {
    if (o instanceof BerthEvent e) return BerthEventCodec.toBytes(e);
    KryoRegistry.Entry entry = entryOf(o);
    BerthKryo kryo = pool.obtain();
    try {
      Output out = kryo.output();
      kryo.writeObject(out, o);
      return out.toBytes();
    } catch (KryoException e) {
      throw new IllegalArgumentException("cannot serialize " + entry.name() + ": " + e.getMessage(), e);
    } finally {
      pool.free(kryo);
    }
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (manifest != null && manifest.indexOf(':') >= 0) return BerthEventCodec.fromBytes(manifest, bytes);
    KryoRegistry.Entry entry = manifest == null ? null : KryoRegistry.byName(manifest);
    if (entry == null) {
      throw EventCodec.notSerializable(manifest, bytes, new WireFormatException("manifest", "unknown message type (a newer node sent it, or the bytes are corrupt)"));
    }
    if (bytes == null) throw EventCodec.notSerializable(manifest, null, new WireFormatException("bytes", "must be given"));
    if (bytes.length > BerthKryo.MAX_MESSAGE_BYTES) {
      throw EventCodec.notSerializable(manifest, bytes, new WireFormatException("bytes", "larger than " + BerthKryo.MAX_MESSAGE_BYTES));
    }
    BerthKryo kryo = pool.obtain();
    try {
      Input in = new Input(bytes);
      Object o = kryo.readObject(in, entry.type());
      if (Wire.remaining(in) != 0) throw new WireFormatException(entry.name(), Wire.remaining(in) + " bytes left over after the message (corrupt)");
      return o;
    } catch (RuntimeException e) {
      throw EventCodec.notSerializable(manifest, bytes, e);
    } finally {
      // A failed read can leave Kryo mid-graph (depth, generics); reset before it goes back.
      kryo.reset();
      pool.free(kryo);
    }
  }

  private static KryoRegistry.Entry entryOf(Object o) {
    KryoRegistry.Entry entry = o == null ? null : KryoRegistry.byType(o.getClass());
    if (entry == null) {
      throw new IllegalArgumentException("cannot serialize " + (o == null ? "null" : o.getClass().getName())
          + ": not in KryoRegistry (every BerthMessage class needs a fixed id there)");
    }
    return entry;
  }
}
