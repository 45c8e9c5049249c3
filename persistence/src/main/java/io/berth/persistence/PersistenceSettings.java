package io.berth.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code berth.persistence} part of Berth's configuration, validated: a bad value is an
 * {@link IllegalArgumentException} naming the key ({@code berth.persistence.<key>}) and the rule.
 */
public record PersistenceSettings(
    List<String> contactPoints,
    String localDatacenter,
    String journalKeyspace,
    String snapshotKeyspace,
    String replicationStrategy,
    int replicationFactor,
    List<String> datacenters,
    String writeConsistency,
    String readConsistency,
    String snapshotConsistency,
    boolean createSchemaAtStart,
    int breakerMaxFailures,
    Duration breakerCallTimeout,
    Duration breakerResetTimeout,
    Duration healthInterval,
    Duration healthTimeout,
    int healthFailuresToClose,
    String firstTimeBucket,
    Duration eventualConsistencyDelay,
    Config embedded,
    Optional<CqlLogin> login,
    Optional<CqlTls> tls) {

  public static final String PATH = "berth.persistence";
  private static final Pattern KEYSPACE = Pattern.compile("[a-zA-Z][a-zA-Z0-9_]{0,47}");
  private static final Pattern CONTACT_POINT = Pattern.compile("[^\\s:]+:[0-9]{1,5}");
  private static final Pattern DATACENTER = Pattern.compile("[^\\s:]+:[1-9][0-9]*");
  private static final Pattern BUCKET = Pattern.compile("[0-9]{8}T[0-9]{2}:[0-9]{2}");
  private static final Set<String> CONSISTENCIES = Set.of("ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM", "EACH_QUORUM", "LOCAL_ONE", "ANY");

  public PersistenceSettings {
    contactPoints = List.copyOf(contactPoints);
    datacenters = List.copyOf(datacenters);
    for (String cp : contactPoints) {
      if (!CONTACT_POINT.matcher(cp).matches()) fail("contact-points", "each must be host:port, was '" + cp + "'");
    }
    if (localDatacenter == null || localDatacenter.isBlank()) fail("local-datacenter", "must not be empty");
    keyspace("keyspaces.journal", journalKeyspace);
    keyspace("keyspaces.snapshot", snapshotKeyspace);
    if (journalKeyspace.equals(snapshotKeyspace)) fail("keyspaces.snapshot", "must differ from keyspaces.journal");
    switch (replicationStrategy) {
      case "SimpleStrategy" -> {
        if (replicationFactor < 1) fail("replication.factor", "must be at least 1, was " + replicationFactor);
      }
      case "NetworkTopologyStrategy" -> {
        if (datacenters.isEmpty()) fail("replication.datacenters", "must name at least one \"dc:replicas\" with NetworkTopologyStrategy");
        for (String dc : datacenters) {
          if (!DATACENTER.matcher(dc).matches()) fail("replication.datacenters", "each must be dc:replicas, was '" + dc + "'");
        }
      }
      default -> fail("replication.strategy", "must be SimpleStrategy or NetworkTopologyStrategy, was '" + replicationStrategy + "'");
    }
    consistency("consistency.write", writeConsistency);
    consistency("consistency.read", readConsistency);
    consistency("consistency.snapshot", snapshotConsistency);
    if (breakerMaxFailures < 1) fail("circuit-breaker.max-failures", "must be at least 1, was " + breakerMaxFailures);
    positive("circuit-breaker.call-timeout", breakerCallTimeout);
    positive("circuit-breaker.reset-timeout", breakerResetTimeout);
    positive("health.interval", healthInterval);
    positive("health.timeout", healthTimeout);
    if (healthFailuresToClose < 1) fail("health.failures-to-close", "must be at least 1, was " + healthFailuresToClose);
    if (firstTimeBucket == null || !BUCKET.matcher(firstTimeBucket).matches()) {
      fail("timeline.first-time-bucket", "must look like 20250101T00:00, was '" + firstTimeBucket + "'");
    }
    if (eventualConsistencyDelay.isNegative()) fail("timeline.eventual-consistency-delay", "must not be negative");
    java.util.Objects.requireNonNull(login, "login: Optional.empty() for none");
    java.util.Objects.requireNonNull(tls, "tls: Optional.empty() for none");
  }

  /** Reads {@code berth.persistence} from a full configuration (with this module's reference.conf beneath it). */
  public static PersistenceSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    return new PersistenceSettings(
        read(c, "contact-points", c::getStringList),
        read(c, "local-datacenter", c::getString),
        read(c, "keyspaces.journal", c::getString),
        read(c, "keyspaces.snapshot", c::getString),
        read(c, "replication.strategy", c::getString),
        read(c, "replication.factor", c::getInt),
        read(c, "replication.datacenters", c::getStringList),
        read(c, "consistency.write", c::getString),
        read(c, "consistency.read", c::getString),
        read(c, "consistency.snapshot", c::getString),
        read(c, "create-schema-at-start", c::getBoolean),
        read(c, "circuit-breaker.max-failures", c::getInt),
        read(c, "circuit-breaker.call-timeout", c::getDuration),
        read(c, "circuit-breaker.reset-timeout", c::getDuration),
        read(c, "health.interval", c::getDuration),
        read(c, "health.timeout", c::getDuration),
        read(c, "health.failures-to-close", c::getInt),
        read(c, "timeline.first-time-bucket", c::getString),
        read(c, "timeline.eventual-consistency-delay", c::getDuration),
        read(c, "embedded", c::getConfig),
        CqlLogin.fromConfig(c),
        CqlTls.fromConfig(c));
  }

  /** Reads one key; a missing or mistyped value names the full key. */
  private static <T> T read(Config c, String key, java.util.function.Function<String, T> getter) {
    try {
      return getter.apply(key);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(PATH + "." + key + ": " + e.getMessage(), e);
    }
  }

  /** For messages: the contact points, or "the embedded node" when none are configured. */
  public String contactPointsOrEmbedded() {
    return contactPoints.isEmpty() ? "the embedded node" : String.join(",", contactPoints);
  }

  /** True when no contact points are configured: Berth runs the embedded node. */
  public boolean embeddedMode() {
    return contactPoints.isEmpty();
  }

  public PersistenceSettings withContactPoints(List<String> points) {
    return new PersistenceSettings(points, localDatacenter, journalKeyspace, snapshotKeyspace, replicationStrategy,
        replicationFactor, datacenters, writeConsistency, readConsistency, snapshotConsistency, createSchemaAtStart,
        breakerMaxFailures, breakerCallTimeout, breakerResetTimeout, healthInterval, healthTimeout, healthFailuresToClose,
        firstTimeBucket, eventualConsistencyDelay, embedded, login, tls);
  }

  private static void keyspace(String key, String value) {
    if (value == null || !KEYSPACE.matcher(value).matches()) {
      fail(key, "must start with a letter and hold only letters, digits and _ (at most 48), was '" + value + "'");
    }
  }

  private static void consistency(String key, String value) {
    if (value == null || !CONSISTENCIES.contains(value)) fail(key, "must be one of " + CONSISTENCIES + ", was '" + value + "'");
  }

  private static void positive(String key, Duration d) {
    if (d == null || d.isZero() || d.isNegative()) fail(key, "must be a positive duration, was " + d);
  }

  private static void fail(String key, String rule) {
    throw new IllegalArgumentException(PATH + "." + key + ": " + rule);
  }
}
