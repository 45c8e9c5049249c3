package io.berth.node.boot;

import io.berth.persistence.embedded.EmbeddedCassandra;
import io.berth.persistence.embedded.EmbeddedCassandraSettings;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The local cluster's Cassandra ({@code bin/berth up}): the embedded node, detached from this process so
 * it outlives it, on the address the node JVMs reach from their network namespaces.
 *
 * <pre>
 *   LocalCassandra start DATA_ROOT ADDRESS NATIVE_PORT STORAGE_PORT   prints the contact point once CQL answers
 *   LocalCassandra stop DATA_ROOT                                       stops it (idempotent)
 * </pre>
 */
public final class LocalCassandra {
  private LocalCassandra() {}

  public static void main(String[] args) {
    try {
      if (args.length == 5 && args[0].equals("start")) {
        EmbeddedCassandraSettings settings = new EmbeddedCassandraSettings(Path.of(args[1]).toAbsolutePath(), args[2],
            Integer.parseInt(args[3]), Integer.parseInt(args[4]), "768m", new EmbeddedCassandraSettings.Owner.Detached(),
            Duration.ofSeconds(120));
        EmbeddedCassandra node = EmbeddedCassandra.start(settings);
        System.out.println(node.contactPoint());
        System.exit(0);
      } else if (args.length == 2 && args[0].equals("stop")) {
        boolean stopped = EmbeddedCassandra.stop(Path.of(args[1]).toAbsolutePath());
        System.out.println(stopped ? "stopped" : "not running");
        System.exit(0);
      }
      System.err.println("usage: LocalCassandra start DATA_ROOT ADDRESS NATIVE_PORT STORAGE_PORT | stop DATA_ROOT");
      System.exit(2);
    } catch (RuntimeException e) {
      System.err.println("berth: local cassandra: " + e.getMessage());
      System.exit(1);
    }
  }
}
