package io.berth.node.api;

import io.berth.protocol.InvalidFieldException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A server's TLS identity from PEM files, as {@code bin/berth-cluster-ca} makes them: a certificate (chain) and its
 * unencrypted PKCS#8 private key (RSA or EC). The JDK reads both; nothing here parses ASN.1 by hand.
 */
public record PemIdentity(Path certFile, Path keyFile, String field) {
  private static final Pattern PKCS8 = Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  /** A TLS context presenting this identity (no client certificates asked for). */
  public SSLContext serverContext() {
    try {
      Collection<? extends Certificate> chain;
      try (var in = Files.newInputStream(certFile)) {
        chain = CertificateFactory.getInstance("X.509").generateCertificates(in);
      }
      if (chain.isEmpty()) throw new InvalidFieldException(field + ".cert-file", "must hold a PEM certificate", certFile);
      PrivateKey key = privateKey();
      char[] password = new char[16];
      SecureRandom random = new SecureRandom();
      for (int i = 0; i < password.length; i++) password[i] = (char) ('a' + random.nextInt(26)); // in memory only
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("identity", key, password, chain.toArray(new Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(store, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), null, null);
      return context;
    } catch (IOException e) {
      throw new InvalidFieldException(field + ".cert-file", "must be a readable PEM file: " + e, certFile);
    } catch (GeneralSecurityException e) {
      throw new InvalidFieldException(field + ".cert-file", "must hold a certificate matching key-file: " + e.getMessage(), certFile);
    }
  }

  private PrivateKey privateKey() throws IOException {
    String text = Files.readString(keyFile, StandardCharsets.US_ASCII);
    Matcher m = PKCS8.matcher(text);
    if (!m.find()) {
      throw new InvalidFieldException(field + ".key-file", "must be an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY)", keyFile);
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(1));
    for (String algorithm : new String[] {"RSA", "EC"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException notThisOne) {
        // next algorithm
      }
    }
    throw new InvalidFieldException(field + ".key-file", "must be an RSA or EC key", keyFile);
  }
}
