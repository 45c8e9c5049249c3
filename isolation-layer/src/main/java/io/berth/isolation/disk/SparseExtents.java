package io.berth.isolation.disk;

import io.berth.isolation.nativ.SyscallException;
import io.berth.isolation.nativ.Syscalls;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a sparse file (a container's disk image) holds data, as the kernel says with lseek(2) {@code SEEK_DATA}
 * and {@code SEEK_HOLE}: the extents to read and send when the image moves; the holes between them are never read.
 * ext4, xfs, btrfs and tmpfs answer from their block maps (block or page granularity: an extent may hold some
 * zeros around what was written); a filesystem without support answers "all data", which is slower but correct.
 * A file being written while it is scanned gives some snapshot of its layout: a migration's later round picks
 * up what changed.
 *
 * <p>{@link Writer} is the other side: a sparse file written by positional writes into holes, with holes punched
 * where data went away; what is never written stays a hole.
 */
public final class SparseExtents implements AutoCloseable {
  /** A range of data, {@code [offset, offset + length)}. */
  public record Extent(long offset, long length) {
    public Extent {
      if (offset < 0 || length <= 0) throw new IllegalArgumentException("extent " + offset + "+" + length);
    }

    public long end() {
      return offset + length;
    }
  }

  private final Path file;
  private final int fd;
  private final long size;

  private SparseExtents(Path file, int fd, long size) {
    this.file = file;
    this.fd = fd;
    this.size = size;
  }

  /** Opens {@code file} read-only to ask for its extents; its size is taken now (the end of every answer). */
  public static SparseExtents open(Path file) {
    int fd = Syscalls.open(file.toString(), Syscalls.O_RDONLY);
    try {
      return new SparseExtents(file, fd, Syscalls.lseek(fd, 0, Syscalls.SEEK_END, file.toString()));
    } catch (RuntimeException e) {
      Syscalls.close(fd);
      throw e;
    }
  }

  /** Every data extent of {@code file}, in order. */
  public static List<Extent> list(Path file) {
    try (SparseExtents s = open(file)) {
      return s.within(0, s.size());
    }
  }

  /** The bytes the extents hold (what a transfer of the file's data reads). */
  public static long dataBytes(List<Extent> extents) {
    long n = 0;
    for (Extent e : extents) n += e.length();
    return n;
  }

  /** The file's size when it was opened. */
  public long size() {
    return size;
  }

  /** Where the next data at or after {@code from} starts, or -1 when there is none before the end. */
  public long nextData(long from) {
    if (from >= size) return -1;
    long d = Syscalls.lseek(fd, from, Syscalls.SEEK_DATA, file.toString());
    return d < 0 || d >= size ? -1 : d;
  }

  /** The data extents inside {@code [from, to)}, cut at both ends, in order; adjacent ones are merged. */
  public List<Extent> within(long from, long to) {
    long end = Math.min(to, size);
    List<Extent> out = new ArrayList<>();
    long pos = from;
    while (pos < end) {
      long d = Syscalls.lseek(fd, pos, Syscalls.SEEK_DATA, file.toString());
      if (d < 0 || d >= end) break;
      long h = Syscalls.lseek(fd, d, Syscalls.SEEK_HOLE, file.toString());
      // SEEK_HOLE always finds one (the end of the file counts as a hole); -1 only if the file shrank meanwhile.
      long stop = h < 0 ? end : Math.min(h, end);
      if (stop <= d) break;
      if (!out.isEmpty() && out.get(out.size() - 1).end() == d) {
        Extent last = out.remove(out.size() - 1);
        out.add(new Extent(last.offset(), stop - last.offset()));
      } else {
        out.add(new Extent(d, stop - d));
      }
      pos = stop;
    }
    return out;
  }

  @Override
  public void close() {
    Syscalls.close(fd);
  }

  /**
   * A sparse file being written, mode 0600: positional writes (what is never written stays a hole), its size set
   * with ftruncate(2) (growing adds a hole), holes punched with fallocate(2) (zeros written where the filesystem
   * cannot punch). It is opened with {@code O_NOFOLLOW} and must be a regular file: a link planted at its name is
   * refused, never followed. The descriptor the JVM writes through is the same open file ({@code /proc/self/fd}),
   * so the file punched is the file written.
   */
  public static final class Writer implements AutoCloseable {
    private static final int ZEROS = 256 * 1024;
    private final Path file;
    private final int fd;
    private final RandomAccessFile raf;
    private final FileChannel channel;

    private Writer(Path file, int fd) throws IOException {
      this.file = file;
      this.fd = fd;
      Path self = Path.of("/proc/self/fd/" + fd);
      if (!Files.isRegularFile(self)) throw new DiskException("write " + file + ": not a regular file");
      this.raf = new RandomAccessFile(self.toFile(), "rw");
      this.channel = raf.getChannel();
    }

    /** A new empty file at {@code file} (whatever was at that name is removed first: a file, or a link itself). */
    public static Writer replace(Path file) {
      try {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        // createFile's mode passes through the umask, which can only take bits away: set it as wanted.
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      } catch (IOException e) {
        throw new UncheckedIOException("create " + file, e);
      }
      return open(file);
    }

    /** The existing regular file at {@code file}, to write into (a later round of the same image). */
    public static Writer open(Path file) {
      int fd = Syscalls.open(file.toString(), Syscalls.O_RDWR | Syscalls.O_NOFOLLOW);
      try {
        return new Writer(file, fd);
      } catch (IOException | RuntimeException e) {
        Syscalls.close(fd);
        if (e instanceof IOException io) throw new UncheckedIOException("open " + file, io);
        throw (RuntimeException) e;
      }
    }

    public Path file() {
      return file;
    }

    public long size() throws IOException {
      return channel.size();
    }

    /** ftruncate(2): growing leaves a hole at the end, shrinking frees the tail. */
    public void setLength(long bytes) throws IOException {
      raf.setLength(bytes);
    }

    /** Writes all of {@code src} at {@code offset}. */
    public void write(long offset, ByteBuffer src) throws IOException {
      long pos = offset;
      while (src.hasRemaining()) pos += channel.write(src, pos);
    }

    /** Frees {@code [offset, offset + length)}: a hole afterwards, or zeros where the filesystem cannot punch. */
    public void punchHole(long offset, long length) throws IOException {
      if (length <= 0) return;
      try {
        Syscalls.punchHole(fd, offset, length, file.toString());
      } catch (SyscallException e) {
        if (e.errno() != Syscalls.EOPNOTSUPP) throw e;
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(ZEROS, length));
        for (long pos = offset; pos < offset + length; ) {
          zeros.clear().limit((int) Math.min(zeros.capacity(), offset + length - pos));
          int n = channel.write(zeros, pos);
          pos += n;
        }
      }
    }

    /** fdatasync(2): the data, and the size it needs, are on the disk. */
    public void sync() throws IOException {
      channel.force(false);
    }

    @Override
    public void close() throws IOException {
      try {
        raf.close();
      } finally {
        Syscalls.close(fd);
      }
    }
  }
}
