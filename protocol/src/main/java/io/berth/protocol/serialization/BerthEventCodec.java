package io.berth.protocol.serialization;

import io.berth.protocol.event.BerthEvent;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.List;

/**
 * The stored form of every Berth event, without an ActorSystem: what the journal holds (through
 * {@link BerthSerializer}) and what the hash chain hashes ({@code EventHashes}). The bytes are
 * deterministic: the same event gives the same bytes on every node and every run (fixed field order,
 * maps sorted by key, no references, no class names).
 */
public final class BerthEventCodec {
  private static final EventCodec CODEC = EventCodec.of(allFormats());

  private BerthEventCodec() {}

  /** Every event format of this build; one per event type. */
  public static List<EventFormat<?>> allFormats() {
    List<EventFormat<?>> all = new ArrayList<>(ContainerEventFormats.ALL);
    all.addAll(HostEventFormats.ALL);
    all.addAll(DirectoryEventFormats.ALL);
    all.addAll(AccessEventFormats.ALL);
    return List.copyOf(all);
  }

  /** The codec holding {@link #allFormats()}. */
  public static EventCodec codec() {
    return CODEC;
  }

  /** {@code <SimpleName>:<version>}, e.g. {@code ContainerStarted:1}. */
  public static String manifest(BerthEvent event) {
    return CODEC.manifest(event);
  }

  /** The event's stored bytes: version first, then its fields. */
  public static byte[] toBytes(BerthEvent event) {
    return CODEC.toBytes(event);
  }

  /** The event stored under {@code manifest}; any bad input gives a clear {@link NotSerializableException}. */
  public static BerthEvent fromBytes(String manifest, byte[] bytes) throws NotSerializableException {
    return CODEC.fromBytes(manifest, bytes);
  }
}
