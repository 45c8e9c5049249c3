package io.berth.persistence;

import com.typesafe.config.Config;
import io.berth.persistence.testing.SharedCassandra;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** ActorSystems for tests, on the shared embedded node, with the schema in place. */
final class TestSystems {
  private TestSystems() {}

  static ActorSystem<Void> onSharedNode() {
    return start(SharedCassandra.config(""));
  }

  static ActorSystem<Void> start(Config config) {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "test-" + UUID.randomUUID().toString().substring(0, 8), config);
    try {
      CassandraSchema.ensure(system, PersistenceSettings.fromConfig(config)).toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      system.terminate();
      throw new AssertionError("the schema was not created on " + config.getStringList("datastax-java-driver.basic.contact-points") + " within 60 s", e);
    }
    return system;
  }

  static void stop(ActorSystem<?> system) {
    if (system == null) return;
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("actor system " + system.name() + " did not terminate within 30 s", e);
    }
  }

  static String suffix() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  static final Duration ASK = Duration.ofSeconds(10);
}
