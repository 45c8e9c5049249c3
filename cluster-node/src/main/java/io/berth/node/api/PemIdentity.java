package io.berth.node.api;

import io.berth.pem.PemFiles;
import io.berth.protocol.InvalidFieldException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * A server's TLS identity from PEM files, as {@code bin/berth-cluster-ca} makes them: a certificate (chain) and its
 * unencrypted PKCS#8 private key (RSA or EC), and optionally the CA whose client certificates it accepts.
 *
 * @param clientCaFile the CA (PEM) of the client certificates the server asks for; empty: it asks for none
 */
public record PemIdentity(Path certFile, Path keyFile, Optional<Path> clientCaFile, String field) {
  public PemIdentity(Path certFile, Path keyFile, String field) {
    this(certFile, keyFile, Optional.empty(), field);
  }

  /** A TLS context presenting this identity and asking for client certificates of the client CA (if any). */
  public SSLContext serverContext() {
    List<X509Certificate> chain = read(field + ".cert-file", certFile);
    try {
      var keys = PemFiles.keyManagers(chain, PemFiles.privateKey(keyFile));
      var trust = clientCaFile.map(ca -> new javax.net.ssl.TrustManager[] {new DeferredClientTrust(read(field + ".client-ca-file", ca))}).orElse(null);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys, trust, null);
      return context;
    } catch (PemFiles.BadPem e) {
      throw new InvalidFieldException(field + ".key-file", e.getMessage(), keyFile);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("a TLS context: " + e.getMessage(), e);
    }
  }

  /** The client CA's certificates: what a client certificate must chain to. */
  public List<X509Certificate> clientCas() {
    return clientCaFile.map(ca -> read(field + ".client-ca-file", ca)).orElse(List.of());
  }

  private static List<X509Certificate> read(String field, Path file) {
    try {
      return PemFiles.certificates(file);
    } catch (PemFiles.BadPem e) {
      throw new InvalidFieldException(field, e.getMessage(), file);
    }
  }
}
