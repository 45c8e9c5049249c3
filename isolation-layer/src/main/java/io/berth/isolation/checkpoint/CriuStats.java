package io.berth.isolation.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What CRIU itself measured of a dump, from the {@code stats-dump} image it writes into the images directory:
 * how long the tasks were frozen. Read rather than timed from outside, because the wall time of the {@code criu}
 * process also counts its start, its checks and its writing after the tasks go on.
 *
 * <p>The file is one CRIU image: a 32-bit service magic, the stats magic, then one entry (a 32-bit little-endian
 * size and a protobuf {@code stats_entry}, whose field 1 is a {@code dump_stats_entry}: {@code freezing_time} = 1,
 * {@code frozen_time} = 2, {@code memdump_time} = 3, {@code memwrite_time} = 4, {@code pages_written} = 7, times in
 * microseconds; CRIU's {@code images/stats.proto}). Only varints and length-delimited fields are read; others are
 * refused, so a file of another format fails clearly rather than giving a wrong number.
 */
public final class CriuStats {
  public static final String DUMP_FILE = "stats-dump";
  private static final int IMG_SERVICE_MAGIC = 0x55105940;
  private static final int IMG_COMMON_MAGIC = 0x54564319;
  private static final int STATS_MAGIC = 0x57093306;
  /** A dump's stats are a few dozen bytes; anything much larger is not one. */
  private static final int MAX_BYTES = 64 * 1024;

  /** The times of one dump, in microseconds, and the pages it wrote. */
  public record Dump(long freezingMicros, long frozenMicros, long memdumpMicros, long memwriteMicros, long pagesWritten) {}

  private CriuStats() {}

  /** The dump's stats in {@code imagesDir}; empty when CRIU wrote none there. Throws {@link CriuException} for a file that is not one. */
  public static Optional<Dump> readDump(Path imagesDir) {
    Path file = imagesDir.resolve(DUMP_FILE);
    byte[] bytes;
    try {
      if (Files.size(file) > MAX_BYTES) throw new CriuException("criu stats " + file + ": larger than " + MAX_BYTES + " bytes", "");
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new CriuException("criu stats " + file + ": cannot read: " + e.getMessage(), "");
    }
    return Optional.of(parseDump(bytes, file.toString()));
  }

  /** Parses the bytes of a {@code stats-dump} image ({@code where} names it in errors). */
  public static Dump parseDump(byte[] bytes, String where) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    try {
      int magic = b.getInt();
      if (magic == IMG_SERVICE_MAGIC || magic == IMG_COMMON_MAGIC) magic = b.getInt();
      if (magic != STATS_MAGIC) throw bad(where, String.format("magic 0x%08x is not CRIU's stats image (0x%08x)", magic, STATS_MAGIC));
      int size = b.getInt();
      if (size < 0 || size > b.remaining()) throw bad(where, "entry of " + size + " bytes, " + b.remaining() + " left");
      ByteBuffer entry = b.slice(b.position(), size);
      ByteBuffer dump = null;
      while (entry.hasRemaining()) {
        long key = varint(entry, where);
        if (key == ((1 << 3) | 2)) dump = lengthDelimited(entry, where);
        else skip(entry, key, where);
      }
      if (dump == null) throw bad(where, "no dump entry (a restore's stats?)");
      long[] f = new long[8];
      boolean[] seen = new boolean[8];
      while (dump.hasRemaining()) {
        long key = varint(dump, where);
        int field = (int) (key >>> 3);
        if ((key & 7) == 0 && field < f.length) {
          f[field] = varint(dump, where);
          seen[field] = true;
        } else {
          skip(dump, key, where);
        }
      }
      if (!seen[2]) throw bad(where, "no frozen_time in the dump entry");
      return new Dump(f[1], f[2], f[3], f[4], f[7]);
    } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
      throw bad(where, "truncated (" + bytes.length + " bytes)");
    }
  }

  private static long varint(ByteBuffer b, String where) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte x = b.get();
      v |= (long) (x & 0x7f) << shift;
      if ((x & 0x80) == 0) return v;
    }
    throw bad(where, "a varint longer than 10 bytes");
  }

  private static ByteBuffer lengthDelimited(ByteBuffer b, String where) {
    long n = varint(b, where);
    if (n < 0 || n > b.remaining()) throw bad(where, "a field of " + n + " bytes, " + b.remaining() + " left");
    ByteBuffer s = b.slice(b.position(), (int) n);
    b.position(b.position() + (int) n);
    return s;
  }

  private static void skip(ByteBuffer b, long key, String where) {
    switch ((int) (key & 7)) {
      case 0 -> varint(b, where);
      case 2 -> lengthDelimited(b, where);
      default -> throw bad(where, "field " + (key >>> 3) + " has wire type " + (key & 7) + ", not in CRIU's stats");
    }
  }

  private static CriuException bad(String where, String why) {
    return new CriuException("criu stats " + where + ": " + why, "");
  }
}
