package io.berth.persistence;

import com.datastax.oss.driver.api.core.config.DriverOption;
import com.datastax.oss.driver.api.core.context.DriverContext;
import com.datastax.oss.driver.api.core.metadata.EndPoint;
import com.datastax.oss.driver.api.core.ssl.SslEngineFactory;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * The Cassandra driver's TLS, from a PEM CA file ({@code advanced.ssl-engine-factory.ca-file}, set from
 * {@code berth.persistence.tls.ca-file}): the driver's own factory takes only Java key stores, and Berth's credentials
 * are PEM files made by {@code bin/berth-cluster-ca}. Every connection checks the node's certificate against the CA and
 * its names against the address connected to.
 */
public final class CaFileSslEngineFactory implements SslEngineFactory {
  /** The driver option naming the CA file. */
  public static final DriverOption CA_FILE = () -> "advanced.ssl-engine-factory.ca-file";
  private final SSLContext context;

  /** Called by the driver, with its context. */
  public CaFileSslEngineFactory(DriverContext driver) {
    this.context = PemTrust.trusting(Path.of(driver.getConfig().getDefaultProfile().getString(CA_FILE)), CqlTls.FIELD);
  }

  public CaFileSslEngineFactory(SSLContext context) {
    this.context = context;
  }

  @Override
  public SSLEngine newSslEngine(EndPoint remote) {
    SocketAddress address = remote.resolve();
    SSLEngine engine;
    if (address instanceof InetSocketAddress a) {
      engine = context.createSSLEngine(a.getHostString(), a.getPort());
    } else {
      engine = context.createSSLEngine();
    }
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    engine.setSSLParameters(parameters);
    return engine;
  }

  @Override
  public void close() {}
}
