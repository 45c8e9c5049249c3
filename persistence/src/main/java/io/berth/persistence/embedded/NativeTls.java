package io.berth.persistence.embedded;

import io.berth.persistence.PemTrust;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;

/**
 * TLS on the embedded node's CQL port, required of every client: the node's certificate and key (PEM, as
 * {@code bin/berth-cluster-ca service} makes them) and the CA that signed it, which clients (and the start probe)
 * trust.
 */
public record NativeTls(Path certFile, Path keyFile, Path caFile) {
  public NativeTls {
    readable("embedded.tls.cert-file", certFile);
    readable("embedded.tls.key-file", keyFile);
    readable("embedded.tls.ca-file", caFile);
  }

  private static void readable(String field, Path file) {
    if (file == null || !file.isAbsolute() || !Files.isReadable(file)) {
      throw new IllegalArgumentException(field + ": must be an absolute path to a readable file, was '" + file + "'");
    }
  }

  /** What a client of this node trusts: the CA only. */
  public SSLContext clientContext() {
    return PemTrust.trusting(caFile, "embedded.tls.ca-file");
  }
}
