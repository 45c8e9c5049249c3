package io.berth.protocol.event;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The per-entity hash chain: every event carries the hash of the stored bytes of the previous event of
 * the same entity ({@link EventMeta#prevHash()}). The bytes hashed are exactly what the Berth serializer
 * writes for the event, i.e. what Cassandra holds, so {@code verify} can recompute the chain from the
 * raw rows without trusting any decoder.
 */
public final class EventHashes {
  private static final HexFormat HEX = HexFormat.of();
  private static final MethodHandle TO_BYTES = findCodec();

  private EventHashes() {}

  public static String sha256Hex(byte[] bytes) {
    try {
      return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
    }
  }

  /** The hash of the bytes the Berth serializer stores for {@code event}. */
  public static String hashOf(BerthEvent event) {
    try {
      return sha256Hex((byte[]) TO_BYTES.invokeExact(event));
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("serialize " + event.getClass().getSimpleName() + " to hash it", e);
    }
  }

  // The codec lives in the serialization package of this module; it is looked up rather than named so
  // the two packages can be built one after the other. Resolved once.
  private static MethodHandle findCodec() {
    try {
      Class<?> codec = Class.forName("io.berth.protocol.serialization.BerthEventCodec");
      return MethodHandles.publicLookup().findStatic(codec, "toBytes", MethodType.methodType(byte[].class, BerthEvent.class));
    } catch (ReflectiveOperationException e) {
      return MethodHandles.dropArguments(
          MethodHandles.throwException(byte[].class, IllegalStateException.class)
              .bindTo(new IllegalStateException("no event codec: io.berth.protocol.serialization.BerthEventCodec.toBytes(BerthEvent) is missing")),
          0, BerthEvent.class);
    }
  }
}
