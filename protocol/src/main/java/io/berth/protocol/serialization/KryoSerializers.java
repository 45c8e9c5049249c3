package io.berth.protocol.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.berth.protocol.event.BerthEvent;

/** Adapters that plug Berth's hand-written layouts into Kryo's registration. */
final class KryoSerializers {
  private KryoSerializers() {}

  interface ValueWriter<T> {
    void write(Output out, T value, String field);
  }

  interface ValueReader<T> {
    T read(Input in, String field);
  }

  /** A value type through its {@link ValueCodecs} layout (the same bytes as inside stored events). */
  static <T> Serializer<T> value(Class<T> type, ValueWriter<T> writer, ValueReader<T> reader) {
    String field = type.getSimpleName();
    return new Serializer<T>(false, true) {
      @Override
      public void write(Kryo kryo, Output output, T object) {
        writer.write(output, object, field);
      }

      @Override
      public T read(Kryo kryo, Input input, Class<? extends T> t) {
        return reader.read(input, field);
      }
    };
  }

  /** An event nested in a message (a reply listing events): its version, then its fields. */
  static <E extends BerthEvent> Serializer<E> event(EventFormat<E> format) {
    return new Serializer<E>(false, true) {
      @Override
      public void write(Kryo kryo, Output output, E event) {
        format.write(output, event);
      }

      @Override
      public E read(Kryo kryo, Input input, Class<? extends E> t) {
        return format.read(input);
      }
    };
  }

  /** An enum by ordinal, bounds-checked (transient messages only; stored events write names). */
  static <E extends Enum<E>> Serializer<E> enumeration(Class<E> type) {
    E[] constants = type.getEnumConstants();
    return new Serializer<E>(false, true) {
      @Override
      public void write(Kryo kryo, Output output, E value) {
        output.writeVarInt(value.ordinal(), true);
      }

      @Override
      public E read(Kryo kryo, Input input, Class<? extends E> t) {
        int ordinal = Wire.readInt(input, type.getSimpleName());
        if (ordinal < 0 || ordinal >= constants.length) {
          throw new WireFormatException(type.getSimpleName(), "ordinal " + ordinal + " is not one of the " + constants.length + " constants");
        }
        return constants[ordinal];
      }
    };
  }
}
