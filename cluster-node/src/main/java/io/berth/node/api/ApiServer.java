package io.berth.node.api;

import io.berth.node.ops.BerthOperations;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
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

  /** With {@code tls} over HTTPS; with {@code tokens} every request but the OpenAPI document needs a bearer token. */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, BerthOperations ops, String host, int port,
      Optional<PemIdentity> tls, Optional<ApiTokens> tokens) {
    BerthRoutes routes = new BerthRoutes(ops, BerthRoutes.osPrincipal(), tokens);
    ServerBuilder server = Http.get(system).newServerAt(host, port);
    if (tls.isPresent()) server = server.enableHttps(ConnectionContext.httpsServer(tls.get().serverContext()));
    return server.bind(routes.route());
  }
}
