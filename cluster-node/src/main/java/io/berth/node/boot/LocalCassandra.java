package io.berth.node.boot;

import io.berth.persistence.embedded.EmbeddedCassandra;
import io.berth.persistence.embedded.EmbeddedCassandraRoles;
import io.berth.persistence.embedded.NativeTls;
import io.berth.persistence.embedded.EmbeddedCassandraSettings;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The local cluster's Cassandra ({@code bin/berth up}): the embedded node, detached from this process so
 * it outlives it, on the address the node JVMs reach from their network namespaces.
 *
 * <pre>
 *   LocalCassandra start DATA_ROOT ADDRESS NATIVE_PORT STORAGE_PORT [ROLES_DIR [TLS_DIR]]
 *       prints the contact point once CQL answers; with ROLES_DIR the node runs Cassandra's password authentication
 *       and Berth's roles are set up (EmbeddedCassandraRoles), their passwords kept in ROLES_DIR; with TLS_DIR its CQL
 *       port requires TLS with TLS_DIR/cassandra.pem and cassandra.key, signed by TLS_DIR/ca.pem (bin/berth-cluster-ca)
 *   LocalCassandra stop DATA_ROOT       stops it (idempotent)
 * </pre>
 */
public final class LocalCassandra {
  private LocalCassandra() {}

  public static void main(String[] args) {
    try {
      if (args.length >= 5 && args.length <= 7 && args[0].equals("start")) {
        EmbeddedCassandraSettings settings = new EmbeddedCassandraSettings(Path.of(args[1]).toAbsolutePath(), args[2],
            Integer.parseInt(args[3]), Integer.parseInt(args[4]), "768m", new EmbeddedCassandraSettings.Owner.Detached(),
            Duration.ofSeconds(120));
        if (args.length >= 6) settings = settings.withPasswordAuthentication();
        if (args.length == 7) {
          Path tls = Path.of(args[6]).toAbsolutePath();
          settings = settings.withNativeTls(new NativeTls(tls.resolve("cassandra.pem"), tls.resolve("cassandra.key"), tls.resolve("ca.pem")));
        }
        EmbeddedCassandra node = EmbeddedCassandra.start(settings);
        if (args.length >= 6) EmbeddedCassandraRoles.ensure(node, Path.of(args[5]).toAbsolutePath(), Duration.ofSeconds(60));
        System.out.println(node.contactPoint());
        System.exit(0);
      } else if (args.length == 2 && args[0].equals("stop")) {
        boolean stopped = EmbeddedCassandra.stop(Path.of(args[1]).toAbsolutePath());
        System.out.println(stopped ? "stopped" : "not running");
        System.exit(0);
      }
      System.err.println("usage: LocalCassandra start DATA_ROOT ADDRESS NATIVE_PORT STORAGE_PORT [ROLES_DIR [TLS_DIR]] | stop DATA_ROOT");
      System.exit(2);
    } catch (RuntimeException e) {
      System.err.println("berth: local cassandra: " + e.getMessage());
      System.exit(1);
    }
  }
}
