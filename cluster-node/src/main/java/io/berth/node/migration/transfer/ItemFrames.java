package io.berth.node.migration.transfer;

import java.io.IOException;
import java.util.Deque;

/** The frames of one item in one round, on the sender: read from the file as the connection asks for them. */
interface ItemFrames extends AutoCloseable {
  /** Opens the file and answers its BEGIN frame. */
  byte[] begin() throws IOException;

  /** Adds the item's next frames (DATA, PUNCH) to {@code out}; false once it has none left (nothing added). */
  boolean next(Deque<byte[]> out) throws IOException;

  /** The item's size as announced. */
  long size();

  /** Where in the file it is reading (for a failure's message). */
  long offset();

  /** File data put in DATA frames so far. */
  long bytes();

  /** Bytes the receiver was told to free with PUNCH frames. */
  long punchedBytes();

  @Override
  void close() throws IOException;
}
