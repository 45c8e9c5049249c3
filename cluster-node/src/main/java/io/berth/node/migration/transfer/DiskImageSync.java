package io.berth.node.migration.transfer;

import io.berth.isolation.disk.SparseExtents;
import io.berth.protocol.InvalidFieldException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * A sparse disk image sent to one receiver over several rounds: the first while the container runs (pre-copy),
 * the next ones (after the freeze) only what changed since.
 *
 * <p>The image is seen in chunks of {@link #CHUNK_BYTES} at fixed offsets. A round reads the data extents of each
 * chunk (lseek SEEK_DATA/SEEK_HOLE, {@link SparseExtents}; holes are never read) and fingerprints them (their layout
 * and their bytes). The first round sends every chunk's data. A later round sends a chunk only when its
 * fingerprint differs from what the receiver was last acknowledged to hold, and then first frees the chunk's
 * holes on the receiver (PUNCH: it may hold data there from before); a chunk that held data and is now all hole
 * is only punched. The receiver's file takes the image's current size first. No kernel offers changed-block
 * tracking for a plain file, so a later round re-reads the allocated data (from the page cache, mostly: the first
 * round's reads put it there, and the loop device's direct writes invalidate what they change).
 *
 * <p>The fingerprint is CRC32C and CRC32 (two polynomials, 64 bits, both intrinsics: about 50 GB/s against
 * SHA-256's 1.1 GB/s here, and a later round runs while the container is frozen). It only decides what to send;
 * what is sent is checked end to end with SHA-256 (the round's digest). A CRC is not a cryptographic hash: a
 * tenant who arranged a chunk's new bytes to collide would only keep its own stale data.
 *
 * <p>What the receiver holds is updated only when a round is acknowledged. After a failed round every chunk it
 * touched counts as unknown (sent again, or punched, next time); a failed first round is done again in full. The
 * receiver accepts a later round only for the image id it took a first round of; a new receiver (its node
 * restarted) needs a new {@code DiskImageSync}. One round at a time.
 */
public final class DiskImageSync {
  public static final int CHUNK_BYTES = 1 << 20;
  /** What the receiver holds for a chunk when a failed round may have changed it. */
  private static final long UNKNOWN = Long.MIN_VALUE;

  private final Path image;
  private final String name;
  private final UUID id = UUID.randomUUID();
  /** Chunk index to the fingerprint the receiver holds (acknowledged), for every chunk it holds data in. */
  private final Map<Long, Long> held = new HashMap<>();
  private boolean baseline;
  private boolean busy;
  private int rounds;

  /** The image at {@code image}, sent under its own file name. */
  public DiskImageSync(Path image) {
    this(image, image == null || image.getFileName() == null ? null : image.getFileName().toString());
  }

  public DiskImageSync(Path image, String name) {
    this.image = InvalidFieldException.required("image", image);
    this.name = TransferItem.checkName("name", name);
  }

  public Path image() {
    return image;
  }

  public String name() {
    return name;
  }

  /** The rounds the receiver acknowledged. */
  public synchronized int rounds() {
    return rounds;
  }

  /** Whether a first (full) round was acknowledged: the next round sends only what changed. */
  public synchronized boolean hasBaseline() {
    return baseline;
  }

  synchronized Round startRound(int pieceBytes) {
    if (busy) throw new InvalidFieldException("items", "disk image " + name + " is being sent by another round", name);
    busy = true;
    return new Round(pieceBytes, baseline ? Map.copyOf(held) : Map.of(), !baseline);
  }

  /** Ends {@code round}: what it sent is what the receiver holds when it was acknowledged, unknown if not. */
  synchronized void finish(Round round, boolean acknowledged) {
    busy = false;
    long chunks = (round.size + CHUNK_BYTES - 1) / CHUNK_BYTES;
    if (acknowledged) {
      if (round.full) held.clear();
      for (Map.Entry<Long, Long> e : round.pending.entrySet()) {
        if (e.getValue() == null) held.remove(e.getKey());
        else held.put(e.getKey(), e.getValue());
      }
      held.keySet().removeIf(i -> i >= chunks); // the receiver's file was cut to the image's size
      baseline = true;
      rounds++;
    } else if (!baseline) {
      held.clear(); // the next round is a full one again
    } else {
      for (Long i : round.pending.keySet()) held.put(i, UNKNOWN);
      // Whether the receiver resized its file is unknown: what lay past the new end may be gone.
      for (Map.Entry<Long, Long> e : held.entrySet()) if (e.getKey() >= chunks) e.setValue(UNKNOWN);
    }
  }

  /** One round of this image: reads chunk by chunk as the connection asks for frames. */
  final class Round implements ItemFrames {
    private final int pieceBytes;
    private final Map<Long, Long> before;
    private final boolean full;
    /** Chunks whose receiver state this round changes: the new fingerprint, or null (now all hole). */
    private final Map<Long, Long> pending = new HashMap<>();
    private final TreeSet<Long> heldChunks;
    /** Direct: the kernel copies the file's pages straight into it, and the CRCs read it there (no heap copy). */
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(CHUNK_BYTES);
    private SparseExtents extents;
    private FileChannel channel;
    private long size;
    private long next;
    private long bytes;
    private long punched;
    private int chunksSent;
    private int chunksUnchanged;

    private Round(int pieceBytes, Map<Long, Long> before, boolean full) {
      this.pieceBytes = pieceBytes;
      this.before = before;
      this.full = full;
      this.heldChunks = new TreeSet<>(before.keySet());
    }

    boolean full() {
      return full;
    }

    DiskImageSync sync() {
      return DiskImageSync.this;
    }

    int chunksSent() {
      return chunksSent;
    }

    int chunksUnchanged() {
      return chunksUnchanged;
    }

    @Override
    public byte[] begin() throws IOException {
      extents = SparseExtents.open(image);
      channel = FileChannel.open(image, StandardOpenOption.READ);
      size = extents.size();
      return Frames.begin(full ? Frames.Kind.IMAGE_FULL : Frames.Kind.IMAGE_DELTA, size, id, name);
    }

    @Override
    public boolean next(Deque<byte[]> out) throws IOException {
      while (next < size) {
        // The next chunk worth a look: one with data now, or one the receiver holds data in.
        long data = extents.nextData(next);
        long dataChunk = data < 0 ? Long.MAX_VALUE : data / CHUNK_BYTES;
        Long heldChunk = heldChunks.ceiling(next / CHUNK_BYTES);
        long i = Math.min(dataChunk, heldChunk == null ? Long.MAX_VALUE : heldChunk);
        if (i == Long.MAX_VALUE || i * CHUNK_BYTES >= size) {
          next = size;
          break;
        }
        long start = i * CHUNK_BYTES;
        long end = Math.min(size, start + CHUNK_BYTES);
        next = end;
        if (chunk(i, start, end, out)) return true;
      }
      return false;
    }

    /** Adds the frames chunk {@code i} needs, if any; true when it added some. */
    private boolean chunk(long i, long start, long end, Deque<byte[]> out) throws IOException {
      List<SparseExtents.Extent> ranges = extents.within(start, end);
      Long had = before.get(i);
      if (ranges.isEmpty()) {
        if (had == null) return false;
        out.add(Frames.punch(start, end - start));
        punched += end - start;
        pending.put(i, null);
        return true;
      }
      int filled = 0;
      CRC32C c = new CRC32C();
      CRC32 d = new CRC32();
      ByteBuffer layout = ByteBuffer.allocate(16);
      for (SparseExtents.Extent r : ranges) {
        layout.clear();
        layout.putLong(r.offset() - start).putLong(r.length()).flip();
        c.update(layout.duplicate());
        d.update(layout);
        int len = (int) r.length();
        read(r.offset(), filled, len);
        c.update(scratch.slice(filled, len));
        d.update(scratch.slice(filled, len));
        filled += len;
      }
      long fingerprint = (c.getValue() << 32) | d.getValue();
      if (fingerprint == UNKNOWN) fingerprint++;
      if (had != null && had == fingerprint) {
        chunksUnchanged++;
        return false;
      }
      if (had != null) {
        // The receiver may hold data where this chunk now has holes.
        long pos = start;
        for (SparseExtents.Extent r : ranges) {
          if (r.offset() > pos) addPunch(out, pos, r.offset() - pos);
          pos = r.end();
        }
        if (end > pos) addPunch(out, pos, end - pos);
      }
      int at = 0;
      for (SparseExtents.Extent r : ranges) {
        for (long off = 0; off < r.length(); ) {
          int len = (int) Math.min(pieceBytes, r.length() - off);
          byte[] frame = Frames.dataFrame(r.offset() + off, len);
          scratch.get(at, frame, Frames.DATA_HEADER, len);
          out.add(frame);
          at += len;
          off += len;
          bytes += len;
        }
      }
      pending.put(i, fingerprint);
      chunksSent++;
      return true;
    }

    private void addPunch(Deque<byte[]> out, long offset, long length) {
      out.add(Frames.punch(offset, length));
      punched += length;
    }

    private void read(long offset, int into, int len) throws IOException {
      ByteBuffer b = scratch.slice(into, len);
      long pos = offset;
      while (b.hasRemaining()) {
        int n = channel.read(b, pos);
        if (n < 0) throw new IOException(image + " shrank while it was read: it ended at " + pos + " of the " + size + " bytes it had");
        pos += n;
      }
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public long offset() {
      return next;
    }

    @Override
    public long bytes() {
      return bytes;
    }

    @Override
    public long punchedBytes() {
      return punched;
    }

    @Override
    public void close() throws IOException {
      try {
        if (channel != null) channel.close();
      } finally {
        channel = null;
        if (extents != null) extents.close();
        extents = null;
      }
    }
  }

  /** For tests: the chunks the receiver is known to hold data in. */
  synchronized List<Long> heldChunks() {
    return new ArrayList<>(new TreeSet<>(held.keySet()));
  }
}
