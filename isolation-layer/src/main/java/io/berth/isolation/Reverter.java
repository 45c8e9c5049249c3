package io.berth.isolation;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Undo steps for a multi-step setup: each completed step registers its undo; {@link #success()}
 * forgets them; {@link #close()} without success runs them newest first, so a failed prepare
 * leaves nothing behind. An undo that fails is attached to the original error, not lost.
 */
final class Reverter implements AutoCloseable {
  private final Deque<Runnable> undos = new ArrayDeque<>();
  private boolean done;
  private Throwable failure;

  void add(Runnable undo) {
    undos.push(undo);
  }

  void success() {
    done = true;
    undos.clear();
  }

  /** Remembers the error being thrown, so failed undos can be added to it as suppressed. */
  RuntimeException fail(RuntimeException e) {
    failure = e;
    return e;
  }

  @Override
  public void close() {
    if (done) return;
    while (!undos.isEmpty()) {
      try {
        undos.pop().run();
      } catch (RuntimeException e) {
        if (failure != null) failure.addSuppressed(e);
      }
    }
  }
}
