package io.berth.persistence.embedded;

import java.nio.file.Path;
import java.time.Duration;

/** Run in a separate JVM by EmbeddedCassandraTest: starts a node it owns through the stdin pipe, prints its pid, waits. */
public final class OwnedNodeMain {
  public static void main(String[] args) throws Exception {
    EmbeddedCassandra node = EmbeddedCassandra.start(new EmbeddedCassandraSettings(Path.of(args[0]), "127.0.0.1", 0, 0, "512m",
        new EmbeddedCassandraSettings.Owner.ParentPipe(), Duration.ofSeconds(120)));
    System.out.println("CASSANDRA-PID " + node.pid());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
