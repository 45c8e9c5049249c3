package io.berth.cli;

import java.security.KeyManagementException;
import java.security.SecureRandom;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * An SSL context for a client that only speaks plain http (the local cluster's API). java.net.http builds the
 * JDK's default TLS context when given none, which costs 150-250 ms of the CLI's start here (cipher suites,
 * the trust store); this one costs nothing and refuses to be used, so an https URL can never go out unverified.
 * For https the CLI uses the JDK's default context.
 */
final class NoTls extends SSLContextSpi {
  static SSLContext context() {
    return new SSLContext(new NoTls(), null, "none") {};
  }

  /** Parameters handed to the client with the context, so it never asks the context for its defaults. */
  static SSLParameters parameters() {
    return new SSLParameters(new String[0], new String[0]);
  }

  private static UnsupportedOperationException refused() {
    return new UnsupportedOperationException("TLS is not set up for this client: use an https:// --api to get it");
  }

  @Override
  protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) throws KeyManagementException {
    throw refused();
  }

  @Override
  protected SSLSocketFactory engineGetSocketFactory() {
    throw refused();
  }

  @Override
  protected SSLServerSocketFactory engineGetServerSocketFactory() {
    throw refused();
  }

  @Override
  protected SSLEngine engineCreateSSLEngine() {
    throw refused();
  }

  @Override
  protected SSLEngine engineCreateSSLEngine(String host, int port) {
    throw refused();
  }

  @Override
  protected SSLSessionContext engineGetServerSessionContext() {
    throw refused();
  }

  @Override
  protected SSLSessionContext engineGetClientSessionContext() {
    throw refused();
  }
}
