package io.berth.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * What the CLI presents and trusts: a bearer token ({@code --token FILE}, {@code $BERTH_TOKEN}, or the local cluster's
 * {@code run/admin.token}) and the CA an https API's certificate must chain to ({@code --ca FILE}, {@code $BERTH_CA},
 * or the local cluster's {@code run/ca.pem}; else the JDK's trusted roots). The local cluster's files are used only
 * when the addresses are the local cluster's too ({@code run/apis}): its admin token is never sent to an API named on
 * the command line.
 *
 * @param token the bearer token, or null for none
 * @param tls   the socket factory for https, or null for the JDK's default
 */
record Credentials(String token, SSLSocketFactory tls) {
  static final Credentials NONE = new Credentials(null, null);

  static Credentials resolve(String tokenFlag, String caFlag, Map<String, String> env, Path localRunDir) {
    String token = null;
    if (tokenFlag != null && !tokenFlag.isBlank()) {
      token = readToken("--token", Path.of(tokenFlag));
    } else if (!env.getOrDefault("BERTH_TOKEN", "").isBlank()) {
      token = env.get("BERTH_TOKEN").strip();
    } else if (localRunDir != null && Files.isRegularFile(localRunDir.resolve("admin.token"))) {
      token = readToken(localRunDir.resolve("admin.token").toString(), localRunDir.resolve("admin.token"));
    }
    Path ca = null;
    String caSource = null;
    if (caFlag != null && !caFlag.isBlank()) {
      ca = Path.of(caFlag);
      caSource = "--ca";
    } else if (!env.getOrDefault("BERTH_CA", "").isBlank()) {
      ca = Path.of(env.get("BERTH_CA"));
      caSource = "BERTH_CA";
    } else if (localRunDir != null && Files.isRegularFile(localRunDir.resolve("ca.pem"))) {
      ca = localRunDir.resolve("ca.pem");
      caSource = ca.toString();
    }
    return new Credentials(token, ca == null ? null : trusting(caSource, ca).getSocketFactory());
  }

  private static String readToken(String source, Path file) {
    try {
      String t = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (t.isEmpty() || t.contains("\n")) throw CliFailure.usage(source + ": must hold a token on one line (" + file + ")");
      return t;
    } catch (IOException e) {
      throw CliFailure.usage(source + ": cannot read the token file " + file + " (" + e.getMessage() + ")");
    }
  }

  /**
   * A TLS context trusting only the certificates of a PEM file; a bad file is a usage failure naming its source. The
   * same steps as persistence's {@code PemTrust}, kept apart on purpose: the CLI's jar holds {@code io.berth.cli} and
   * picocli only (its start-up time, CLI.md), so it cannot load the node's modules.
   */
  static SSLContext trusting(String source, Path pem) {
    Collection<? extends Certificate> certificates;
    try (InputStream in = Files.newInputStream(pem)) {
      certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (IOException e) {
      throw CliFailure.usage(source + ": cannot read the CA file " + pem + " (" + e.getMessage() + ")");
    } catch (GeneralSecurityException e) {
      throw CliFailure.usage(source + ": " + pem + " must hold PEM certificates (" + e.getMessage() + ")");
    }
    if (certificates.isEmpty()) throw CliFailure.usage(source + ": " + pem + " must hold at least one PEM certificate");
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
