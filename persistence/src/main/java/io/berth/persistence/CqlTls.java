package io.berth.persistence;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

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
    return trusting(caFile, FIELD);
  }

  /** A client TLS context trusting only the certificates in a PEM file; a bad file names {@code field}. */
  public static SSLContext trusting(Path pem, String field) {
    Collection<? extends Certificate> certificates;
    try (InputStream in = Files.newInputStream(pem)) {
      certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (IOException e) {
      throw new IllegalArgumentException(field + ": must be a readable PEM file: " + e, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(field + ": must hold PEM certificates, " + pem + " does not: " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) throw new IllegalArgumentException(field + ": must hold at least one PEM certificate, " + pem + " holds none");
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int i = 0;
      for (Certificate c : certificates) trust.setCertificateEntry("ca-" + i++, c);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("TLS context from " + pem + ": " + e.getMessage(), e);
    }
  }
}
