package io.berth.protocol.serialization;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventHashes;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;

/**
 * The stored-bytes hash of events that were read from an older version and upcast. The hash chain is over
 * what Cassandra holds; re-serializing an upcast event gives today's layout, whose hash is not the one the
 * next event's {@code prevHash} (or {@code audit verify}) expects. The entities' folds ask here first
 * ({@link EventHashes#hashOf}), so replaying an old log continues the chain from its real head.
 *
 * <p>Weak keys: an entry lives as long as the decoded event does (a replay's fold holds it until the next one).
 */
public final class UpcastHashes {
  private static final Map<BerthEvent, String> HASHES = Collections.synchronizedMap(new WeakHashMap<>());

  private UpcastHashes() {}

  static void remember(BerthEvent event, byte[] storedBytes) {
    HASHES.put(event, EventHashes.sha256Hex(storedBytes));
  }

  /** The stored bytes' hash when {@code event} was upcast from an older version; empty otherwise. */
  public static Optional<String> of(BerthEvent event) {
    return Optional.ofNullable(HASHES.get(event));
  }
}
