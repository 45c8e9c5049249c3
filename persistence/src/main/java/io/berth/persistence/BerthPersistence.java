package io.berth.persistence;

import com.typesafe.config.Config;
import io.berth.persistence.embedded.EmbeddedCassandra;
import io.berth.persistence.embedded.EmbeddedCassandraSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where Berth's events live, decided once at start: the configured Cassandra ({@code berth.persistence.contact-points}),
 * or, when none is configured, the embedded node under {@code <dataRoot>/cassandra}, started or reused.
 *
 * <pre>
 *   BerthPersistence.Resolved p = BerthPersistence.resolve(config, dataRoot, new Owner.ParentPipe());
 *   ActorSystem&lt;?&gt; system = ActorSystem.create(guardian, "berth", p.pekkoConfig().withFallback(config));
 *   CassandraSchema.ensure(system, p.settings()).toCompletableFuture().get();
 * </pre>
 */
public final class BerthPersistence {
  private BerthPersistence() {}

  /**
   * @param settings  with the contact points actually used
   * @param embedded  the embedded node, when one is used (close it to stop it if this process started it)
   * @param pekkoConfig the plugin and driver configuration to put in front of the application's
   */
  public record Resolved(PersistenceSettings settings, Optional<EmbeddedCassandra> embedded, Config pekkoConfig) {}

  public static Resolved resolve(Config config, Path dataRoot, EmbeddedCassandraSettings.Owner owner) {
    PersistenceSettings settings = PersistenceSettings.fromConfig(config);
    if (!settings.embeddedMode()) {
      return new Resolved(settings, Optional.empty(), PekkoPersistenceConfig.of(settings));
    }
    EmbeddedCassandraSettings embedded = EmbeddedCassandraSettings.fromConfig(
        settings.embedded(), dataRoot.toAbsolutePath().resolve("cassandra"), owner);
    EmbeddedCassandra node = EmbeddedCassandra.start(embedded);
    PersistenceSettings used = settings.withContactPoints(List.of(node.contactPoint()));
    return new Resolved(used, Optional.of(node), PekkoPersistenceConfig.of(used));
  }
}
