package io.berth.pem;

import java.io.IOException;
import java.io.InputStream;
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
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS material from PEM files as {@code bin/berth-cluster-ca} makes them (certificates, unencrypted PKCS#8 RSA or EC
 * keys), read by the JDK: nothing here parses ASN.1 by hand. Shared by the node (its API's identity, the CA of its
 * clients' certificates) and the CLI (its client certificate), whose small jar holds this package too. A bad file is a
 * {@link BadPem} saying what is wrong; the caller names the setting or flag.
 */
public final class PemFiles {
  private static final Pattern PKCS8 = Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  private PemFiles() {}

  /** What is wrong with a PEM file, to be reported naming the setting or flag that named it. */
  public static final class BadPem extends Exception {
    private static final long serialVersionUID = 1L;

    public BadPem(String rule) {
      super(rule);
    }
  }

  /** The X.509 certificates of a PEM file, at least one. */
  public static List<X509Certificate> certificates(Path pem) throws BadPem {
    List<X509Certificate> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(pem)) {
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) out.add((X509Certificate) c);
    } catch (IOException e) {
      throw new BadPem("must be a readable file (" + e.getMessage() + ")");
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new BadPem("must hold PEM certificates (" + e.getMessage() + ")");
    }
    if (out.isEmpty()) throw new BadPem("must hold at least one PEM certificate");
    return out;
  }

  /** An unencrypted PKCS#8 private key (RSA or EC). */
  public static PrivateKey privateKey(Path pem) throws BadPem {
    String text;
    try {
      text = Files.readString(pem, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new BadPem("must be a readable file (" + e.getMessage() + ")");
    }
    Matcher m = PKCS8.matcher(text);
    if (!m.find()) throw new BadPem("must be an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY)");
    byte[] der = Base64.getMimeDecoder().decode(m.group(1));
    for (String algorithm : new String[] {"RSA", "EC"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException notThisOne) {
        // the next algorithm
      }
    }
    throw new BadPem("must be an RSA or EC key");
  }

  /** Key managers presenting {@code chain} with {@code key}; a key that does not match the certificate is refused. */
  public static KeyManager[] keyManagers(List<X509Certificate> chain, PrivateKey key) throws BadPem {
    try {
      if (!chain.get(0).getPublicKey().getAlgorithm().equals(key.getAlgorithm())) {
        throw new BadPem("must be the key of the certificate (a " + chain.get(0).getPublicKey().getAlgorithm() + " key), not a "
            + key.getAlgorithm() + " key");
      }
      // A key of the same kind may still be another's: sign with it and check with the certificate.
      String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
      byte[] probe = new byte[32];
      new SecureRandom().nextBytes(probe);
      java.security.Signature signer = java.security.Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      java.security.Signature verifier = java.security.Signature.getInstance(algorithm);
      verifier.initVerify(chain.get(0).getPublicKey());
      verifier.update(probe);
      if (!verifier.verify(signer.sign())) throw new BadPem("must be the key of the certificate " + chain.get(0).getSubjectX500Principal().getName());
      char[] password = new char[16];
      SecureRandom random = new SecureRandom();
      for (int i = 0; i < password.length; i++) password[i] = (char) ('a' + random.nextInt(26)); // in memory only
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("identity", key, password, chain.toArray(new Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(store, password);
      return kmf.getKeyManagers();
    } catch (IOException | GeneralSecurityException e) {
      throw new BadPem("must be the key of the certificate (" + e.getMessage() + ")");
    }
  }

  /** Trust managers trusting only {@code cas}. */
  public static TrustManager[] trustManagers(List<X509Certificate> cas) {
    try {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      int i = 0;
      for (X509Certificate c : cas) trust.setCertificateEntry("ca-" + i++, c);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      return tmf.getTrustManagers();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("a trust store of " + cas.size() + " certificates: " + e.getMessage(), e);
    }
  }
}
