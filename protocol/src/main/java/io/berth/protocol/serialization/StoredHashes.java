package io.berth.protocol.serialization;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventHashes;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;

/**
 * The link hash of the stored bytes every decoded event was read from. The hash chain is over what Cassandra holds;
 * re-serializing an event read back gives today's layout, which differs after an upcast (an older version's bytes)
 * and could differ for any row an older build wrote. The entities' folds ask here first ({@link EventHashes#hashOf}),
 * so a replay continues the chain from the real head, computed from the same bytes, by the same function
 * ({@link EventHashes#link}), as {@code audit verify} computes it from the raw rows.
 *
 * <p>Weak keys: an entry lives as long as the decoded event does (a replay's fold holds it while it applies it).
 * Keys compare by value; two equal events read from different bytes cannot both be in one log, since each carries
 * the link to its predecessor and its own time.
 */
public final class StoredHashes {
  private static final Map<BerthEvent, String> HASHES = Collections.synchronizedMap(new WeakHashMap<>());

  private StoredHashes() {}

  static void remember(BerthEvent event, byte[] storedBytes) {
    HASHES.put(event, EventHashes.link(storedBytes));
  }

  /** The link hash of the bytes {@code event} was decoded from; empty for an event this JVM made. */
  public static Optional<String> of(BerthEvent event) {
    return Optional.ofNullable(HASHES.get(event));
  }
}
