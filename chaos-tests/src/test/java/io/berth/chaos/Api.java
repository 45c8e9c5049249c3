package io.berth.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The REST API of a local cluster as a client sees it: every host's API from {@code run/apis}, tried in turn from
 * a preferred one while a host does not accept the connection (then the request was never sent, so trying the next
 * cannot do it twice). An answer that does not come within the timeout is {@link Answer#unknown}: the operation may
 * or may not have happened, and the history says so.
 */
final class Api {
  /** What one request got: a status and body, or (status 0) no answer and why. */
  record Answer(int status, String body, String contentType, String error) {
    boolean unknown() {
      return status == 0;
    }

    boolean ok() {
      return status >= 200 && status < 300;
    }

    JsonNode json() {
      try {
        return Berth.JSON.readTree(body);
      } catch (IOException e) {
        return Berth.JSON.missingNode();
      }
    }

    /** The status and, for a problem, its type and detail: what the history records. */
    String summary() {
      if (unknown()) return "no answer: " + error;
      if (ok()) return Integer.toString(status);
      JsonNode p = json();
      return status + " " + p.path("type").asText("") + " " + p.path("detail").asText(body.length() > 200 ? body.substring(0, 200) : body);
    }
  }

  private final List<URI> apis;
  private final HttpClient http;
  /** The bearer token, or null: sent with every request, as the CLI does. */
  private final String token;

  Api(List<URI> apis) {
    this(apis, null, null);
  }

  private Api(List<URI> apis, javax.net.ssl.SSLContext tls, String token) {
    if (apis.isEmpty()) throw new IllegalArgumentException("no API to talk to");
    this.apis = List.copyOf(apis);
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
    this.http = (tls == null ? b : b.sslContext(tls)).build();
    this.token = token;
  }

  /**
   * Every API the local cluster under {@code local} wrote to {@code run/apis} (URL NAME a line), trusting its CA
   * ({@code run/ca.pem}) and presenting its admin token ({@code run/admin.token}), as the CLI does.
   */
  static Api of(Path local) throws IOException {
    List<URI> apis = new ArrayList<>();
    for (String line : Files.readAllLines(local.resolve("run/apis"))) if (!line.isBlank()) apis.add(URI.create(line.strip().split("\\s+")[0]));
    Path ca = local.resolve("run/ca.pem");
    Path token = local.resolve("run/admin.token");
    return new Api(apis, Files.exists(ca) ? io.berth.persistence.PemTrust.trusting(ca, "run/ca.pem") : null,
        Files.exists(token) ? Files.readString(token).strip() : null);
  }


  int size() {
    return apis.size();
  }

  Answer call(int preferred, String method, String path, String body, Map<String, String> headers, Duration timeout) {
    String last = "no API tried";
    for (int i = 0; i < apis.size(); i++) {
      URI api = apis.get(Math.floorMod(preferred + i, apis.size()));
      HttpRequest.Builder b;
      try {
        b = HttpRequest.newBuilder(URI.create(api + path)).timeout(timeout);
      } catch (IllegalArgumentException e) {
        return new Answer(0, "", "", "not a URI: " + path + ": " + e.getMessage());
      }
      if (token != null) b.header("Authorization", "Bearer " + token);
      headers.forEach(b::header);
      b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      if (body != null && !headers.containsKey("Content-Type")) b.header("Content-Type", "application/json");
      try {
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body(), r.headers().firstValue("Content-Type").orElse(""), null);
      } catch (ConnectException e) {
        last = api + ": " + e; // not sent: the next host may take it
      } catch (HttpTimeoutException e) {
        return new Answer(0, "", "", api + " did not answer within " + timeout.toMillis() + " ms");
      } catch (IOException e) {
        return new Answer(0, "", "", api + ": " + e); // may have been sent: never resent
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Answer(0, "", "", "interrupted");
      }
    }
    return new Answer(0, "", "", "no host took the connection; last: " + last);
  }

  Answer get(String path) {
    return call(0, "GET", path, null, Map.of(), Duration.ofSeconds(20));
  }

  Answer post(String path, String body) {
    return call(0, "POST", path, body, Map.of(), Duration.ofSeconds(60));
  }
}
