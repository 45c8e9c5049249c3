package io.berth.protocol.container;

/**
 * Whether a live migration moves the container's memory after it already runs on the target (post-copy: CRIU's lazy
 * pages, each page fetched on its first touch and the rest in the background), rather than before.
 * {@code AUTO}: post-copy for a container holding at least the size the source's settings name (measured:
 * MigrationBench), when both hosts can; {@code ON}: post-copy or the move fails, changing nothing; {@code OFF}: never.
 */
public enum PostCopy {
  AUTO,
  ON,
  OFF
}
