package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.event.BerthEvent;
import java.util.Map;
import java.util.TreeMap;

/**
 * The versioned, hand-written format of one stored event type. Kryo 5 gives records no schema
 * evolution (a renamed component silently swaps values, an added one fails), so every event type
 * spells its own bytes out here: the version first, then its fields in a fixed order.
 *
 * <p>The manifest is {@code <SimpleName>:<version>} ({@code ContainerStarted:1}). Writing always uses
 * the current version; reading accepts the current version and every older version that has an
 * upcaster ({@link #withOldVersion}), which reads the old layout and returns the current record.
 */
public final class EventFormat<E extends BerthEvent> {

  /** Writes the fields of {@code event} (the version is already written). */
  @FunctionalInterface
  public interface Writer<E> {
    void write(Output out, E event);
  }

  /** Reads the fields of one version and returns the current record type. */
  @FunctionalInterface
  public interface Reader<E> {
    E read(Input in);
  }

  private final Class<E> type;
  private final String name;
  private final int version;
  private final String manifest;
  private final String versionField;
  private final Writer<E> writer;
  private final Map<Integer, Reader<E>> readers;

  private EventFormat(Class<E> type, int version, Writer<E> writer, Map<Integer, Reader<E>> readers) {
    if (version < 0) throw new IllegalArgumentException("version of " + type.getSimpleName() + " must be >= 0");
    this.type = type;
    this.name = type.getSimpleName();
    this.version = version;
    this.manifest = name + ":" + version;
    this.versionField = name + ".version";
    this.writer = writer;
    this.readers = Map.copyOf(readers);
  }

  public static <E extends BerthEvent> EventFormat<E> of(Class<E> type, int version, Writer<E> writer, Reader<E> reader) {
    return new EventFormat<>(type, version, writer, Map.of(version, reader));
  }

  /**
   * The same format, also able to read bytes written by an older {@code oldVersion}: the upcaster
   * reads that layout and returns the current record (defaults for fields that did not exist...).
   */
  public EventFormat<E> withOldVersion(int oldVersion, Reader<E> upcaster) {
    if (oldVersion >= version) {
      throw new IllegalArgumentException(name + ": an upcaster reads an older version than " + version + ", not " + oldVersion);
    }
    if (readers.containsKey(oldVersion)) throw new IllegalArgumentException(name + ": version " + oldVersion + " is already readable");
    Map<Integer, Reader<E>> more = new TreeMap<>(readers);
    more.put(oldVersion, upcaster);
    return new EventFormat<>(type, version, writer, more);
  }

  public Class<E> type() {
    return type;
  }

  /** The manifest's type part: the record's simple name. */
  public String name() {
    return name;
  }

  /** The version written today. */
  public int version() {
    return version;
  }

  /** What is written today: {@code name:version}. */
  public String manifest() {
    return manifest;
  }

  public boolean canRead(int v) {
    return readers.containsKey(v);
  }

  /** Every version this format reads, oldest first. */
  public java.util.Set<Integer> readableVersions() {
    return new java.util.TreeSet<>(readers.keySet());
  }

  /** The version, then the fields. */
  public void write(Output out, E event) {
    out.writeVarInt(version, true);
    writer.write(out, event);
  }

  /**
   * Reads an event whose manifest says {@code manifestVersion}; the version in the bytes must agree.
   * Does not check that the input is used up: the caller does, knowing where the event ends.
   */
  public E read(Input in, int manifestVersion) {
    int v = Wire.readInt(in, versionField);
    if (v != manifestVersion) {
      throw new WireFormatException(versionField, "the bytes say version " + v + " but the manifest says " + manifestVersion + " (corrupt)");
    }
    return readAnyVersion(in, v);
  }

  /** Reads an event whose version is known only from its bytes (an event nested in a Kryo message). */
  public E read(Input in) {
    return readAnyVersion(in, Wire.readInt(in, versionField));
  }

  private E readAnyVersion(Input in, int v) {
    Reader<E> reader = readers.get(v);
    if (reader == null) {
      throw new WireFormatException(versionField, "version " + v + " is unknown: this build reads " + new TreeMap<>(readers).keySet());
    }
    try {
      return reader.read(in);
    } catch (InvalidFieldException e) {
      throw ValueCodecs.invalid(name, type, e);
    }
  }
}
