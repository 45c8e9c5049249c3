package io.berth.node.api;

import io.berth.node.ops.BerthOperations;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;

/** Binds the REST API of one node. */
public final class ApiServer {
  private ApiServer() {}

  /**
   * Serves {@link BerthRoutes} over {@code ops} on {@code host:port} (port 0 picks a free one; read it from the
   * binding's {@code localAddress()}), plain HTTP and without credentials: requests without {@code X-Berth-Principal}
   * act as the node's OS user.
   */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, BerthOperations ops, String host, int port) {
    return start(system, ops, host, port, Optional.empty(), Optional.empty());
  }

  /**
   * With {@code tls} over HTTPS (asking for client certificates of its client CA, if it names one); with {@code tokens}
   * every request but the OpenAPI document needs a bearer token or a registered client certificate.
   */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, BerthOperations ops, String host, int port,
      Optional<PemIdentity> tls, Optional<ApiTokens> tokens) {
    BerthRoutes routes = new BerthRoutes(ops, BerthRoutes.osPrincipal(), tokens, tls.map(PemIdentity::clientCas).orElse(List.of()));
    ServerBuilder server = Http.get(system).newServerAt(host, port);
    if (tls.isPresent()) {
      SSLContext context = tls.get().serverContext();
      boolean clientCertificates = tls.get().clientCaFile().isPresent();
      server = server.enableHttps(ConnectionContext.httpsServer(() -> {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        // Asked for, not required: a client may authenticate with a bearer token instead.
        engine.setWantClientAuth(clientCertificates);
        return engine;
      }));
      if (clientCertificates) {
        // The routes read the client's certificate from the TLS session, which pekko-http attaches only when told.
        server = server.adaptSettings(settings -> settings.withParserSettings(settings.getParserSettings().withIncludeSslSessionAttribute(true)));
      }
    }
    return server.bind(routes.route());
  }
}
