package io.berth.node.migration.transfer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Deque;

/** A regular file sent whole and in order, one DATA frame per piece, read straight into the frame's array. */
final class WholeFile implements ItemFrames {
  private final Path path;
  private final String name;
  private final int pieceBytes;
  private FileChannel channel;
  private long size;
  private long offset;

  WholeFile(Path path, String name, int pieceBytes) {
    this.path = path;
    this.name = name;
    this.pieceBytes = pieceBytes;
  }

  @Override
  public byte[] begin() throws IOException {
    channel = FileChannel.open(path, StandardOpenOption.READ);
    size = channel.size();
    return Frames.begin(Frames.Kind.FILE, size, new java.util.UUID(0, 0), name);
  }

  @Override
  public boolean next(Deque<byte[]> out) throws IOException {
    if (offset >= size) return false;
    int len = (int) Math.min(pieceBytes, size - offset);
    byte[] frame = Frames.dataFrame(offset, len);
    ByteBuffer into = ByteBuffer.wrap(frame, Frames.DATA_HEADER, len);
    long pos = offset;
    while (into.hasRemaining()) {
      int n = channel.read(into, pos);
      if (n < 0) throw new IOException(path + " shrank while it was sent: it ended at " + pos + " of the " + size + " bytes it had");
      pos += n;
    }
    offset += len;
    out.add(frame);
    return true;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public long offset() {
    return offset;
  }

  @Override
  public long bytes() {
    return offset;
  }

  @Override
  public long punchedBytes() {
    return 0;
  }

  @Override
  public void close() throws IOException {
    if (channel != null) channel.close();
    channel = null;
  }
}
