package io.berth.node.api;

import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * The real routes bound on 127.0.0.1 (a free port) over a {@link ScriptedOperations}, for the API and CLI tests:
 * requests go through the real HTTP stack, as the CLI's do.
 */
public final class ApiTestServer implements AutoCloseable {
  public final ScriptedOperations ops = new ScriptedOperations();
  public final String url;
  private final ActorSystem<Void> system;
  private final ServerBinding binding;

  public ApiTestServer() throws Exception {
    this(java.util.Optional.empty(), java.util.Optional.empty());
  }

  /** Over HTTPS with {@code tls}, asking for {@code tokens}, as a node with berth.api.tls and tokens-file. */
  public ApiTestServer(java.util.Optional<PemIdentity> tls, java.util.Optional<ApiTokens> tokens) throws Exception {
    // A local actor system: the API needs no cluster, whatever the node's config says.
    system = ActorSystem.create(Behaviors.empty(), "api-test", ConfigFactory.parseString(
        "pekko.actor.provider = local\npekko.loglevel = WARNING\npekko.coordinated-shutdown.exit-jvm = off\n"
            + "pekko.http.server.idle-timeout = 30s").withFallback(ConfigFactory.defaultReference()));
    binding = ApiServer.start(system, ops, "127.0.0.1", 0, tls, tokens).toCompletableFuture().get(20, TimeUnit.SECONDS);
    InetSocketAddress address = binding.localAddress();
    url = (tls.isPresent() ? "https" : "http") + "://127.0.0.1:" + address.getPort();
  }

  @Override
  public void close() throws Exception {
    try {
      binding.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }
}
