package io.berth.persistence;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * {@code berth.persistence.authentication}: the Cassandra role Berth logs in as, and the file holding its password
 * (kept out of the configuration, which operators copy and paste; the file is the owner's only). Cassandra checks
 * the pair with its {@code PasswordAuthenticator}; without it Berth connects unauthenticated, which a node with
 * authentication refuses.
 */
public record CqlLogin(String username, Path passwordFile) {
  private static final String PREFIX = PersistenceSettings.PATH + ".authentication.";

  public CqlLogin {
    if (username == null || username.isBlank()) throw new IllegalArgumentException(PREFIX + "username: must not be empty");
    if (passwordFile == null || !passwordFile.isAbsolute()) {
      throw new IllegalArgumentException(PREFIX + "password-file: must be an absolute path, was '" + passwordFile + "'");
    }
  }

  /** Both keys or neither. */
  static Optional<CqlLogin> fromConfig(Config persistence) {
    String user = persistence.hasPath("authentication.username") ? persistence.getString("authentication.username").strip() : "";
    String file = persistence.hasPath("authentication.password-file") ? persistence.getString("authentication.password-file").strip() : "";
    if (user.isEmpty() && file.isEmpty()) return Optional.empty();
    if (user.isEmpty()) throw new IllegalArgumentException(PREFIX + "username: must be given with password-file");
    if (file.isEmpty()) throw new IllegalArgumentException(PREFIX + "password-file: must be given with username");
    return Optional.of(new CqlLogin(user, Path.of(file)));
  }

  /** The password: the file's first line. The file must be readable by its owner only. */
  public String password() {
    String field = PREFIX + "password-file";
    try {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(passwordFile);
      for (PosixFilePermission p : mode) {
        if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
          throw new IllegalArgumentException(field + ": must be readable by its owner only (mode 0600), "
              + passwordFile + " is " + PosixFilePermissions.toString(mode));
        }
      }
      String text = Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
      if (text.isEmpty() || text.contains("\n")) {
        throw new IllegalArgumentException(field + ": must hold the password on one line, " + passwordFile + " does not");
      }
      return text;
    } catch (IOException e) {
      throw new IllegalArgumentException(field + ": must be a readable file: " + e, e);
    }
  }
}
