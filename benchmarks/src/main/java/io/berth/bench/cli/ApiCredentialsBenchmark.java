package io.berth.bench.cli;

import com.typesafe.config.ConfigFactory;
import io.berth.bench.Results;
import io.berth.node.api.ApiServer;
import io.berth.node.api.ApiTokens;
import io.berth.node.api.PemIdentity;
import io.berth.pem.PemFiles;
import io.berth.persistence.PemTrust;
import io.berth.protocol.access.AccessEvent;
import io.berth.protocol.access.AccessState;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.Role;
import io.berth.protocol.event.CommandContext;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * What the API's credentials cost: the same request to the same routes (over {@link ListOnlyOperations}, 20
 * containers) bound three times in one JVM, plain HTTP without tokens, HTTPS (the cluster CA's certificate from
 * {@code bin/berth-cluster-ca}) with a tokens file, and HTTPS asking for client certificates with an access log
 * holding an issued token and a registered certificate; interleaved in one run.
 *
 * <ul>
 *   <li>a request on a kept-alive connection (java.net.http, HTTP/1.1): the steady cost of TLS and each check (a
 *       tokens file's token, an access log's token, a client certificate: its chain checked on every request);</li>
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
      ca(repo, "client", dir.resolve("tls").toString(), "bench-client");
      String issued = "berth_bench-issued-" + Long.toHexString(System.nanoTime());
      ListOnlyOperations withLog = new ListOnlyOperations(20);
      withLog.access = accessLog(issued, PemFiles.certificates(dir.resolve("tls/bench-client.pem")).get(0));
      ServerBinding certified = ApiServer.start(system, withLog, "127.0.0.1", 0,
          Optional.of(new PemIdentity(dir.resolve("tls/node-1.pem"), dir.resolve("tls/node-1.key"), Optional.of(dir.resolve("tls/ca.pem")),
              "berth.api.tls")), Optional.of(ApiTokens.load(tokens))).toCompletableFuture().get(20, TimeUnit.SECONDS);
      String certifiedUrl = "https://127.0.0.1:" + certified.localAddress().getPort();
      String plainUrl = "http://127.0.0.1:" + plain.localAddress().getPort();
      String securedUrl = "https://127.0.0.1:" + secured.localAddress().getPort();

      HttpClient plainClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      HttpClient tlsClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .sslContext(PemTrust.trusting(dir.resolve("tls/ca.pem"), "ca")).build();
      HttpRequest plainGet = HttpRequest.newBuilder(URI.create(plainUrl + "/v1/containers")).GET().build();
      HttpRequest securedGet = HttpRequest.newBuilder(URI.create(securedUrl + "/v1/containers"))
          .header("Authorization", "Bearer " + token).GET().build();
      HttpRequest issuedGet = HttpRequest.newBuilder(URI.create(certifiedUrl + "/v1/containers"))
          .header("Authorization", "Bearer " + issued).GET().build();
      SSLContext withCertificate = SSLContext.getInstance("TLS");
      withCertificate.init(PemFiles.keyManagers(PemFiles.certificates(dir.resolve("tls/bench-client.pem")),
          PemFiles.privateKey(dir.resolve("tls/bench-client.key"))), PemFiles.trustManagers(PemFiles.certificates(dir.resolve("tls/ca.pem"))), null);
      HttpClient certClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(withCertificate).build();
      HttpRequest certGet = HttpRequest.newBuilder(URI.create(certifiedUrl + "/v1/containers")).GET().build();
      for (int i = 0; i < 200; i++) { // warm every path: JIT, connection pools
        send(plainClient, plainGet);
        send(tlsClient, securedGet);
        send(tlsClient, issuedGet);
        send(certClient, certGet);
      }
      double[] plainMs = new double[requests];
      double[] securedMs = new double[requests];
      double[] issuedMs = new double[requests];
      double[] certMs = new double[requests];
      for (int i = 0; i < requests; i++) {
        plainMs[i] = send(plainClient, plainGet);
        securedMs[i] = send(tlsClient, securedGet);
        issuedMs[i] = send(tlsClient, issuedGet);
        certMs[i] = send(certClient, certGet);
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
      results.record("api: GET /v1/containers, HTTPS + a token issued in the access log, kept-alive connection", "ms", Results.median(issuedMs),
          Results.percentile(issuedMs, 99), "plain HTTP, no token", Results.median(plainMs));
      results.record("api: GET /v1/containers, HTTPS + a registered client certificate, kept-alive connection", "ms", Results.median(certMs),
          Results.percentile(certMs, 99), "plain HTTP, no token", Results.median(plainMs));
      results.record("cli: berth ct list, HTTPS + bearer token (bin/berth-cli)", "ms", Results.median(cliSecured),
          Results.percentile(cliSecured, 99), "plain HTTP, no token", Results.median(cliPlain));
      System.out.printf("berth ct list with credentials: median %.1f ms (target 300 ms): %s%n", Results.median(cliSecured),
          Results.median(cliSecured) <= 300 ? "met" : "NOT met");
      plain.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      secured.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      certified.terminate(Duration.ofSeconds(2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
      try (var walk = Files.walk(dir)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
      }
    }
  }

  /** An access log as the access singleton would hold it: one operator token and one registered certificate. */
  private static AccessState accessLog(String token, X509Certificate certificate) throws Exception {
    AccessState s = AccessState.EMPTY;
    CommandContext admin = new CommandContext("bench", "benchmark", "bench-1");
    String fingerprint = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    s = s.apply(new AccessEvent.TokenIssued(admin.meta(Instant.now(), s.lastEventHash()), "bench-issued",
        Credential.token(ApiTokens.hashOf(token).substring("sha256:".length())), Role.OPERATOR, Optional.empty(), Optional.empty()));
    s = s.apply(new AccessEvent.TokenIssued(admin.meta(Instant.now(), s.lastEventHash()), "bench-client", Credential.certificate(fingerprint),
        Role.OPERATOR, Optional.empty(), Optional.empty()));
    return s;
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
