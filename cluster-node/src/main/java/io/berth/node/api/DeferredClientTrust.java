package io.berth.node.api;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The API server's trust for client certificates: the handshake takes any certificate whose key the client proves it
 * holds (TLS's CertificateVerify, which the JDK checks whatever this says), and names the client CA as the issuer it
 * wants. Whether the certificate is signed by that CA, valid and registered is checked on each request
 * ({@link ClientCertificates#check}, then the access log), where a refusal can be an HTTP 401 that says why: in TLS 1.3
 * a refused client certificate surfaces only after the client has sent its request, as a broken connection that
 * neither says why nor whether the request was carried out. A request with a certificate that fails those checks is
 * refused; nothing is served on the strength of the handshake alone.
 */
final class DeferredClientTrust extends X509ExtendedTrustManager {
  private final X509Certificate[] issuers;

  DeferredClientTrust(List<X509Certificate> clientCas) {
    this.issuers = clientCas.toArray(new X509Certificate[0]);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) {
    // decided per request: ClientCertificates.check
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
    // decided per request: ClientCertificates.check
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    // decided per request: ClientCertificates.check
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("the API server's trust is for client certificates only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    throw new CertificateException("the API server's trust is for client certificates only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    throw new CertificateException("the API server's trust is for client certificates only");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return issuers.clone();
  }
}
