package io.berth.persistence;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The persist-path gate: probes Cassandra every {@code health.interval} through the journal's own session, and
 * closes after {@code health.failures-to-close} failed probes in a row. Entities ask {@link #unavailable()} before
 * persisting and reply with that reason instead of persisting, so a command fails at once with a clear error while
 * Cassandra is down (rather than timing out), and nothing is acknowledged that is not durable. One good probe opens
 * the gate again; the driver reconnects by itself, so no restart is needed.
 *
 * <p>The journal's circuit breaker ({@code circuit-breaker.*}) covers the writes that slip through before the gate
 * closes: they fail fast once it opens, and the entity restarts with backoff and recovers from the journal.
 */
public final class JournalHealth implements Extension {
  private static final Logger log = LoggerFactory.getLogger(JournalHealth.class);
  private static final String PROBE = "SELECT release_version FROM system.local";

  private final PersistenceSettings settings;
  private final String contactPoints;
  private final CassandraSession session;
  private final AtomicReference<State> state = new AtomicReference<>(new State(0, null, null));
  private final Cancellable probes;
  private final ActorSystem<?> system;
  /** How often a pending call looks at the gate (see {@link #guard} and {@link #orWhenUnavailable}). */
  private static final Duration WATCH = Duration.ofMillis(200);

  private record State(int consecutiveFailures, Instant failingSince, String lastError) {}

  public static final ExtensionId<JournalHealth> ID = new ExtensionId<>() {
    @Override
    public JournalHealth createExtension(ActorSystem<?> system) {
      return new JournalHealth(system);
    }
  };

  public static JournalHealth get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private JournalHealth(ActorSystem<?> system) {
    this.system = system;
    this.settings = PersistenceSettings.fromConfig(system.settings().config());
    this.session = CassandraSchema.session(system);
    this.contactPoints = String.join(",", system.settings().config().getStringList("datastax-java-driver.basic.contact-points"));
    Duration interval = settings.healthInterval();
    this.probes = system.classicSystem().scheduler().scheduleWithFixedDelay(
        scala.concurrent.duration.Duration.Zero(),
        scala.concurrent.duration.Duration.create(interval.toMillis(), TimeUnit.MILLISECONDS),
        this::probe, system.executionContext());
    system.classicSystem().registerOnTermination(probes::cancel);
  }

  /** Empty while Cassandra answers; otherwise why a persist must not be attempted, naming the contact points. */
  public Optional<String> unavailable() {
    State s = state.get();
    if (s.consecutiveFailures() < settings.healthFailuresToClose()) return Optional.empty();
    return Optional.of("persistence unavailable: Cassandra at " + contactPoints
        + " has not answered since " + s.failingSince() + " (" + s.lastError() + "); nothing was persisted, retry later");
  }

  /** Throws {@link PersistenceUnavailableException} when the gate is closed. */
  public void requireAvailable() {
    unavailable().ifPresent(reason -> {
      throw new PersistenceUnavailableException(reason);
    });
  }

  /**
   * For the sender of a command (the REST API, a saga): fails at once with {@link PersistenceUnavailableException}
   * while the gate is closed, otherwise sends. An entity whose persist failed restarts with backoff and cannot answer
   * until Cassandra is back, so the check must also happen before the command reaches it; and a command sent just
   * before the gate closed fails as soon as it closes (within {@link #WATCH}) instead of waiting out its ask, saying
   * that its outcome is not known: it may have been persisted before Cassandra went.
   */
  public <T> CompletionStage<T> guard(Supplier<CompletionStage<T>> send) {
    Optional<String> reason = unavailable();
    if (reason.isPresent()) return CompletableFuture.failedFuture(new PersistenceUnavailableException(reason.get()));
    return orWhenUnavailable(send.get(), why -> CompletableFuture.failedFuture(new PersistenceUnavailableException(why
        .replace("nothing was persisted, retry later", "the change was sent before that and its outcome is not known: look again once "
            + "Cassandra answers"))));
  }

  /**
   * {@code stage}'s outcome, or, if the gate closes before it completes, {@code fallback}'s (given the reason): a read
   * that waits on something that needs the journal (an entity recovering, the directory restarting) answers from what
   * is held instead of waiting out its timeout.
   */
  public <T> CompletionStage<T> orWhenUnavailable(CompletionStage<T> stage, java.util.function.Function<String, CompletionStage<T>> fallback) {
    CompletableFuture<T> result = new CompletableFuture<>();
    stage.whenComplete((v, e) -> {
      if (e == null) result.complete(v);
      else result.completeExceptionally(e);
    });
    watch(result, fallback);
    return result;
  }

  private <T> void watch(CompletableFuture<T> result, java.util.function.Function<String, CompletionStage<T>> fallback) {
    if (result.isDone()) return;
    Optional<String> reason = unavailable();
    if (reason.isPresent()) {
      fallback.apply(reason.get()).whenComplete((v, e) -> {
        if (e == null) result.complete(v);
        else result.completeExceptionally(e);
      });
      return;
    }
    system.scheduler().scheduleOnce(WATCH, () -> watch(result, fallback), system.executionContext());
  }

  private void probe() {
    try {
      session.selectOne(PROBE).toCompletableFuture()
          .orTimeout(settings.healthTimeout().toMillis(), TimeUnit.MILLISECONDS)
          .whenComplete((row, error) -> record(error));
    } catch (RuntimeException e) {
      record(e);
    }
  }

  private void record(Throwable error) {
    if (error == null) {
      State before = state.getAndSet(new State(0, null, null));
      if (before.consecutiveFailures() >= settings.healthFailuresToClose()) {
        log.info("Cassandra answers again after failing since {}; persisting is open", before.failingSince());
      }
      return;
    }
    String message = error.getClass().getSimpleName() + ": " + error.getMessage();
    State after = state.updateAndGet(s -> new State(s.consecutiveFailures() + 1,
        s.failingSince() == null ? Instant.now() : s.failingSince(), message));
    if (after.consecutiveFailures() == settings.healthFailuresToClose()) {
      log.warn("Cassandra probe failed {} times in a row ({}); rejecting persists until it answers", after.consecutiveFailures(), message);
    }
  }
}
