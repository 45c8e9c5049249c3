package io.berth.persistence;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** A client's TLS trust from a PEM file of CA certificates (bin/berth-cluster-ca's ca.pem): nothing else is trusted. */
public final class PemTrust {
  private PemTrust() {}

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
