package io.berth.node.api;

import io.berth.node.ops.BerthOperations;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/** Binds the REST API of one node. */
public final class ApiServer {
  private ApiServer() {}

  /**
   * Serves {@link BerthRoutes} over {@code ops} on {@code host:port} (port 0 picks a free one; read it from the
   * binding's {@code localAddress()}). Requests without {@code X-Berth-Principal} act as the node's OS user.
   */
  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, BerthOperations ops, String host, int port) {
    BerthRoutes routes = new BerthRoutes(ops, BerthRoutes.osPrincipal());
    return Http.get(system).newServerAt(host, port).bind(routes.route());
  }
}
