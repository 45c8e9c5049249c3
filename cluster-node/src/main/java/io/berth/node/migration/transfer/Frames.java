package io.berth.node.migration.transfer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Framing;
import org.apache.pekko.util.ByteString;

/**
 * The frames of a transfer round, both directions (the format is in {@code package-info.java}). Every frame is
 * {@code type:u8 length:u32 payload[length]}, big-endian; {@link #decoder()} cuts a byte stream into whole frames
 * (Pekko's length-field framing, bounded by {@link #MAX_FRAME}) and {@link #parse} reads one.
 */
final class Frames {
  static final byte HELLO = 1;
  static final byte BEGIN = 2;
  static final byte DATA = 3;
  static final byte PUNCH = 4;
  static final byte END_FILE = 5;
  static final byte END_ROUND = 6;
  static final byte ACK = 16;
  static final byte ERROR = 17;

  static final int HEADER = 5;
  /** DATA frames carry at most this much file data: the unit of backpressure and of the bandwidth limit. */
  static final int MAX_DATA = 256 * 1024;
  static final int DATA_HEADER = HEADER + 8;
  /** No frame is longer (a longer length field fails the connection before anything is buffered). */
  static final int MAX_FRAME = DATA_HEADER + MAX_DATA;
  static final int VERSION = 1;
  private static final byte[] MAGIC = "BERTHXFR".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_TEXT = 4096;

  /** What a BEGIN frame announces. */
  enum Kind {
    /** A regular file, sent whole and in order: the receiver writes a new file of exactly {@code size} bytes. */
    FILE(1),
    /** A sparse image's first round: a new file of {@code size} bytes, holes except where DATA frames write. */
    IMAGE_FULL(2),
    /** A later round of the same image (same sync id): the file is resized, DATA written and PUNCH frames freed. */
    IMAGE_DELTA(3);

    final int code;

    Kind(int code) {
      this.code = code;
    }

    static Kind of(int code) {
      for (Kind k : values()) if (k.code == code) return k;
      throw new ProtocolError("unknown file kind " + code);
    }
  }

  /** A frame that breaks the format; the receiver answers it with an ERROR frame. */
  static final class ProtocolError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProtocolError(String message) {
      super(message);
    }
  }

  sealed interface Frame permits Hello, Begin, Data, Punch, EndFile, EndRound, Ack, Error {}

  record Hello(int version, byte[] token) implements Frame {}

  record Begin(Kind kind, long size, UUID sync, String name) implements Frame {}

  /** {@code frame} is the whole frame's bytes; the data is {@code [DATA_HEADER, DATA_HEADER + length)} of it. */
  record Data(long offset, byte[] frame, int length) implements Frame {}

  record Punch(long offset, long length) implements Frame {}

  record EndFile(long bytes, byte[] sha256) implements Frame {}

  record EndRound(int files) implements Frame {}

  record Ack(int round, int files, long bytes, byte[] sha256) implements Frame {}

  record Error(String message) implements Frame {}

  private Frames() {}

  static Flow<ByteString, ByteString, NotUsed> decoder() {
    return Framing.lengthField(4, 1, MAX_FRAME, ByteOrder.BIG_ENDIAN);
  }

  // ---- encoding ---------------------------------------------------------------------------------

  static byte[] hello(String token) {
    byte[] t = token.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = frame(HELLO, MAGIC.length + 2 + t.length);
    b.put(MAGIC).putShort((short) VERSION).put(t);
    return b.array();
  }

  static byte[] begin(Kind kind, long size, UUID sync, String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = frame(BEGIN, 1 + 8 + 16 + n.length);
    b.put((byte) kind.code).putLong(size).putLong(sync.getMostSignificantBits()).putLong(sync.getLeastSignificantBits()).put(n);
    return b.array();
  }

  /** A DATA frame with room for {@code length} bytes of data at {@link #DATA_HEADER}: the caller reads the file into it. */
  static byte[] dataFrame(long offset, int length) {
    ByteBuffer b = frame(DATA, 8 + length);
    b.putLong(offset);
    return b.array();
  }

  static byte[] punch(long offset, long length) {
    ByteBuffer b = frame(PUNCH, 16);
    b.putLong(offset).putLong(length);
    return b.array();
  }

  static byte[] endFile(long bytes, byte[] sha256) {
    ByteBuffer b = frame(END_FILE, 8 + 32);
    b.putLong(bytes).put(sha256);
    return b.array();
  }

  static byte[] endRound(int files) {
    ByteBuffer b = frame(END_ROUND, 4);
    b.putInt(files);
    return b.array();
  }

  static byte[] ack(int round, int files, long bytes, byte[] sha256) {
    ByteBuffer b = frame(ACK, 4 + 4 + 8 + 32);
    b.putInt(round).putInt(files).putLong(bytes).put(sha256);
    return b.array();
  }

  static byte[] error(String message) {
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    if (m.length > MAX_TEXT) m = java.util.Arrays.copyOf(m, MAX_TEXT);
    ByteBuffer b = frame(ERROR, m.length);
    b.put(m);
    return b.array();
  }

  private static ByteBuffer frame(byte type, int payload) {
    ByteBuffer b = ByteBuffer.allocate(HEADER + payload).order(ByteOrder.BIG_ENDIAN);
    b.put(type).putInt(payload);
    return b;
  }

  // ---- decoding ---------------------------------------------------------------------------------

  /** Reads one whole frame (as {@link #decoder()} cut it); a malformed one is a {@link ProtocolError}. */
  static Frame parse(byte[] f) {
    if (f.length < HEADER) throw new ProtocolError("frame of " + f.length + " bytes");
    ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.BIG_ENDIAN);
    byte type = b.get();
    int length = b.getInt();
    if (length != f.length - HEADER) throw new ProtocolError("frame length " + length + " in a frame of " + f.length + " bytes");
    try {
      return switch (type) {
        case HELLO -> {
          byte[] magic = new byte[MAGIC.length];
          b.get(magic);
          if (!java.util.Arrays.equals(magic, MAGIC)) throw new ProtocolError("not a Berth transfer (bad magic)");
          int version = b.getShort() & 0xffff;
          byte[] token = new byte[b.remaining()];
          b.get(token);
          yield new Hello(version, token);
        }
        case BEGIN -> {
          Kind kind = Kind.of(b.get());
          long size = b.getLong();
          UUID sync = new UUID(b.getLong(), b.getLong());
          yield new Begin(kind, size, sync, text(b));
        }
        case DATA -> {
          long offset = b.getLong();
          yield new Data(offset, f, b.remaining());
        }
        case PUNCH -> new Punch(b.getLong(), b.getLong());
        case END_FILE -> {
          long bytes = b.getLong();
          yield new EndFile(bytes, sha(b));
        }
        case END_ROUND -> new EndRound(b.getInt());
        case ACK -> {
          int round = b.getInt();
          int files = b.getInt();
          long bytes = b.getLong();
          yield new Ack(round, files, bytes, sha(b));
        }
        case ERROR -> new Error(text(b));
        default -> throw new ProtocolError("unknown frame type " + type);
      };
    } catch (java.nio.BufferUnderflowException e) {
      throw new ProtocolError("frame of type " + type + " too short (" + length + " bytes)");
    }
  }

  static byte[] bytes(ByteString frame) {
    // The decoder compacts each frame into an array of its own: this is that array, not a copy.
    return frame.toArrayUnsafe();
  }

  private static byte[] sha(ByteBuffer b) {
    byte[] s = new byte[32];
    b.get(s);
    if (b.hasRemaining()) throw new ProtocolError("frame longer than its fields");
    return s;
  }

  private static String text(ByteBuffer b) {
    if (b.remaining() > MAX_TEXT) throw new ProtocolError("text field of " + b.remaining() + " bytes");
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(b).toString(); // strict: malformed UTF-8 is refused
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new ProtocolError("text field is not UTF-8");
    }
  }
}
