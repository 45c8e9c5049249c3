package io.berth.isolation.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The user namespace mapping in a CRIU checkpoint ({@code userns-N.img}), moved to another host range.
 *
 * <p>CRIU writes every id in its images relative to the container's user namespace (0 is the container's
 * root) except the namespace's own mapping, which names the dumping host's range, and it restores that
 * mapping as it finds it ({@code --join-ns user} is not usable: CRIU clones a new user namespace before
 * it would join one). A container restored on a host that gave it another range must have the mapping
 * say that range: its layers are idmapped with it there. The image is CRIU's: two magic numbers, then
 * entries of a little-endian u32 size and a protobuf {@code userns_entry} (repeated {@code uid_gid_extent
 * uid_map = 1, gid_map = 2}; an extent is {@code first = 1, lower_first = 2, count = 3}, varints).
 * Berth maps one extent per map, {@code 0 BASE 65536}; anything else is refused, not guessed at.
 */
public final class UsernsImage {
  private UsernsImage() {}

  /** Rewrites the mapping of every userns image in {@code images} to start at {@code base}; returns how many it rewrote. */
  public static int rebase(Path images, long base, long count) {
    List<Path> files;
    try (Stream<Path> s = Files.list(images)) {
      files = s.filter(p -> p.getFileName().toString().matches("userns-[0-9]+\\.img")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("list " + images, e);
    }
    for (Path f : files) {
      try {
        Files.write(f, rebase(Files.readAllBytes(f), base, count, f));
      } catch (IOException e) {
        throw new UncheckedIOException("rewrite " + f, e);
      }
    }
    return files.size();
  }

  static byte[] rebase(byte[] image, long base, long count, Path name) {
    ByteBuffer in = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    ByteArrayOutputStream out = new ByteArrayOutputStream(image.length + 16);
    if (image.length < 8) throw bad(name, "shorter than its two magic numbers");
    out.write(image, 0, 8);
    in.position(8);
    while (in.remaining() > 0) {
      if (in.remaining() < 4) throw bad(name, "truncated entry size");
      int size = in.getInt();
      if (size < 0 || size > in.remaining()) throw bad(name, "entry of " + size + " bytes with " + in.remaining() + " left");
      byte[] entry = new byte[size];
      in.get(entry);
      byte[] rewritten = rewriteEntry(entry, base, count, name);
      ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(rewritten.length);
      out.write(len.array(), 0, 4);
      out.write(rewritten, 0, rewritten.length);
    }
    return out.toByteArray();
  }

  private static byte[] rewriteEntry(byte[] entry, long base, long count, Path name) {
    ByteBuffer in = ByteBuffer.wrap(entry);
    ByteArrayOutputStream out = new ByteArrayOutputStream(entry.length + 8);
    List<Integer> maps = new ArrayList<>();
    while (in.hasRemaining()) {
      long key = varint(in, name);
      int field = (int) (key >>> 3);
      if ((key & 7) != 2 || (field != 1 && field != 2)) throw bad(name, "unexpected field " + field + " wire type " + (key & 7));
      int len = (int) varint(in, name);
      if (len < 0 || len > in.remaining()) throw bad(name, "extent of " + len + " bytes");
      byte[] ext = new byte[len];
      in.get(ext);
      long[] fields = extent(ext, name);
      if (fields[0] != 0 || fields[2] != count) {
        throw bad(name, "map extent " + fields[0] + " " + fields[1] + " " + fields[2] + " is not Berth's (0 BASE " + count + ")");
      }
      maps.add(field);
      byte[] newExt = extentBytes(0, base, count);
      putVarint(out, key);
      putVarint(out, newExt.length);
      out.write(newExt, 0, newExt.length);
    }
    if (!maps.equals(List.of(1, 2))) throw bad(name, "expected one uid and one gid extent, found fields " + maps);
    return out.toByteArray();
  }

  private static long[] extent(byte[] ext, Path name) {
    ByteBuffer in = ByteBuffer.wrap(ext);
    long[] f = {-1, -1, -1};
    while (in.hasRemaining()) {
      long key = varint(in, name);
      int field = (int) (key >>> 3);
      if ((key & 7) != 0 || field < 1 || field > 3) throw bad(name, "unexpected extent field " + field);
      f[field - 1] = varint(in, name);
    }
    if (f[0] < 0 || f[1] < 0 || f[2] < 0) throw bad(name, "extent without all of first, lower_first, count");
    return f;
  }

  private static byte[] extentBytes(long first, long lowerFirst, long count) {
    ByteArrayOutputStream o = new ByteArrayOutputStream(16);
    putVarint(o, 1 << 3);
    putVarint(o, first);
    putVarint(o, 2 << 3);
    putVarint(o, lowerFirst);
    putVarint(o, 3 << 3);
    putVarint(o, count);
    return o.toByteArray();
  }

  private static long varint(ByteBuffer in, Path name) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!in.hasRemaining()) throw bad(name, "truncated varint");
      byte b = in.get();
      v |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw bad(name, "varint longer than 10 bytes");
  }

  private static void putVarint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  private static CriuException bad(Path name, String why) {
    return new CriuException("CRIU image " + name + ": " + why, "");
  }
}
