package io.berth.node.migration.transfer;

import io.berth.node.migration.transfer.RoundReport.FileReport;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.util.ByteString;

/**
 * The sender's side of one round, as the frames the connection pulls one at a time (the resource of an
 * {@code unfoldResource} source, so it runs on the blocking-I/O dispatcher): HELLO, then for each item BEGIN, its
 * DATA and PUNCH frames and END_FILE, then END_ROUND. It keeps the digests the receiver's ACK must match and
 * where it is, for a failure's message.
 */
final class OutgoingRound {
  private final String token;
  private final List<TransferItem> items;
  private final List<ItemFrames> frames;
  private final Deque<byte[]> queue = new ArrayDeque<>();
  private final List<FileReport> files = new ArrayList<>();
  private final MessageDigest roundDigest = sha256();
  private MessageDigest fileDigest;
  private int index = -1;
  private boolean inFile;
  private boolean ended;
  private volatile String file;
  private volatile long offset;
  private volatile long bytes;
  private volatile Summary summary;
  private volatile Throwable failure;

  /** What the round sent, in the terms of the receiver's ACK. */
  record Summary(int files, long bytes, byte[] sha256, List<FileReport> reports) {}

  OutgoingRound(String token, List<TransferItem> items, List<ItemFrames> frames) {
    this.token = token;
    this.items = items;
    this.frames = frames;
  }

  /** The next frame, or empty once END_ROUND went out. */
  Optional<ByteString> next() throws IOException {
    try {
      while (queue.isEmpty() && !ended) fill();
      byte[] f = queue.poll();
      return f == null ? Optional.empty() : Optional.of(ByteString.fromArrayUnsafe(f));
    } catch (IOException | RuntimeException e) {
      failure = e;
      throw e;
    }
  }

  private void fill() throws IOException {
    if (index < 0) {
      queue.add(Frames.hello(token));
      index = 0;
      return;
    }
    if (index >= frames.size()) {
      byte[] end = Frames.endRound(files.size());
      queue.add(end);
      summary = new Summary(files.size(), bytes, roundDigest.digest(), List.copyOf(files));
      ended = true;
      return;
    }
    ItemFrames item = frames.get(index);
    if (!inFile) {
      file = items.get(index).name();
      offset = 0;
      fileDigest = sha256();
      add(item.begin());
      inFile = true;
      return;
    }
    if (item.next(queue)) { // the queue was empty: all it holds now is this item's
      for (byte[] f : queue) {
        fileDigest.update(f);
        if (f[0] == Frames.DATA) bytes += f.length - Frames.DATA_HEADER;
      }
      offset = item.offset();
      return;
    }
    byte[] digest = fileDigest.digest();
    byte[] end = Frames.endFile(item.bytes(), digest);
    roundDigest.update(end);
    queue.add(end);
    files.add(new FileReport(file, item.size(), item.bytes(), item.punchedBytes(), HexFormat.of().formatHex(digest)));
    item.close();
    inFile = false;
    index++;
  }

  private void add(byte[] frame) {
    fileDigest.update(frame);
    queue.add(frame);
  }

  void close() throws IOException {
    IOException first = null;
    for (ItemFrames f : frames) {
      try {
        f.close();
      } catch (IOException e) {
        if (first == null) first = e;
      }
    }
    if (first != null) throw first;
  }

  /** Where the round is: the file and the offset read up to, and the data bytes read so far. */
  String where() {
    if (file == null) return "the start (before its first file)";
    return "file " + file + " at offset " + offset + " (" + bytes + " bytes of data read in this round)";
  }

  Summary summary() {
    return summary;
  }

  /** The reader's own failure (a file that cannot be read), which the connection only sees as an abort. */
  Throwable failure() {
    return failure;
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
