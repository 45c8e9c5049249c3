package io.berth.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns {@link PersistenceSettings} into the configuration of pekko-persistence-cassandra (journal, snapshot store,
 * read journal) and of the Cassandra driver it uses. Put the result in front of the application's configuration:
 * {@code PekkoPersistenceConfig.of(settings).withFallback(ConfigFactory.load())}.
 */
public final class PekkoPersistenceConfig {
  /** Driver profiles named by the plugin settings below. */
  public static final String WRITE_PROFILE = "berth-write";
  public static final String READ_PROFILE = "berth-read";
  public static final String SNAPSHOT_PROFILE = "berth-snapshot";
  public static final String PLUGIN = "pekko.persistence.cassandra";

  private PekkoPersistenceConfig() {}

  /** Settings must carry contact points by now: the embedded node's, once it runs, or the configured ones. */
  public static Config of(PersistenceSettings s) {
    if (s.contactPoints().isEmpty()) {
      throw new IllegalArgumentException(PersistenceSettings.PATH + ".contact-points: empty; start the embedded node first "
          + "(BerthPersistence.contactPoints) and pass its contact point");
    }
    Map<String, Object> m = new HashMap<>();
    m.put("pekko.persistence.journal.plugin", PLUGIN + ".journal");
    m.put("pekko.persistence.snapshot-store.plugin", PLUGIN + ".snapshot");

    m.put(PLUGIN + ".read-profile", READ_PROFILE);
    m.put(PLUGIN + ".write-profile", WRITE_PROFILE);
    m.put(PLUGIN + ".query.read-profile", READ_PROFILE);
    m.put(PLUGIN + ".snapshot.read-profile", SNAPSHOT_PROFILE);
    m.put(PLUGIN + ".snapshot.write-profile", SNAPSHOT_PROFILE);

    // Berth creates the schema itself (CassandraSchema), once, before any entity starts: the plugin's lazy
    // creation would race between nodes and leave the read journal without tables until the first write.
    for (String store : List.of("journal", "snapshot")) {
      String p = PLUGIN + "." + store;
      m.put(p + ".keyspace", store.equals("journal") ? s.journalKeyspace() : s.snapshotKeyspace());
      m.put(p + ".keyspace-autocreate", false);
      m.put(p + ".tables-autocreate", false);
      m.put(p + ".replication-strategy", s.replicationStrategy());
      m.put(p + ".replication-factor", s.replicationFactor());
      m.put(p + ".data-center-replication-factors", s.datacenters());
      m.put(p + ".circuit-breaker.max-failures", s.breakerMaxFailures());
      m.put(p + ".circuit-breaker.call-timeout", millis(s.breakerCallTimeout()));
      m.put(p + ".circuit-breaker.reset-timeout", millis(s.breakerResetTimeout()));
    }
    // Replay fetches this many events per query page (the plugin's 500 means 200 round trips for 100,000 events).
    m.put(PLUGIN + ".query.max-buffer-size", 5000);
    m.put(PLUGIN + ".events-by-tag.bucket-size", "Hour");
    m.put(PLUGIN + ".events-by-tag.first-time-bucket", s.firstTimeBucket());
    m.put(PLUGIN + ".events-by-tag.eventual-consistency-delay", millis(s.eventualConsistencyDelay()));

    String d = "datastax-java-driver";
    m.put(d + ".basic.contact-points", s.contactPoints());
    m.put(d + ".basic.load-balancing-policy.local-datacenter", s.localDatacenter());
    // Start even if Cassandra is not up yet, and find it again quickly when it comes back after an outage.
    m.put(d + ".advanced.reconnect-on-init", true);
    m.put(d + ".advanced.reconnection-policy.class", "ExponentialReconnectionPolicy");
    m.put(d + ".advanced.reconnection-policy.base-delay", "500 milliseconds");
    m.put(d + ".advanced.reconnection-policy.max-delay", "5 seconds");
    // A request must end within the breaker's call timeout, so a timed-out call is a failure the breaker counts.
    // A node with PasswordAuthenticator: Berth's own role (CqlLogin). The password is read from its file here (a
    // missing or loose file fails the start, naming the key), so it lives in this process's configuration only.
    s.login().ifPresent(login -> {
      m.put(d + ".advanced.auth-provider.class", "PlainTextAuthProvider");
      m.put(d + ".advanced.auth-provider.username", login.username());
      m.put(d + ".advanced.auth-provider.password", login.password());
    });
    s.tls().ifPresent(tls -> {
      tls.context(); // read now: a missing or bad CA file is a configuration error at start, not a failed connection
      m.put(d + ".advanced.ssl-engine-factory.class", CaFileSslEngineFactory.class.getName());
      m.put(d + "." + CaFileSslEngineFactory.CA_FILE.getPath(), tls.caFile().toString());
    });
    m.put(d + ".basic.request.timeout", millis(s.breakerCallTimeout().multipliedBy(4).dividedBy(5)));
    profile(m, d, WRITE_PROFILE, s.writeConsistency());
    profile(m, d, READ_PROFILE, s.readConsistency());
    profile(m, d, SNAPSHOT_PROFILE, s.snapshotConsistency());
    return ConfigFactory.parseMap(m, "berth.persistence (PekkoPersistenceConfig)");
  }

  private static void profile(Map<String, Object> m, String driver, String name, String consistency) {
    m.put(driver + ".profiles." + name + ".basic.request.consistency", consistency);
    m.put(driver + ".profiles." + name + ".basic.request.default-idempotence", true);
  }

  private static Object millis(java.time.Duration d) {
    return ConfigValueFactory.fromAnyRef(d.toMillis() + "ms").unwrapped();
  }
}
