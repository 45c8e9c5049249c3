package io.berth.protocol.event;

import io.berth.protocol.serialization.BerthEventCodec;
import io.berth.protocol.serialization.UpcastHashes;
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

  private EventHashes() {}

  public static String sha256Hex(byte[] bytes) {
    try {
      return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
    }
  }

  /**
   * The hash of the bytes the Berth serializer stores for {@code event}; for an event read from an older
   * version and upcast, the hash of the bytes it was read from (they are what the journal holds).
   */
  public static String hashOf(BerthEvent event) {
    return UpcastHashes.of(event).orElseGet(() -> sha256Hex(BerthEventCodec.toBytes(event)));
  }
}
