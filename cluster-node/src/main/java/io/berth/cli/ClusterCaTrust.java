package io.berth.cli;

import java.net.InetAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Trusts a server whose certificate chains to the cluster CA (the JDK's PKIX validation, with its algorithm limits
 * and its check that the certificate is for a TLS server) and names the address dialled: an IP address must be one
 * of the certificate's IP names, a host name one of its DNS names (case aside). The match is exact because the
 * cluster CA's certificates name their hosts exactly: {@code bin/berth-cluster-ca} issues a DNS and an IP name,
 * never a wildcard.
 *
 * <p>Why not the JDK's trust manager with endpoint identification, which would do the same: its name check first
 * loads the JDK's whole store of public roots (to tell a public CA's chain from a private one), about 140
 * certificates parsed on every run of the CLI, a tenth of a {@code berth ct list}.
 */
final class ClusterCaTrust extends X509ExtendedTrustManager {
  private static final int DNS_NAME = 2;
  private static final int IP_ADDRESS = 7;

  private final X509TrustManager pkix;

  ClusterCaTrust(X509TrustManager pkix) {
    this.pkix = pkix;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    SSLSession handshake = socket instanceof SSLSocket s ? s.getHandshakeSession() : null;
    checkServer(chain, authType, handshake == null ? null : handshake.getPeerHost());
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    checkServer(chain, authType, engine == null ? null : engine.getPeerHost());
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    checkServer(chain, authType, null);
  }

  private void checkServer(X509Certificate[] chain, String authType, String host) throws CertificateException {
    pkix.checkServerTrusted(chain, authType);
    if (host == null || host.isEmpty()) throw new CertificateException("no address to check the server's certificate against");
    checkNames(chain[0], host);
  }

  /** Throws unless {@code leaf} names {@code host}: as an IP name when it is an address, else as a DNS name. */
  static void checkNames(X509Certificate leaf, String host) throws CertificateException {
    String dialled = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    boolean literal = isAddressLiteral(dialled);
    Collection<List<?>> names;
    try {
      names = leaf.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      throw new CertificateException("the server's certificate has unreadable names: " + e.getMessage(), e);
    }
    if (names != null) {
      for (List<?> name : names) {
        int type = (Integer) name.get(0);
        String value = String.valueOf(name.get(1));
        if (literal && type == IP_ADDRESS && sameAddress(value, dialled)) return;
        if (!literal && type == DNS_NAME && value.toLowerCase(Locale.ROOT).equals(dialled.toLowerCase(Locale.ROOT))) return;
      }
    }
    throw new CertificateException("the server's certificate (" + leaf.getSubjectX500Principal().getName() + ") is not for "
        + dialled + ": its names are " + (names == null ? "none" : names.stream().map(n -> String.valueOf(n.get(1))).toList()));
  }

  private static boolean isAddressLiteral(String host) {
    return host.contains(":") || host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  }

  private static boolean sameAddress(String a, String b) {
    try {
      // Both are literals (no name lookup happens): the same address however it is written (IPv6's zeros).
      return InetAddress.getByName(a).equals(InetAddress.getByName(b));
    } catch (UnknownHostException e) {
      return false;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    throw new CertificateException("the CLI only checks servers");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    throw new CertificateException("the CLI only checks servers");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("the CLI only checks servers");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }
}
