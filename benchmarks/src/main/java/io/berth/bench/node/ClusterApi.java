package io.berth.bench.node;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** The REST API of a running Berth cluster ({@code bin/berth up}), as a benchmark drives it. */
final class ClusterApi {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  final String base;

  ClusterApi(String base) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
  }

  /** The API of {@code bin/berth up}: {@code BERTH_API}, or the address it wrote under {@code .local/run/api}. */
  static ClusterApi local(Path repo) throws IOException {
    String env = System.getenv("BERTH_API");
    if (env != null && !env.isBlank()) return new ClusterApi(env.strip());
    Path file = repo.resolve(".local/run/api");
    if (!Files.isRegularFile(file)) throw new IllegalStateException("no running cluster: run bin/berth up first (" + file + " is missing)");
    return new ClusterApi(Files.readString(file).strip());
  }

  /** Creates and starts a container running {@code /bin/sleep}; returns once the API answered (init running, events durable). */
  void createAndStart(String name, String cpu, String memory) throws IOException, InterruptedException {
    String body = "{\"name\":\"" + name + "\",\"template\":\"busybox\",\"command\":[\"/bin/sleep\",\"100000\"],"
        + "\"limits\":{\"cpu\":\"" + cpu + "\",\"memory\":\"" + memory + "\",\"pids\":\"16\"},\"start\":true}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/containers"))
        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json").header("X-Berth-Principal", "bench")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) throw new IllegalStateException("create " + name + ": HTTP " + r.statusCode() + " " + r.body());
    if (!r.body().contains("\"running\"")) throw new IllegalStateException("create " + name + " did not run: " + r.body());
  }

  void destroy(String name) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/containers/" + name))
        .timeout(Duration.ofSeconds(60)).header("X-Berth-Principal", "bench").DELETE().build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) throw new IllegalStateException("destroy " + name + ": HTTP " + r.statusCode() + " " + r.body());
  }
}
