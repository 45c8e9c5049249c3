package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.berth.protocol.InvalidFieldException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;

/**
 * A registered record (command, reply, state) as its components in declaration order, each through
 * the {@link FieldCodec} its declared type calls for; read back through the canonical constructor,
 * so the record's own validation runs on what arrives.
 *
 * <p>Used instead of Kryo's {@code RecordSerializer} because that one reads collections with Kryo's
 * unguarded sizes and writes JDK-internal collection classes ({@code ImmutableCollections$ListN})
 * that would all need registering. No schema evolution: fine for messages that are never stored,
 * between nodes running the same build. Stored events use {@link EventFormat}s instead.
 */
final class GuardedRecordSerializer<T> extends Serializer<T> {
  private final Class<T> type;
  private final String name;
  private final Method[] accessors;
  private final String[] fields;
  private final FieldCodec[] codecs;
  private final Constructor<T> constructor;

  GuardedRecordSerializer(Class<T> type) {
    super(false, true);
    if (!type.isRecord()) throw new IllegalArgumentException(type.getName() + " is not a record");
    this.type = type;
    this.name = type.getSimpleName();
    RecordComponent[] components = type.getRecordComponents();
    accessors = new Method[components.length];
    fields = new String[components.length];
    codecs = new FieldCodec[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      accessors[i] = components[i].getAccessor();
      accessors[i].setAccessible(true);
      fields[i] = name + "." + components[i].getName();
      types[i] = components[i].getType();
      try {
        codecs[i] = FieldCodec.of(components[i].getGenericType());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("cannot serialize " + fields[i] + ": " + e.getMessage(), e);
      }
    }
    try {
      constructor = type.getDeclaredConstructor(types);
      constructor.setAccessible(true);
    } catch (NoSuchMethodException e) {
      throw new IllegalArgumentException(type.getName() + " has no canonical constructor", e);
    }
  }

  @Override
  public void write(Kryo kryo, Output output, T object) {
    BerthKryo k = (BerthKryo) kryo;
    for (int i = 0; i < codecs.length; i++) {
      Object value;
      try {
        value = accessors[i].invoke(object);
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("read " + fields[i], e);
      }
      codecs[i].write(k, output, value, fields[i]);
    }
  }

  @Override
  public T read(Kryo kryo, Input input, Class<? extends T> t) {
    BerthKryo k = (BerthKryo) kryo;
    Object[] args = new Object[codecs.length];
    for (int i = 0; i < codecs.length; i++) args[i] = codecs[i].read(k, input, fields[i]);
    try {
      return constructor.newInstance(args);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof InvalidFieldException ife) throw ValueCodecs.invalid(name, type, ife);
      throw new WireFormatException(name, "refused by its constructor: " + cause, cause);
    } catch (InstantiationException | IllegalAccessException | IllegalArgumentException e) {
      throw new WireFormatException(name, "cannot be constructed from what was read: " + e, e);
    }
  }
}
