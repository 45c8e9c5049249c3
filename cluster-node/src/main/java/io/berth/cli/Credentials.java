package io.berth.cli;

import io.berth.pem.PemFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * What the CLI presents and trusts: a bearer token ({@code --token FILE}, {@code $BERTH_TOKEN}, or the local cluster's
 * {@code run/admin.token}) and the CA an https API's certificate must chain to ({@code --ca FILE}, {@code $BERTH_CA},
 * or the local cluster's {@code run/ca.pem}; else the JDK's trusted roots). The local cluster's files are used only
 * when the addresses are the local cluster's too ({@code run/apis}): its admin token is never sent to an API named on
 * the command line. A client certificate ({@code --cert FILE --key FILE}, {@code $BERTH_CERT} and {@code $BERTH_KEY})
 * is presented in the TLS handshake instead of any token: it is then the CLI's identity.
 *
 * @param token the bearer token, or null for none
 * @param tls   the socket factory for https, or null for the JDK's default
 * @param certificate whether {@code tls} presents a client certificate (then the CLI's identity)
 */
record Credentials(String token, SSLSocketFactory tls, boolean certificate) {
  static final Credentials NONE = new Credentials(null, null, false);

  /** Whether the server learns who the CLI is from its credentials, so the CLI must not name a principal itself. */
  boolean identified() {
    return token != null || certificate;
  }

  static Credentials resolve(String tokenFlag, String caFlag, Map<String, String> env, Path localRunDir) {
    return resolve(tokenFlag, caFlag, null, null, env, localRunDir);
  }

  static Credentials resolve(String tokenFlag, String caFlag, String certFlag, String keyFlag, Map<String, String> env, Path localRunDir) {
    ClientIdentity identity = ClientIdentity.resolve(certFlag, keyFlag, env);
    String token = null;
    if (identity != null) {
      if (tokenFlag != null && !tokenFlag.isBlank()) throw CliFailure.usage("--token and --cert: give one identity, a token or a certificate");
    } else if (tokenFlag != null && !tokenFlag.isBlank()) {
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
    if (ca == null && identity == null) return new Credentials(token, null, false);
    return new Credentials(token, context(caSource, ca, identity).getSocketFactory(), identity != null);
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
   * same steps as persistence's {@code PemTrust}, which the CLI cannot load: its jar holds {@code io.berth.cli},
   * {@code io.berth.pem} and picocli only (its start-up time, CLI.md).
   */
  static SSLContext trusting(String source, Path pem) {
    return context(source, pem, null);
  }

  /** A TLS context trusting {@code pem} (the JDK's roots when null) and presenting {@code identity} (none when null). */
  private static SSLContext context(String source, Path pem, ClientIdentity identity) {
    TrustManager[] trust = null;
    if (pem != null) {
      try {
        X509TrustManager pkix = (X509TrustManager) PemFiles.trustManagers(PemFiles.certificates(pem))[0];
        trust = new TrustManager[] {new ClusterCaTrust(pkix)};
      } catch (PemFiles.BadPem e) {
        throw CliFailure.usage(source + ": the CA file " + pem + " " + e.getMessage());
      }
    }
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(identity == null ? null : identity.keyManagers(), trust, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("TLS context: " + e.getMessage(), e);
    }
  }
}
