package io.berth.protocol.event;

import io.berth.protocol.serialization.BerthEventCodec;
import io.berth.protocol.serialization.StoredHashes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The per-entity hash chain: every event carries the link hash of the stored bytes of the previous event of the same
 * entity ({@link EventMeta#prevHash()}). {@link #link} is the one function that computes a link, used alike by the
 * entities' folds (through {@link #hashOf}) and by {@code audit verify} over the raw rows, so both agree by
 * construction: the bytes hashed are what Cassandra holds, never a re-serialization of a decoded event.
 */
public final class EventHashes {
  private static final HexFormat HEX = HexFormat.of();

  private EventHashes() {}

  /** The link hash of one event's stored bytes: hex SHA-256, 64 lowercase digits. */
  public static String link(byte[] storedBytes) {
    try {
      return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(storedBytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
    }
  }

  /**
   * The link hash of {@code event}'s stored bytes: of the bytes it was decoded from when it was read from the journal
   * (whatever their version), otherwise of the bytes the Berth serializer stores for it (an event about to be
   * persisted; the serializer writes exactly {@link BerthEventCodec#toBytes}).
   */
  public static String hashOf(BerthEvent event) {
    return StoredHashes.of(event).orElseGet(() -> link(BerthEventCodec.toBytes(event)));
  }
}
