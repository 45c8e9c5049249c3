package io.berth.persistence.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.berth.persistence.PekkoPersistenceConfig;
import io.berth.persistence.PersistenceSettings;
import io.berth.persistence.embedded.EmbeddedCassandra;
import io.berth.persistence.embedded.EmbeddedCassandraSettings;
import io.berth.persistence.embedded.EmbeddedCassandraSettings.Owner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One real embedded Cassandra node for a whole {@code mvn verify}: the first test that asks starts it, every later
 * test class (in this JVM or in a later module's test JVM of the same Maven run) reuses it.
 *
 * <p>The node lives under {@code $BERTH_REPO/target/test-cassandra/<maven pid>/} and is owned by the Maven process
 * (found among this JVM's ancestors), so it outlives each test JVM but dies with the build. Concurrent builds in the
 * same tree get separate nodes; directories of finished builds are removed when the next node starts. Outside
 * Maven (an IDE), the node is owned by the test JVM itself.
 *
 * <p>Tests share one node and one keyspace set: give each test its own persistence ids (e.g. a random suffix).
 */
public final class SharedCassandra {
  private static EmbeddedCassandra node;

  private SharedCassandra() {}

  /** The shared node, started on first use (about 6-10 s), reused afterwards. */
  public static synchronized EmbeddedCassandra node() {
    if (node == null || !node.answers()) {
      Optional<Long> maven = mavenAncestor();
      Owner owner = maven.<Owner>map(Owner.Process::new).orElseGet(Owner.ParentPipe::new);
      Path base = baseDir();
      Path root = base.resolve(maven.map(String::valueOf).orElse("jvm-" + ProcessHandle.current().pid()));
      removeFinishedBuilds(base, root);
      node = EmbeddedCassandra.start(new EmbeddedCassandraSettings(root, "127.0.0.1", 0, 0, "768m", owner, Duration.ofSeconds(120)));
    }
    return node;
  }

  /** Berth's persistence settings pointing at the shared node (reference.conf defaults otherwise). */
  public static PersistenceSettings settings() {
    return PersistenceSettings.fromConfig(ConfigFactory.load()).withContactPoints(List.of(node().contactPoint()));
  }

  /**
   * A full configuration for an ActorSystem of a test: the plugin pointed at the shared node, a short timeline
   * delay, then {@code overrides}, then the application's configuration.
   */
  public static Config config(String overrides) {
    Config tuned = ConfigFactory.parseString(overrides)
        .withFallback(ConfigFactory.parseString("berth.persistence.timeline.eventual-consistency-delay = 1s"))
        .withFallback(ConfigFactory.load());
    PersistenceSettings s = PersistenceSettings.fromConfig(tuned).withContactPoints(List.of(node().contactPoint()));
    return ConfigFactory.parseString(overrides).withFallback(PekkoPersistenceConfig.of(s)).withFallback(tuned);
  }

  private static Path baseDir() {
    String repo = System.getenv("BERTH_REPO");
    if (repo != null && !repo.isBlank()) return Path.of(repo, "target", "test-cassandra");
    return Path.of(System.getProperty("java.io.tmpdir"), "berth-test-cassandra");
  }

  /** The nearest ancestor that is Maven's JVM (plexus-classworlds launcher), if this JVM runs under Maven. */
  static Optional<Long> mavenAncestor() {
    Optional<ProcessHandle> p = ProcessHandle.current().parent();
    while (p.isPresent()) {
      ProcessHandle h = p.get();
      boolean maven = h.info().arguments()
          .map(args -> String.join(" ", args).contains("org.codehaus.plexus.classworlds.launcher.Launcher"))
          .orElse(false);
      if (maven) return Optional.of(h.pid());
      p = h.parent();
    }
    return Optional.empty();
  }

  private static void removeFinishedBuilds(Path base, Path keep) {
    if (!Files.isDirectory(base)) return;
    try (Stream<Path> dirs = Files.list(base)) {
      for (Path dir : dirs.toList()) {
        if (dir.equals(keep) || !dir.getFileName().toString().matches("(jvm-)?[0-9]+")) continue;
        long pid = Long.parseLong(dir.getFileName().toString().replace("jvm-", ""));
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
        EmbeddedCassandra.stop(dir);
        deleteTree(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("clean finished test Cassandra nodes under " + base, e);
    }
  }

  /**
   * An empty directory of its own for a test's node: {@code NAME-PID} under {@code $BERTH_REPO/persistence/target}, or
   * under the temporary directory without a repository.
   */
  public static Path scratch(String name) throws IOException {
    String repo = System.getenv("BERTH_REPO");
    Path base = repo != null ? Path.of(repo, "persistence", "target") : Path.of(System.getProperty("java.io.tmpdir"));
    Path dir = base.resolve(name + "-" + ProcessHandle.current().pid());
    deleteTree(dir);
    return dir;
  }

  /** Deletes a directory tree (test data roots). */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
