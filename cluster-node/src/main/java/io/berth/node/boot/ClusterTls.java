package io.berth.node.boot;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.berth.protocol.InvalidFieldException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.Set;

/**
 * {@code berth.cluster.tls}: the host's certificate, its key and the cluster CA, for the cluster port. With them the
 * port runs Artery's TLS transport with mutual authentication (Pekko's {@code RotatingKeysSSLEngineProvider}, which
 * reads PEM files and takes new ones without a restart): a peer is accepted only with a certificate the cluster CA
 * signed whose subject names share one with this host's (every host's certificate carries the cluster's name), so a
 * JVM without one can neither join nor send. Without them the port is plain TCP and the node says so at start.
 *
 * @param certFile this host's certificate (PEM), signed by the CA
 * @param keyFile  its private key (PEM, PKCS#8 or PKCS#1 RSA), readable by root only
 * @param caFile   the cluster CA's certificate (PEM; several concatenated during a CA rotation)
 */
public record ClusterTls(Path certFile, Path keyFile, Path caFile) {
  private static final String PREFIX = "berth.cluster.tls.";

  /** From {@code berth.cluster.tls} under {@code berth}: all three files or none. */
  static Optional<ClusterTls> fromConfig(Config berth) {
    String cert = string(berth, "cluster.tls.cert-file");
    String key = string(berth, "cluster.tls.key-file");
    String ca = string(berth, "cluster.tls.ca-file");
    if (cert.isEmpty() && key.isEmpty() && ca.isEmpty()) return Optional.empty();
    if (cert.isEmpty()) throw new InvalidFieldException(PREFIX + "cert-file", "must be given with key-file and ca-file", cert);
    if (key.isEmpty()) throw new InvalidFieldException(PREFIX + "key-file", "must be given with cert-file and ca-file", key);
    if (ca.isEmpty()) throw new InvalidFieldException(PREFIX + "ca-file", "must be given with cert-file and key-file", ca);
    return Optional.of(new ClusterTls(Path.of(cert).toAbsolutePath(), Path.of(key).toAbsolutePath(), Path.of(ca).toAbsolutePath()));
  }

  private static String string(Config berth, String path) {
    return berth.hasPath(path) ? berth.getString(path).strip() : "";
  }

  /**
   * Checks the files as this node will use them: each a readable PEM file of the kind it names, and the key kept from
   * everyone but its owner (a key others can read is no credential).
   */
  public void check() {
    requirePem(PREFIX + "cert-file", certFile, "CERTIFICATE");
    requirePem(PREFIX + "ca-file", caFile, "CERTIFICATE");
    requirePem(PREFIX + "key-file", keyFile, "PRIVATE KEY");
    try {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(keyFile);
      for (PosixFilePermission p : mode) {
        if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
          throw new InvalidFieldException(PREFIX + "key-file", "must be readable by its owner only (mode 0600), not "
              + java.nio.file.attribute.PosixFilePermissions.toString(mode), keyFile);
        }
      }
    } catch (IOException e) {
      throw new InvalidFieldException(PREFIX + "key-file", "must be a readable file: " + e.getMessage(), keyFile);
    }
  }

  private static void requirePem(String field, Path file, String label) {
    String text;
    try {
      text = Files.readString(file, java.nio.charset.StandardCharsets.US_ASCII);
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new InvalidFieldException(field, "must be a readable PEM file: " + e, file);
    }
    // "PRIVATE KEY" also matches "RSA PRIVATE KEY" (PKCS#1), which Pekko reads too.
    if (!text.contains("-----BEGIN ") || !text.contains(label + "-----")) {
      throw new InvalidFieldException(field, "must be a PEM file holding a " + label, file);
    }
  }

  /** The Pekko settings of the TLS transport with these files (after {@link #check()}). */
  public Config pekkoConfig() {
    String engine = "pekko.remote.artery.ssl.rotating-keys-engine.";
    return ConfigFactory.empty()
        .withValue("pekko.remote.artery.transport", ConfigValueFactory.fromAnyRef("tls-tcp"))
        .withValue("pekko.remote.artery.ssl.ssl-engine-provider",
            ConfigValueFactory.fromAnyRef("org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider"))
        .withValue(engine + "cert-file", ConfigValueFactory.fromAnyRef(certFile.toString()))
        .withValue(engine + "key-file", ConfigValueFactory.fromAnyRef(keyFile.toString()))
        .withValue(engine + "ca-cert-file", ConfigValueFactory.fromAnyRef(caFile.toString()));
  }
}
