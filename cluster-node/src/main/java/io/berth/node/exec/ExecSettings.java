package io.berth.node.exec;

import io.berth.protocol.InvalidFieldException;

/**
 * {@code berth.exec}: how many execs a host runs at once and how many more may wait for a thread.
 *
 * @param threads execs running at once, 1-256
 * @param queue   execs waiting beyond those, 0-4096 (0: refuse as soon as every thread is busy)
 */
public record ExecSettings(int threads, int queue) {
  public static final ExecSettings DEFAULT = new ExecSettings(8, 32);

  public ExecSettings {
    if (threads < 1 || threads > 256) throw new InvalidFieldException("berth.exec.threads", "must be 1-256", threads);
    if (queue < 0 || queue > 4096) throw new InvalidFieldException("berth.exec.queue", "must be 0-4096", queue);
  }
}
