package io.berth.node.api;

import io.berth.protocol.InvalidFieldException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * Client certificates on the API: the one a request's TLS session carries, and the checks a certificate passes when
 * it is registered under a name and again on every request: a leaf allowed to authenticate a client, signed by
 * {@code berth.api.tls.client-ca-file}, in its validity period. The handshake proves the client holds the key
 * ({@link DeferredClientTrust}); whether the certificate is good is decided here, so a bad one is a 401 naming the
 * rule rather than a handshake alert that TLS 1.3 delivers only after the client has sent its request.
 */
final class ClientCertificates {
  /** The extended key usage "TLS client authentication" (RFC 5280). */
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

  private ClientCertificates() {}

  /** The client's certificate, when the handshake received one (the server asks for it, it does not require it). */
  static Optional<X509Certificate> of(HttpRequest request) {
    return request.getAttribute(AttributeKeys.sslSession).flatMap(info -> {
      try {
        Certificate[] chain = info.getSession().getPeerCertificates();
        return chain.length > 0 && chain[0] instanceof X509Certificate x ? Optional.of(x) : Optional.empty();
      } catch (SSLPeerUnverifiedException none) {
        return Optional.empty();
      }
    });
  }

  /** The certificate of {@code pem}, checked as the handshake will check it; else the field and the rule. */
  static X509Certificate registrable(String field, String pem, List<X509Certificate> cas, Instant now) {
    if (cas.isEmpty()) {
      throw new InvalidFieldException(field, "needs berth.api.tls.client-ca-file on this node: without it the API asks for no client certificate",
          "(a certificate)");
    }
    List<X509Certificate> chain;
    try {
      chain = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
          .stream().map(c -> (X509Certificate) c).toList();
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new InvalidFieldException(field, "must be a PEM certificate (BEGIN CERTIFICATE)", abbreviated(pem));
    }
    if (chain.size() != 1) throw new InvalidFieldException(field, "must be one PEM certificate, the client's own", chain.size() + " certificates");
    check(field, chain.get(0), cas, now);
    return chain.get(0);
  }

  /**
   * What a client certificate must be, at registration and on every request: a leaf (not a CA) allowed to
   * authenticate a client, chaining to one of {@code cas} and valid at {@code now}; else the field and the rule.
   */
  static void check(String field, X509Certificate leaf, List<X509Certificate> cas, Instant now) {
    String subject = leaf.getSubjectX500Principal().getName();
    if (leaf.getBasicConstraints() >= 0) throw new InvalidFieldException(field, "must be a client's certificate, not a CA's", subject);
    try {
      List<String> usages = leaf.getExtendedKeyUsage();
      if (usages != null && !usages.contains(CLIENT_AUTH)) {
        throw new InvalidFieldException(field, "must allow TLS client authentication (extendedKeyUsage clientAuth)", subject);
      }
      Set<TrustAnchor> anchors = cas.stream().map(ca -> new TrustAnchor(ca, null)).collect(Collectors.toSet());
      PKIXParameters parameters = new PKIXParameters(anchors);
      // Revocation here is the access log's: revoking the name refuses the certificate on every node.
      parameters.setRevocationEnabled(false);
      parameters.setDate(Date.from(now));
      CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), parameters);
    } catch (java.security.cert.CertPathValidatorException e) {
      throw new InvalidFieldException(field, "must be signed by this cluster's client CA and valid now (" + e.getMessage() + ")", subject);
    } catch (GeneralSecurityException e) {
      throw new InvalidFieldException(field, "must be a certificate this node can check (" + e.getMessage() + ")", subject);
    }
  }

  private static String abbreviated(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }
}
