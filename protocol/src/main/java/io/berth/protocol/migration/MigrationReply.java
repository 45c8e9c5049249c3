package io.berth.protocol.migration;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.ids.HostId;

/** The target's migration agent answers. */
public sealed interface MigrationReply extends BerthMessage {
  String migrationId();

  HostId host();

  /**
   * The target can take it: send its files to {@code transferHost:transferPort}, presenting {@code token}, and a live
   * dump's memory pages to CRIU's page server at {@code pageServer} ({@code address:port}; empty: none, the pages go
   * with the files). {@code liveRefusal} is empty when a live move can work here, else why not (the source then goes
   * cold or fails). {@code postCopyRefusal}: empty when a post-copy restore can run here, else why not.
   */
  record Prepared(String migrationId, HostId host, String transferHost, int transferPort, String token, String pageServer,
      String findings, String liveRefusal, String postCopyRefusal) implements MigrationReply {}

  /**
   * What the target holds of the container: {@code pid > 0} when it runs; {@code pageBytes} its page server (or
   * post-copy) took; {@code memoryLost}: a post-copy of this migration was cut short here (why), and the container was
   * started again from its disk; empty otherwise.
   */
  record Holds(String migrationId, HostId host, Holding holding, long pid, long pageBytes, String memoryLost) implements MigrationReply {}

  /** The step failed on the target, for {@code message}; it holds nothing it made for it. */
  record Failed(String migrationId, HostId host, String step, String message) implements MigrationReply {}

  enum Holding {
    NOTHING,
    SET_UP,
    RUNNING,
    /** Its restore (or cold start) is under way here: ask again; the answer decides nothing yet. */
    RESTORING
  }
}
