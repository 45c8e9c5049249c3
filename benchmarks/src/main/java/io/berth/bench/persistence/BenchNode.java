package io.berth.bench.persistence;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.berth.persistence.CassandraSchema;
import io.berth.persistence.PekkoPersistenceConfig;
import io.berth.persistence.PersistenceSettings;
import io.berth.persistence.embedded.EmbeddedCassandra;
import io.berth.persistence.embedded.EmbeddedCassandraSettings;
import io.berth.protocol.ids.HostId;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.LoggerFactory;

/**
 * The embedded node (under {@code benchmarks/target/bench-cassandra}, owned by this JVM) and an ActorSystem with
 * Berth's persistence configuration on it, as the product runs them.
 */
final class BenchNode implements AutoCloseable {
  final EmbeddedCassandra node;
  final ActorSystem<Spawn> system;
  final String runId = UUID.randomUUID().toString().substring(0, 8);

  /** The guardian spawns entities on request. */
  record Spawn(Behavior<BenchHostEntity.Command> behavior, String name, ActorRef<ActorRef<BenchHostEntity.Command>> replyTo) {}

  BenchNode(String heap) throws Exception {
    this(heap, "group");
  }

  /** @param commitlogSync group (Berth's durable default) or periodic (Cassandra's default, for comparison) */
  BenchNode(String heap, String commitlogSync) throws Exception {
    quietLogs();
    String repo = System.getenv("BERTH_REPO");
    Path root = (repo != null && !repo.isBlank() ? Path.of(repo) : Path.of("").toAbsolutePath().getFileName().toString().equals("benchmarks")
        ? Path.of("").toAbsolutePath().getParent() : Path.of("").toAbsolutePath())
        .resolve("benchmarks").resolve("target").resolve("bench-cassandra");
    if (EmbeddedCassandra.contactPointOf(root).isEmpty()) deleteTree(root); // each run starts from an empty node
    node = EmbeddedCassandra.start(new EmbeddedCassandraSettings(root, "127.0.0.1", 0, 0, heap,
        new EmbeddedCassandraSettings.Owner.ParentPipe(), Duration.ofSeconds(180), commitlogSync));
    Config base = ConfigFactory.parseString("""
        pekko.loglevel = WARNING
        pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
        pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
        berth.persistence.timeline.eventual-consistency-delay = 1s
        """).withFallback(ConfigFactory.load());
    PersistenceSettings settings = PersistenceSettings.fromConfig(base).withContactPoints(List.of(node.contactPoint()));
    Behavior<Spawn> guardian = Behaviors.setup(ctx -> Behaviors.receive(Spawn.class)
        .onMessage(Spawn.class, s -> {
          s.replyTo().tell(ctx.spawn(s.behavior(), s.name()));
          return Behaviors.same();
        }).build());
    system = ActorSystem.create(guardian, "bench", PekkoPersistenceConfig.of(settings).withFallback(base));
    CassandraSchema.ensure(system, settings).toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  ActorRef<BenchHostEntity.Command> spawn(HostId id, int snapshotEvery) throws Exception {
    return AskPattern.<Spawn, ActorRef<BenchHostEntity.Command>>ask(system,
            r -> new Spawn(BenchHostEntity.create(id, snapshotEvery), id.value() + "-" + UUID.randomUUID(), r),
            Duration.ofSeconds(10), system.scheduler())
        .toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  CompletionStage<Long> append(ActorRef<BenchHostEntity.Command> host, int count) {
    return AskPattern.ask(host, r -> new BenchHostEntity.Append(count, r), Duration.ofSeconds(30), system.scheduler());
  }

  CompletionStage<Long> ready(ActorRef<BenchHostEntity.Command> host) {
    return AskPattern.ask(host, BenchHostEntity.Ready::new, Duration.ofSeconds(120), system.scheduler());
  }

  HostId host(String name) {
    return HostId.of(name + "-" + runId);
  }

  /** A plain driver session on the same node, for the raw-CQL baselines. */
  CqlSession rawSession() {
    return CqlSession.builder()
        .addContactPoint(new InetSocketAddress(node.address(), node.nativePort()))
        .withLocalDatacenter("datacenter1")
        .build();
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // The node stops below either way.
    }
    node.close();
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    if (!java.nio.file.Files.exists(dir)) return;
    try (var walk = java.nio.file.Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.deleteIfExists(p);
    }
  }

  static double millis(long nanos) {
    return nanos / 1e6;
  }

  private static void quietLogs() {
    var root = LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (root instanceof ch.qos.logback.classic.Logger l) l.setLevel(ch.qos.logback.classic.Level.WARN);
  }
}
