package io.berth.bench.cli;

import com.typesafe.config.ConfigFactory;
import io.berth.bench.Results;
import io.berth.node.api.ApiServer;
import io.berth.node.api.ApiTokens;
import io.berth.node.api.PemIdentity;
import io.berth.persistence.PemTrust;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * What the API's credentials cost: the same request to the same routes (over {@link ListOnlyOperations}, 20
 * containers) bound twice in one JVM, once plain HTTP without tokens and once HTTPS (the cluster CA's certificate
 * from {@code bin/berth-cluster-ca}) with a bearer token checked against a tokens file, interleaved in one run.
 *
 * <ul>
 *   <li>a request on a kept-alive connection (java.net.http, HTTP/1.1): the steady cost of TLS and the token check;</li>
 *   <li>{@code berth ct list} through {@code bin/berth-cli}: a JVM, a new connection and a TLS handshake each run
 *       (target: 0.3 s median with credentials too).</li>
 * </ul>
 *
 * <pre>mvn -q -pl benchmarks exec:java -Dexec.mainClass=io.berth.bench.cli.ApiCredentialsBenchmark [-Dexec.args="REQUESTS CLI_ROUNDS"]</pre>
 */
public final class ApiCredentialsBenchmark {
  private ApiCredentialsBenchmark() {}

  public static void main(String[] args) throws Exception {
    int requests = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    if (requests < 10 || requests > 100_000) throw new IllegalArgumentException("REQUESTS must be 10-100000 (got " + requests + ")");
    if (rounds < 1 || rounds > 500) throw new IllegalArgumentException("CLI_ROUNDS must be 1-500 (got " + rounds + ")");
    Path repo = Path.of(System.getenv().getOrDefault("BERTH_REPO", Path.of("").toAbsolutePath().toString()));
    if (repo.getFileName() != null && repo.getFileName().toString().equals("benchmarks")) repo = repo.getParent();
    Path dir = Files.createTempDirectory("api-credentials-bench");
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "api-credentials-bench", ConfigFactory.parseString(
        "pekko.actor.provider = local\npekko.loglevel = WARNING").withFallback(ConfigFactory.defaultReference()));
    try {
      ca(repo, "init", dir.resolve("tls").toString(), "bench");
      ca(repo, "issue", dir.resolve("tls").toString(), "node-1", "127.0.0.1");
      String token = "bench-" + Long.toHexString(new java.security.SecureRandom().nextLong()) + Long.toHexString(System.nanoTime());
      Path tokens = dir.resolve("api-tokens");
      Files.createFile(tokens, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(tokens, "bench " + ApiTokens.hashOf(token) + "\n");

      ServerBinding plain = ApiServer.start(system, new ListOnlyOperations(20), "127.0.0.1", 0).toCompletableFuture().get(20, TimeUnit.SECONDS);
      ServerBinding secured = ApiServer.start(system, new ListOnlyOperations(20), "127.0.0.1", 0,
          Optional.of(new PemIdentity(dir.resolve("tls/node-1.pem"), dir.resolve("tls/node-1.key"), "berth.api.tls")),
          Optional.of(ApiTokens.load(tokens))).toCompletableFuture().get(20, TimeUnit.SECONDS);
      String plainUrl = "http://127.0.0.1:" + plain.localAddress().getPort();
      String securedUrl = "https://127.0.0.1:" + secured.localAddress().getPort();

      HttpClient plainClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpClient tlsClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .sslContext(PemTrust.trusting(dir.resolve("tls/ca.pem"), "ca")).build();
      HttpRequest plainGet = HttpRequest.newBuilder(URI.create(plainUrl + "/v1/containers")).GET().build();
      HttpRequest securedGet = HttpRequest.newBuilder(URI.create(securedUrl + "/v1/containers"))
          .header("Authorization", "Bearer " + token).GET().build();
      for (int i = 0; i < 200; i++) { // warm both paths: JIT, connection pools
        send(plainClient, plainGet);
        send(tlsClient, securedGet);
      }
      double[] plainMs = new double[requests];
      double[] securedMs = new double[requests];
      for (int i = 0; i < requests; i++) {
        plainMs[i] = send(plainClient, plainGet);
        securedMs[i] = send(tlsClient, securedGet);
      }

      Path launcher = repo.resolve("bin/berth-cli");
      double[] cliPlain = new double[rounds];
      double[] cliSecured = new double[rounds];
      Map<String, String> plainEnv = Map.of("BERTH_API", plainUrl);
      Map<String, String> securedEnv = Map.of("BERTH_API", securedUrl, "BERTH_TOKEN", token, "BERTH_CA", dir.resolve("tls/ca.pem").toString());
      cli(launcher, plainEnv);
      cli(launcher, securedEnv);
      for (int i = 0; i < rounds; i++) {
        cliPlain[i] = cli(launcher, plainEnv);
        cliSecured[i] = cli(launcher, securedEnv);
      }

      Results results = new Results("api-credentials");
      results.record("api: GET /v1/containers, HTTPS + bearer token, kept-alive connection", "ms", Results.median(securedMs),
          Results.percentile(securedMs, 99), "plain HTTP, no token", Results.median(plainMs));
      results.record("cli: berth ct list, HTTPS + bearer token (bin/berth-cli)", "ms", Results.median(cliSecured),
          Results.percentile(cliSecured, 99), "plain HTTP, no token", Results.median(cliPlain));
      System.out.printf("berth ct list with credentials: median %.1f ms (target 300 ms): %s%n", Results.median(cliSecured),
          Results.median(cliSecured) <= 300 ? "met" : "NOT met");
      plain.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      secured.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
      try (var walk = Files.walk(dir)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
      }
    }
  }

  private static double send(HttpClient client, HttpRequest request) throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
    double ms = (System.nanoTime() - t0) / 1e6;
    if (r.statusCode() != 200) throw new IllegalStateException(request.uri() + ": HTTP " + r.statusCode() + " " + r.body());
    return ms;
  }

  private static double cli(Path launcher, Map<String, String> env) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "ct", "list").redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().putAll(env);
    long t0 = System.nanoTime();
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("berth ct list did not finish within 30 s");
    }
    double ms = (System.nanoTime() - t0) / 1e6;
    if (p.exitValue() != 0 || !out.contains("web-19")) throw new IllegalStateException("berth ct list exited " + p.exitValue() + ": " + out);
    return ms;
  }

  private static void ca(Path repo, String... args) throws IOException, InterruptedException {
    List<String> argv = new java.util.ArrayList<>(List.of(repo.resolve("bin/berth-cluster-ca").toString()));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("berth-cluster-ca " + String.join(" ", args) + ": " + out);
  }
}
