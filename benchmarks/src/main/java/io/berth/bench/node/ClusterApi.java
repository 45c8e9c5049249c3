package io.berth.bench.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The REST API of a running Berth cluster ({@code bin/berth up}), as a benchmark drives it. */
public final class ClusterApi {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http;
  /** Who the requests are from: the local cluster's admin token, or (an API without tokens) the principal bench. */
  private final String[] identity;
  final String base;

  ClusterApi(String base, Path repo) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.http = client(repo, Duration.ofSeconds(5));
    this.identity = identity(repo);
  }

  /**
   * An HTTP client trusting the local cluster's CA ({@code .local/run/ca.pem}, or {@code BERTH_CA}) when it has one,
   * as the CLI does.
   */
  public static HttpClient client(Path repo, Duration connectTimeout) {
    String env = System.getenv("BERTH_CA");
    Path ca = env != null && !env.isBlank() ? Path.of(env) : repo.resolve(".local/run/ca.pem");
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(connectTimeout);
    return (Files.isRegularFile(ca) ? b.sslContext(io.berth.persistence.PemTrust.trusting(ca, ca.toString())) : b).build();
  }

  /** The headers naming who asks: the bearer token ({@code BERTH_TOKEN}, else {@code .local/run/admin.token}), else the principal bench. */
  public static String[] identity(Path repo) {
    String token = System.getenv("BERTH_TOKEN");
    Path file = repo.resolve(".local/run/admin.token");
    try {
      if ((token == null || token.isBlank()) && Files.isRegularFile(file)) token = Files.readString(file).strip();
    } catch (IOException e) {
      throw new IllegalStateException("read " + file + ": " + e.getMessage(), e);
    }
    return token == null || token.isBlank() ? new String[] {"X-Berth-Principal", "bench"} : new String[] {"Authorization", "Bearer " + token};
  }

  /** An answer: its status and its body as JSON (a JSON null when it had none or it was not JSON). */
  public record Answer(int status, JsonNode body, String text) {
    public boolean ok() {
      return status / 100 == 2;
    }

    /** A refusal that asks to try again: the container is busy with another operation, or the cluster is unavailable. */
    public boolean retryable() {
      return status == 503 || status == 409 && "Busy".equals(body.path("title").asText());
    }
  }

  /**
   * The API of {@code bin/berth up}: {@code BERTH_API}, or the address it wrote under {@code .local/run/api}. Fails
   * at once, saying so, when no cluster answers there.
   */
  public static ClusterApi local(Path repo) throws IOException, InterruptedException {
    String env = System.getenv("BERTH_API");
    ClusterApi api;
    if (env != null && !env.isBlank()) {
      api = new ClusterApi(env.strip(), repo);
    } else {
      Path file = repo.resolve(".local/run/api");
      if (!Files.isRegularFile(file)) throw new IllegalStateException("no running cluster: run bin/berth up first (" + file + " is missing)");
      api = new ClusterApi(Files.readString(file).strip(), repo);
    }
    api.requireAnswering();
    return api;
  }

  /** The repository: {@code BERTH_REPO}, or the first directory up from here holding {@code bin/berth}. */
  public static Path repo() {
    String env = System.getenv("BERTH_REPO");
    Path p = env != null && !env.isBlank() ? Path.of(env) : Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("bin/berth"))) p = p.getParent();
    if (p == null) throw new IllegalStateException("run from inside the Berth repository, or set BERTH_REPO");
    return p;
  }

  private void requireAnswering() throws InterruptedException {
    String what = "no Berth API answers at " + base + " (GET /v1/status";
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/status")).timeout(Duration.ofSeconds(5)).headers(identity).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) throw new IllegalStateException(what + " answered HTTP " + r.statusCode() + ": " + r.body() + ")");
    } catch (IOException e) {
      throw new IllegalStateException(what + ": " + e + "): run bin/berth up first, or set BERTH_API", e);
    }
  }

  /** Creates and starts a container running {@code /bin/sleep}; returns once the API answered (init running, events durable). */
  void createAndStart(String name, String cpu, String memory) throws IOException, InterruptedException {
    String body = "{\"name\":\"" + name + "\",\"template\":\"busybox\",\"command\":[\"/bin/sleep\",\"100000\"],"
        + "\"limits\":{\"cpu\":\"" + cpu + "\",\"memory\":\"" + memory + "\",\"pids\":\"16\"},\"start\":true}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/containers"))
        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json").headers(identity)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) throw new IllegalStateException("create " + name + ": HTTP " + r.statusCode() + " " + r.body());
    if (!r.body().contains("\"running\"")) throw new IllegalStateException("create " + name + " did not run: " + r.body());
  }

  /** Creates a container without starting it: the control plane's part of a create alone (placement, the logs), no kernel work. */
  void createDefined(String name, String cpu, String memory) throws IOException, InterruptedException {
    String body = "{\"name\":\"" + name + "\",\"template\":\"busybox\",\"command\":[\"/bin/sleep\",\"100000\"],"
        + "\"limits\":{\"cpu\":\"" + cpu + "\",\"memory\":\"" + memory + "\",\"pids\":\"16\"},\"start\":false}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/containers"))
        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json").headers(identity)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) throw new IllegalStateException("create " + name + ": HTTP " + r.statusCode() + " " + r.body());
    if (!r.body().contains("\"defined\"")) throw new IllegalStateException("create " + name + " is not defined: " + r.body());
  }

  public void destroy(String name) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/containers/" + name))
        .timeout(Duration.ofSeconds(60)).headers(identity).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) throw new IllegalStateException("destroy " + name + ": HTTP " + r.statusCode() + " " + r.body());
  }

  /**
   * Destroys the container if it exists, asking again while it is busy (a move under way ends first), for at most
   * {@code bound}; never throws: what could not be destroyed is printed, for a cleanup in {@code finally}.
   */
  public void destroyQuietly(String name, Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    try {
      while (true) {
        Answer a = call("DELETE", "/v1/containers/" + name, null, Duration.ofSeconds(60));
        if (a.ok() || a.status() == 404) return;
        if (!a.retryable() || System.nanoTime() > deadline) {
          System.err.println("cleanup: container " + name + " was not destroyed: HTTP " + a.status() + " " + a.text());
          return;
        }
        Thread.sleep(500);
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("cleanup: container " + name + " was not destroyed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.err.println("cleanup: container " + name + " was not destroyed: interrupted");
    }
  }

  /** {@code METHOD path} with a JSON body (or none), with this client's identity. */
  public Answer call(String method, String path, JsonNode body, Duration timeout) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).headers(identity);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode parsed;
    try {
      parsed = r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
    } catch (IOException notJson) {
      parsed = JSON.nullNode();
    }
    return new Answer(r.statusCode(), parsed, r.body());
  }

  /** {@link #call}, which must answer {@code status}; otherwise the exception says what was asked and what came back. */
  public JsonNode expect(int status, String method, String path, JsonNode body, Duration timeout) throws IOException, InterruptedException {
    Answer a = call(method, path, body, timeout);
    if (a.status() != status) {
      throw new IllegalStateException(method + " " + path + (body == null ? "" : " " + body) + ": expected HTTP " + status + ", got "
          + a.status() + " " + a.text());
    }
    return a.body();
  }

  public JsonNode get(String path) throws IOException, InterruptedException {
    return expect(200, "GET", path, null, Duration.ofSeconds(30));
  }

  /** Every host as {@code GET /v1/hosts} shows it. */
  public List<JsonNode> hosts() throws IOException, InterruptedException {
    List<JsonNode> out = new ArrayList<>();
    get("/v1/hosts").path("items").forEach(out::add);
    return out;
  }

  /** The ids of the hosts that take containers now: registered, reachable, not cordoned or draining. */
  public List<String> readyHosts() throws IOException, InterruptedException {
    List<String> out = new ArrayList<>();
    for (JsonNode h : hosts()) {
      if ("ready".equals(h.path("phase").asText()) && h.path("reachable").asBoolean(false)) out.add(h.path("id").asText());
    }
    return out;
  }

  public static ObjectNode object() {
    return JSON.createObjectNode();
  }
}
