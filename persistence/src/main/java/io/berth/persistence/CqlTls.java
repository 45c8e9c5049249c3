package io.berth.persistence;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * {@code berth.persistence.tls}: Berth talks to Cassandra over TLS and trusts only the CA in {@code ca-file} (PEM;
 * several certificates during a rotation), checking that the node's certificate names the address it connected to.
 */
public record CqlTls(Path caFile) {
  static final String FIELD = PersistenceSettings.PATH + ".tls.ca-file";

  public CqlTls {
    if (caFile == null || !caFile.isAbsolute()) throw new IllegalArgumentException(FIELD + ": must be an absolute path, was '" + caFile + "'");
  }

  static Optional<CqlTls> fromConfig(Config persistence) {
    String file = persistence.hasPath("tls.ca-file") ? persistence.getString("tls.ca-file").strip() : "";
    if (file.isEmpty()) return Optional.empty();
    return Optional.of(new CqlTls(Path.of(file)));
  }

  /** A client TLS context trusting only this CA. */
  public SSLContext context() {
    return PemTrust.trusting(caFile, FIELD);
  }
}
