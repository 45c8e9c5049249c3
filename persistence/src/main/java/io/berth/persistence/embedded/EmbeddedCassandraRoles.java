package io.berth.persistence.embedded;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.auth.AuthenticationException;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.Row;
import io.berth.persistence.CaFileSslEngineFactory;
import io.berth.persistence.CqlLogin;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The roles of an embedded node that runs with password authentication, set up once and checked at every start.
 *
 * <ul>
 *   <li>{@code berth_admin}: a superuser of Berth's own, its password in {@code admin.password}; it replaces Cassandra's
 *       default superuser {@code cassandra}/{@code cassandra}, whose login is switched off once it exists (what
 *       Cassandra's documentation asks of every new cluster);</li>
 *   <li>{@code berth}: what the nodes log in as, its password in {@code berth.password}: no superuser, it may create
 *       keyspaces (and so owns the ones it creates) and has every permission on the {@code berth_*} keyspaces that
 *       already exist; it cannot create or change roles.</li>
 * </ul>
 *
 * Both passwords are random (192 bits), generated here, and live only in their files (mode 0600, in a directory of
 * mode 0700). Running it again changes nothing when {@code berth} logs in; it finishes a set-up that stopped half-way.
 */
public final class EmbeddedCassandraRoles {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedCassandraRoles.class);
  public static final String BERTH_ROLE = "berth";
  public static final String ADMIN_ROLE = "berth_admin";
  private static final String DEFAULT_SUPERUSER = "cassandra";
  private static final SecureRandom RANDOM = new SecureRandom();

  private EmbeddedCassandraRoles() {}

  /** Makes sure {@code berth} logs in on this node; returns its login. {@code dir} keeps the password files. */
  public static CqlLogin ensure(EmbeddedCassandra node, Path dir, Duration timeout) {
    if (!node.settings().passwordAuthentication()) {
      throw new IllegalArgumentException("embedded Cassandra on " + node.dataRoot() + " runs without authentication: it has no roles to set up");
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    Path berthFile = dir.resolve("berth.password");
    CqlLogin berth = new CqlLogin(BERTH_ROLE, berthFile.toAbsolutePath());
    try {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      if (Files.exists(berthFile) && logsIn(node, BERTH_ROLE, berth.password())) return berth;
      try (CqlSession admin = adminSession(node, dir.resolve("admin.password"), deadline)) {
        String password = Files.exists(berthFile) ? berth.password() : writeNewPassword(berthFile);
        admin.execute("CREATE ROLE IF NOT EXISTS " + BERTH_ROLE + " WITH LOGIN = true AND PASSWORD = '" + password + "'");
        admin.execute("ALTER ROLE " + BERTH_ROLE + " WITH LOGIN = true AND PASSWORD = '" + password + "'");
        admin.execute("GRANT CREATE ON ALL KEYSPACES TO " + BERTH_ROLE);
        // Keyspaces made before authentication was on (an older local cluster) belong to nobody: berth gets them.
        for (Row row : admin.execute("SELECT keyspace_name FROM system_schema.keyspaces")) {
          String keyspace = row.getString("keyspace_name");
          if (keyspace.startsWith("berth_")) admin.execute("GRANT ALL PERMISSIONS ON KEYSPACE " + keyspace + " TO " + BERTH_ROLE);
        }
      }
      // Cassandra caches roles and credentials for a moment (roles_validity, credentials_validity: 2 s).
      while (!logsIn(node, BERTH_ROLE, berth.password())) {
        if (System.nanoTime() > deadline) throw new EmbeddedCassandraException(
            "set up Cassandra roles on " + node.contactPoint() + ": role " + BERTH_ROLE + " was created but its login is refused");
        sleep(250);
      }
      log.info("embedded Cassandra at {}: role {} logs in (password in {})", node.contactPoint(), BERTH_ROLE, berthFile);
      return berth;
    } catch (IOException e) {
      throw new EmbeddedCassandraException("set up Cassandra roles on " + node.contactPoint() + ": " + e.getMessage(), e);
    }
  }

  /**
   * A session as {@code berth_admin}; the first time, made with Cassandra's default superuser, whose login is then
   * switched off. The admin password is written before its role is created, so a set-up killed in between is
   * finished by the next run with the same password.
   */
  private static CqlSession adminSession(EmbeddedCassandra node, Path adminFile, long deadline) throws IOException {
    CqlLogin admin = new CqlLogin(ADMIN_ROLE, adminFile.toAbsolutePath());
    if (Files.exists(adminFile) && logsIn(node, ADMIN_ROLE, admin.password())) return session(node, ADMIN_ROLE, admin.password());
    String password = Files.exists(adminFile) ? admin.password() : writeNewPassword(adminFile);
    // The default superuser is made a moment after the node first answers CQL (when system_auth holds no role).
    try (CqlSession first = sessionWithin(node, DEFAULT_SUPERUSER, DEFAULT_SUPERUSER, deadline,
        "its default superuser did not log in and " + ADMIN_ROLE + " did not log in with the password in " + adminFile
            + ": its roles were set up by someone else")) {
      first.execute("CREATE ROLE IF NOT EXISTS " + ADMIN_ROLE + " WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = '" + password + "'");
      first.execute("ALTER ROLE " + ADMIN_ROLE + " WITH PASSWORD = '" + password + "'");
    }
    CqlSession session = sessionWithin(node, ADMIN_ROLE, password, deadline, ADMIN_ROLE + " was created but its login is refused");
    session.execute("ALTER ROLE " + DEFAULT_SUPERUSER + " WITH SUPERUSER = false AND LOGIN = false AND PASSWORD = '" + newPassword() + "'");
    log.info("embedded Cassandra at {}: role {} replaces the default superuser, whose login is off (password in {})",
        node.contactPoint(), ADMIN_ROLE, adminFile);
    return session;
  }

  private static CqlSession sessionWithin(EmbeddedCassandra node, String role, String password, long deadline, String why) {
    while (true) {
      try {
        return session(node, role, password);
      } catch (AllNodesFailedException e) {
        if (!refusedLogin(e)) throw e;
        if (System.nanoTime() > deadline) {
          throw new EmbeddedCassandraException("set up Cassandra roles on " + node.contactPoint() + ": " + why);
        }
        sleep(250);
      }
    }
  }

  /** True when the role logs in with this password; false when the node refuses the login. */
  static boolean logsIn(EmbeddedCassandra node, String role, String password) {
    try (CqlSession s = session(node, role, password)) {
      return true;
    } catch (AllNodesFailedException e) {
      if (refusedLogin(e)) return false;
      throw e;
    }
  }

  static boolean refusedLogin(AllNodesFailedException e) {
    return e.getAllErrors().values().stream().flatMap(List::stream).anyMatch(t -> t instanceof AuthenticationException);
  }

  static CqlSession session(EmbeddedCassandra node, String role, String password) {
    var builder = CqlSession.builder();
    if (node.settings().nativeTls().isPresent()) {
      builder = builder.withSslEngineFactory(new CaFileSslEngineFactory(node.settings().nativeTls().get().clientContext()));
    }
    return builder
        .addContactPoint(new InetSocketAddress(node.address(), node.nativePort()))
        .withLocalDatacenter("datacenter1")
        .withAuthCredentials(role, password)
        .withConfigLoader(DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(10))
            .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(5))
            .build())
        .build();
  }

  /** A new random password in a new file of mode 0600, moved into place whole. */
  private static String writeNewPassword(Path file) throws IOException {
    String password = newPassword();
    Path tmp = file.resolveSibling(file.getFileName() + ".new");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, password + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return password;
  }

  /** 192 random bits, URL-safe base64: no quote or backslash, so it sits in a CQL string as it is. */
  private static String newPassword() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbeddedCassandraException("interrupted while setting up Cassandra roles", e);
    }
  }
}
