package io.berth.node.migration.transfer;

import java.time.Duration;
import java.util.List;

/**
 * One round, as a side saw it. The sender's report carries what it sent, after the receiver's ACK matched it
 * (same round, files, bytes and SHA-256); the receiver's what it received and wrote.
 *
 * @param round    the receiver's number for it, from 1 (rounds refused before they began are not counted)
 * @param files    each file, in the order sent
 * @param bytes    file data carried in DATA frames (not the frames' headers, nor the holes)
 * @param sha256   the round's digest, hex: SHA-256 over its END_FILE frames (each holding its file's digest)
 * @param duration on the sender from its connect to the ACK; on the receiver from HELLO to END_ROUND
 */
public record RoundReport(int round, List<FileReport> files, long bytes, String sha256, Duration duration) {
  public RoundReport {
    files = List.copyOf(files);
  }

  /**
   * @param size         the file's size (a sparse image's apparent size)
   * @param bytes        its data carried in DATA frames
   * @param punchedBytes what the receiver was told to free (a later round of an image)
   * @param sha256       hex SHA-256 over the file's frames, BEGIN to its last DATA or PUNCH, as sent
   */
  public record FileReport(String name, long size, long bytes, long punchedBytes, String sha256) {}

  public long punchedBytes() {
    long n = 0;
    for (FileReport f : files) n += f.punchedBytes();
    return n;
  }
}
