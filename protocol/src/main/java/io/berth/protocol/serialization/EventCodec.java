package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.berth.protocol.event.BerthEvent;
import java.io.NotSerializableException;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Events to and from their stored bytes through their {@link EventFormat}s; no ActorSystem needed.
 * {@link BerthEventCodec} is the instance holding every format of this build; tests build others (for
 * example one that can also read an older version) with {@link #of}.
 */
public final class EventCodec {
  /** Events are small; a stored event above this is a bug, not data. */
  public static final int MAX_EVENT_BYTES = 1 << 20;

  private final Map<Class<?>, EventFormat<?>> byType;
  private final Map<String, EventFormat<?>> byName;
  /** Every readable manifest ({@code Name:version}) and its version: one lookup on the hot path. */
  private final Map<String, Readable> byManifest;

  private record Readable(EventFormat<?> format, int version) {}
  /** Above this, a thread's buffer is dropped after use rather than kept. */
  private static final int KEEP_BUFFER_BYTES = 64 << 10;
  /**
   * One output buffer per thread: an event is written and copied out within one call, so a thread
   * never needs two, and a thread-local costs less than a pool's queue on this hot path (every persist
   * and every hash).
   */
  private static final ThreadLocal<Output> OUTPUT = ThreadLocal.withInitial(() -> new Output(512, MAX_EVENT_BYTES));

  private EventCodec(Collection<EventFormat<?>> formats) {
    Map<Class<?>, EventFormat<?>> types = new HashMap<>();
    Map<String, EventFormat<?>> names = new LinkedHashMap<>();
    for (EventFormat<?> f : formats) {
      if (types.put(f.type(), f) != null) throw new IllegalArgumentException("two formats for " + f.type().getName());
      if (names.put(f.name(), f) != null) throw new IllegalArgumentException("two event types named " + f.name());
    }
    Map<String, Readable> manifests = new HashMap<>();
    for (EventFormat<?> f : formats) {
      for (int v : f.readableVersions()) manifests.put(f.name() + ":" + v, new Readable(f, v));
    }
    this.byType = types;
    this.byName = names;
    this.byManifest = manifests;
  }

  public static EventCodec of(Collection<EventFormat<?>> formats) {
    return new EventCodec(formats);
  }

  public List<EventFormat<?>> formats() {
    return List.copyOf(byName.values());
  }

  @SuppressWarnings("unchecked")
  public <E extends BerthEvent> EventFormat<E> formatOf(Class<E> type) {
    EventFormat<E> f = (EventFormat<E>) byType.get(type);
    if (f == null) throw new IllegalArgumentException("no stored format for event type " + type.getName() + ": add one (SERIALIZATION.md)");
    return f;
  }

  public String manifest(BerthEvent event) {
    return formatOf(event.getClass()).manifest();
  }

  /** The deterministic bytes of {@code event}: same event, same bytes, on every node and every run. */
  public byte[] toBytes(BerthEvent event) {
    Output out = OUTPUT.get();
    try {
      out.reset();
      write(out, event);
      return out.toBytes();
    } catch (KryoException e) {
      throw new WireFormatException(event.getClass().getSimpleName(), "larger than " + MAX_EVENT_BYTES + " bytes", e);
    } finally {
      if (out.getBuffer().length > KEEP_BUFFER_BYTES) OUTPUT.remove();
    }
  }

  /** Writes version and fields into {@code out} (used for events nested in Kryo messages too). */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public void write(Output out, BerthEvent event) {
    EventFormat format = formatOf(ValueCodecs.required("event", event).getClass());
    format.write(out, event);
  }

  /**
   * The event stored under {@code manifest}. Unknown types and versions, truncated, corrupt or
   * trailing bytes, and values that break a rule all give a {@link NotSerializableException} naming
   * the manifest, the field and the rule.
   */
  public BerthEvent fromBytes(String manifest, byte[] bytes) throws NotSerializableException {
    Readable known = manifest == null ? null : byManifest.get(manifest);
    if (known == null) throw notSerializable(manifest, bytes, whyUnknown(manifest));
    EventFormat<?> format = known.format();
    int version = known.version();
    if (bytes == null) throw notSerializable(manifest, null, new WireFormatException("bytes", "must be given"));
    try {
      Input in = new Input(bytes);
      BerthEvent event = format.read(in, version);
      if (Wire.remaining(in) != 0) {
        throw new WireFormatException(format.name(), Wire.remaining(in) + " bytes left over after the event (corrupt)");
      }
      // Every decoded event, not only upcast ones: the chain links the stored bytes, whatever today's writer makes of them.
      StoredHashes.remember(event, bytes);
      return event;
    } catch (RuntimeException e) {
      // KryoException (underflow), WireFormatException, and whatever a record's constructor throws.
      throw notSerializable(manifest, bytes, e);
    }
  }

  /** Why {@code manifest} names nothing this build reads, as precisely as can be said. */
  private WireFormatException whyUnknown(String manifest) {
    EventFormat<?> format;
    int version;
    try {
      int colon = manifest == null ? -1 : manifest.lastIndexOf(':');
      if (colon <= 0) throw new WireFormatException("manifest", "must be <EventType>:<version>, got " + quote(manifest));
      format = byName.get(manifest.substring(0, colon));
      if (format == null) throw new WireFormatException("manifest", "unknown event type " + quote(manifest.substring(0, colon)) + " (a newer node wrote it, or the log is corrupt)");
      try {
        version = Integer.parseInt(manifest.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new WireFormatException("manifest", "the version of " + quote(manifest) + " is not a number");
      }
      if (!format.canRead(version)) {
        throw new WireFormatException("manifest", format.name() + " version " + version + " is unknown to this build (it writes version " + format.version() + ")");
      }
    } catch (WireFormatException e) {
      return e;
    }
    return new WireFormatException("manifest", "'" + Wire.shorten(manifest) + "' is not a manifest this build reads");
  }

  static NotSerializableException notSerializable(String manifest, byte[] bytes, Throwable cause) {
    String size = bytes == null ? "no bytes" : bytes.length + " bytes";
    NotSerializableException e = new NotSerializableException(
        "cannot deserialize " + quote(manifest) + " (" + size + "): " + cause.getMessage());
    e.initCause(cause);
    return e;
  }

  private static String quote(String s) {
    return s == null ? "null" : "'" + Wire.shorten(s) + "'";
  }
}
