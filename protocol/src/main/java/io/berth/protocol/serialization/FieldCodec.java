package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * How one record component goes on the wire in a command, reply or state (not in stored events,
 * which have hand-written {@link EventFormat}s). Chosen once per component from its declared generic
 * type: JDK types (strings, numbers, instants, optionals, lists, sets, maps) are written here with
 * guarded lengths, typed ActorRefs as resolver strings, and every other class through its Kryo
 * registration (a final class by its serializer; an interface, such as a sealed state, with its
 * registered class id first). Nothing unregistered is ever instantiated.
 */
abstract class FieldCodec {
  abstract void write(BerthKryo kryo, Output out, Object value, String field);

  abstract Object read(BerthKryo kryo, Input in, String field);

  static FieldCodec of(Type type) {
    Class<?> raw = raw(type);
    if (raw.isPrimitive()) return primitive(raw);
    if (raw == String.class) return STRING;
    if (raw == Instant.class) return INSTANT;
    if (raw == Duration.class) return DURATION;
    if (raw == UUID.class) return UUID_CODEC;
    if (raw == byte[].class) return BYTES;
    if (raw == Long.class || raw == Integer.class || raw == Boolean.class || raw == Double.class) {
      return new Nullable(primitive(unbox(raw)));
    }
    if (ActorRef.class.isAssignableFrom(raw)) return ACTOR_REF;
    if (raw == Optional.class) return new OptionalCodec(of(arg(type, 0)));
    if (raw == List.class || raw == Collection.class) return new ListCodec(of(arg(type, 0)), false);
    if (raw == Set.class || raw == SortedSet.class) return new ListCodec(of(arg(type, 0)), true, raw == SortedSet.class);
    if (raw == Map.class || raw == SortedMap.class) return new MapCodec(of(arg(type, 0)), of(arg(type, 1)), raw == SortedMap.class);
    if (Collection.class.isAssignableFrom(raw) || Map.class.isAssignableFrom(raw)) {
      throw new IllegalArgumentException("declare collections as List, Set, SortedSet, Map or SortedMap, not " + raw.getName());
    }
    boolean exact = raw.isRecord() || raw.isEnum() || (Modifier.isFinal(raw.getModifiers()) && !raw.isInterface());
    return exact ? new Exact(raw) : new Polymorphic(raw);
  }

  private static Class<?> raw(Type t) {
    if (t instanceof Class<?> c) return c;
    if (t instanceof ParameterizedType p) return (Class<?>) p.getRawType();
    if (t instanceof WildcardType w) return raw(w.getUpperBounds()[0]);
    if (t instanceof TypeVariable<?> v) return raw(v.getBounds()[0]);
    if (t instanceof GenericArrayType) throw new IllegalArgumentException("generic arrays are not supported: " + t);
    throw new IllegalArgumentException("unsupported type " + t);
  }

  private static Type arg(Type t, int i) {
    if (t instanceof ParameterizedType p) return p.getActualTypeArguments()[i];
    return Object.class;
  }

  private static Class<?> unbox(Class<?> c) {
    if (c == Long.class) return long.class;
    if (c == Integer.class) return int.class;
    if (c == Boolean.class) return boolean.class;
    return double.class;
  }

  private static FieldCodec primitive(Class<?> c) {
    if (c == long.class) return LONG;
    if (c == int.class) return INT;
    if (c == boolean.class) return BOOLEAN;
    if (c == double.class) return DOUBLE;
    throw new IllegalArgumentException("unsupported primitive " + c + ": use int, long, boolean or double");
  }

  // --- scalars ----------------------------------------------------------------------------------

  static final FieldCodec LONG = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      out.writeVarLong((Long) v, false);
    }

    Object read(BerthKryo k, Input in, String f) {
      return Wire.readSignedLong(in, f);
    }
  };

  static final FieldCodec INT = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      out.writeVarInt((Integer) v, false);
    }

    Object read(BerthKryo k, Input in, String f) {
      return Wire.readSignedInt(in, f);
    }
  };

  static final FieldCodec BOOLEAN = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      out.writeBoolean((Boolean) v);
    }

    Object read(BerthKryo k, Input in, String f) {
      return Wire.readBoolean(in, f);
    }
  };

  static final FieldCodec DOUBLE = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      out.writeDouble((Double) v);
    }

    Object read(BerthKryo k, Input in, String f) {
      Wire.need(in, f, 8);
      return in.readDouble();
    }
  };

  static final FieldCodec STRING = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      Wire.writeString(out, (String) v);
    }

    Object read(BerthKryo k, Input in, String f) {
      return Wire.readString(in, f);
    }
  };

  static final FieldCodec BYTES = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      byte[] b = (byte[]) v;
      Wire.writeCount(out, b == null ? -1 : b.length);
      if (b != null) out.writeBytes(b);
    }

    Object read(BerthKryo k, Input in, String f) {
      int n = Wire.readLength(in, f, BerthKryo.MAX_MESSAGE_BYTES);
      return n < 0 ? null : in.readBytes(n);
    }
  };

  /** Seconds (zig-zag varlong) and nanos; null is a 0 flag byte. */
  static final FieldCodec INSTANT = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      Instant i = (Instant) v;
      out.writeBoolean(i != null);
      if (i != null) {
        out.writeVarLong(i.getEpochSecond(), false);
        out.writeVarInt(i.getNano(), true);
      }
    }

    Object read(BerthKryo k, Input in, String f) {
      if (!Wire.readPresent(in, f)) return null;
      long s = (Long) LONG.read(k, in, f);
      int n = Wire.readInt(in, f);
      try {
        return Instant.ofEpochSecond(s, n);
      } catch (RuntimeException e) {
        throw new WireFormatException(f, "not a valid instant: " + s + "s " + n + "ns", e);
      }
    }
  };

  static final FieldCodec DURATION = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      Duration d = (Duration) v;
      out.writeBoolean(d != null);
      if (d != null) {
        out.writeVarLong(d.getSeconds(), false);
        out.writeVarInt(d.getNano(), true);
      }
    }

    Object read(BerthKryo k, Input in, String f) {
      if (!Wire.readPresent(in, f)) return null;
      long s = (Long) LONG.read(k, in, f);
      int n = Wire.readInt(in, f);
      try {
        return Duration.ofSeconds(s, n);
      } catch (RuntimeException e) {
        throw new WireFormatException(f, "not a valid duration: " + s + "s " + n + "ns", e);
      }
    }
  };

  static final FieldCodec UUID_CODEC = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      UUID u = (UUID) v;
      out.writeBoolean(u != null);
      if (u != null) {
        out.writeLong(u.getMostSignificantBits());
        out.writeLong(u.getLeastSignificantBits());
      }
    }

    Object read(BerthKryo k, Input in, String f) {
      if (!Wire.readPresent(in, f)) return null;
      Wire.need(in, f, 16);
      return new UUID(in.readLong(), in.readLong());
    }
  };

  static final FieldCodec ACTOR_REF = new FieldCodec() {
    void write(BerthKryo k, Output out, Object v, String f) {
      Wire.writeString(out, v == null ? null : k.actorRefs().toSerializationFormat((ActorRef<?>) v, f));
    }

    Object read(BerthKryo k, Input in, String f) {
      String path = Wire.readString(in, f, ActorRefCodec.MAX_REF_BYTES);
      return path == null ? null : k.actorRefs().resolve(path, f);
    }
  };

  // --- containers -------------------------------------------------------------------------------

  private static final class Nullable extends FieldCodec {
    private final FieldCodec inner;

    Nullable(FieldCodec inner) {
      this.inner = inner;
    }

    void write(BerthKryo k, Output out, Object v, String f) {
      out.writeBoolean(v != null);
      if (v != null) inner.write(k, out, v, f);
    }

    Object read(BerthKryo k, Input in, String f) {
      return Wire.readPresent(in, f) ? inner.read(k, in, f) : null;
    }
  }

  /** 0 null, 1 empty, 2 present + value. */
  private static final class OptionalCodec extends FieldCodec {
    private final FieldCodec inner;

    OptionalCodec(FieldCodec inner) {
      this.inner = inner;
    }

    void write(BerthKryo k, Output out, Object v, String f) {
      Optional<?> o = (Optional<?>) v;
      if (o == null) {
        out.writeByte(0);
      } else if (o.isEmpty()) {
        out.writeByte(1);
      } else {
        out.writeByte(2);
        inner.write(k, out, o.get(), f);
      }
    }

    Object read(BerthKryo k, Input in, String f) {
      byte flag = Wire.readByte(in, f);
      switch (flag) {
        case 0:
          return null;
        case 1:
          return Optional.empty();
        case 2:
          Object v = inner.read(k, in, f);
          if (v == null) throw new WireFormatException(f, "a present Optional holds null");
          return Optional.of(v);
        default:
          throw new WireFormatException(f, "unknown Optional flag " + flag);
      }
    }
  }

  /** Lists and sets: count + 1 (0 null), then the elements. */
  private static final class ListCodec extends FieldCodec {
    private final FieldCodec element;
    private final boolean set;
    private final boolean sorted;

    ListCodec(FieldCodec element, boolean set) {
      this(element, set, false);
    }

    ListCodec(FieldCodec element, boolean set, boolean sorted) {
      this.element = element;
      this.set = set;
      this.sorted = sorted;
    }

    void write(BerthKryo k, Output out, Object v, String f) {
      Collection<?> c = (Collection<?>) v;
      Wire.writeCount(out, c == null ? -1 : c.size());
      if (c == null) return;
      for (Object e : c) element.write(k, out, e, f);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    Object read(BerthKryo k, Input in, String f) {
      int n = Wire.readCount(in, f, Wire.MAX_COUNT, 1);
      if (n < 0) return null;
      List<Object> items = new ArrayList<>(n);
      for (int i = 0; i < n; i++) items.add(element.read(k, in, f));
      if (!set) return Collections.unmodifiableList(items);
      Set s = sorted ? new TreeSet<>() : new LinkedHashSet<>(n * 2);
      s.addAll(items);
      if (s.size() != n) throw new WireFormatException(f, "a set holds the same element twice");
      return sorted ? Collections.unmodifiableSortedSet((SortedSet) s) : Collections.unmodifiableSet(s);
    }
  }

  /** count + 1 (0 null), then key, value pairs in the map's order. */
  private static final class MapCodec extends FieldCodec {
    private final FieldCodec key;
    private final FieldCodec value;
    private final boolean sorted;

    MapCodec(FieldCodec key, FieldCodec value, boolean sorted) {
      this.key = key;
      this.value = value;
      this.sorted = sorted;
    }

    void write(BerthKryo k, Output out, Object v, String f) {
      Map<?, ?> m = (Map<?, ?>) v;
      Wire.writeCount(out, m == null ? -1 : m.size());
      if (m == null) return;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        key.write(k, out, e.getKey(), f);
        value.write(k, out, e.getValue(), f);
      }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    Object read(BerthKryo k, Input in, String f) {
      int n = Wire.readCount(in, f, Wire.MAX_COUNT, 2);
      if (n < 0) return null;
      Map m = sorted ? new TreeMap<>() : new LinkedHashMap<>(n * 2);
      for (int i = 0; i < n; i++) {
        Object kv = key.read(k, in, f);
        if (kv == null) throw new WireFormatException(f, "a key must be given, found null");
        Object vv = value.read(k, in, f);
        if (m.put(kv, vv) != null) throw new WireFormatException(f, "key '" + kv + "' appears twice");
      }
      return sorted ? Collections.unmodifiableSortedMap((SortedMap) m) : Collections.unmodifiableMap(m);
    }
  }

  // --- registered classes -----------------------------------------------------------------------

  /** A record, enum or final class: the declared class is what is there, so no class id is written. */
  private static final class Exact extends FieldCodec {
    private final Class<?> type;

    Exact(Class<?> type) {
      this.type = type;
    }

    void write(BerthKryo k, Output out, Object v, String f) {
      k.writeObjectOrNull(out, v, type);
    }

    Object read(BerthKryo k, Input in, String f) {
      return k.readObjectOrNull(in, type);
    }
  }

  /** An interface (a sealed state or reply): the registered class id, then the object. */
  private static final class Polymorphic extends FieldCodec {
    private final Class<?> type;

    Polymorphic(Class<?> type) {
      this.type = type;
    }

    void write(BerthKryo k, Output out, Object v, String f) {
      k.writeClassAndObject(out, v);
    }

    Object read(BerthKryo k, Input in, String f) {
      Object v = k.readClassAndObject(in);
      if (v != null && !type.isInstance(v)) {
        throw new WireFormatException(f, "expected a " + type.getSimpleName() + ", found a " + v.getClass().getSimpleName());
      }
      return v;
    }
  }
}
