package io.berth.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The CLI's only way to Berth: HTTP/JSON to the REST API. A problem answer becomes a {@link CliFailure}
 * carrying the exit code for its kind and one line naming the subject, the field and the rule.
 */
final class ApiClient {
  private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
  /** Reads answer quickly; changing calls answer when the outcome is durable, which may take a while. */
  static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
  static final Duration CHANGE_TIMEOUT = Duration.ofMinutes(10);

  final String base;
  private final String reason;
  private final HttpClient http;

  ApiClient(String base, String reason) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.reason = reason;
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(3));
    // Plain http (what a local cluster serves): no TLS machinery at all, see NoTls.
    if (!this.base.startsWith("https:")) b.sslContext(NoTls.context()).sslParameters(NoTls.parameters());
    this.http = b.build();
  }

  /** An answer: status and body; only 2xx answers come back from {@link #call}. */
  record Answer(int status, String body) {
    Map<String, Object> json() {
      return JsonText.object(body);
    }
  }

  Answer get(String path, String subject) {
    return call("GET", path, null, subject, READ_TIMEOUT);
  }

  Answer send(String method, String path, Object body, String subject) {
    return call(method, path, body, subject, CHANGE_TIMEOUT);
  }

  Answer call(String method, String path, Object body, String subject, Duration timeout) {
    HttpRequest request = request(method, path, body, timeout);
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliFailure(ExitCodes.FAILED, "interrupted while waiting for the API");
    }
    if (response.statusCode() >= 200 && response.statusCode() < 300) return new Answer(response.statusCode(), response.body());
    throw failure(response.statusCode(), response.body(), subject);
  }

  /** A streaming GET (server-sent events): the caller reads and closes the stream. */
  InputStream stream(String path, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).GET().header("Accept", "text/event-stream");
    headers.forEach(b::header);
    try {
      HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
      if (r.statusCode() != 200) {
        String body;
        try (InputStream in = r.body()) {
          body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        throw failure(r.statusCode(), body, "events");
      }
      return r.body();
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliFailure(ExitCodes.FAILED, "interrupted while waiting for the API");
    }
  }

  private HttpRequest request(String method, String path, Object body, Duration timeout) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(timeout).header("Accept", "application/json");
    String user = System.getProperty("user.name", "");
    if (PRINCIPAL.matcher(user).matches()) b.header("X-Berth-Principal", user);
    if (reason != null && !reason.isEmpty()) b.header("X-Berth-Reason", reason);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(JsonText.write(body), StandardCharsets.UTF_8));
    }
    return b.build();
  }

  private URI uri(String path) {
    try {
      return URI.create(base + path);
    } catch (IllegalArgumentException e) {
      throw CliFailure.usage("--api " + base + ": must be a URL such as http://127.0.0.1:7480");
    }
  }

  private CliFailure unreachable(IOException e) {
    String why = e instanceof ConnectException || e instanceof HttpConnectTimeoutException ? "connection refused or timed out"
        : e instanceof HttpTimeoutException ? "no answer in time" : String.valueOf(e.getMessage());
    return new CliFailure(ExitCodes.UNAVAILABLE, "cannot reach the Berth API at " + base + " (" + why + "); is the cluster up? (berth up)");
  }

  /** One line from a problem detail: {@code <subject>: <detail>}, the subject left out when the detail names it. */
  static CliFailure failure(int status, String body, String subject) {
    String type = null;
    String detail;
    try {
      Map<String, Object> p = JsonText.object(body);
      type = (String) p.get("type");
      Object d = p.get("detail");
      detail = d == null || d.toString().isEmpty() ? String.valueOf(p.get("title")) : d.toString();
    } catch (RuntimeException e) {
      detail = "HTTP " + status + (body == null || body.isBlank() ? "" : ": " + firstLine(body));
    }
    String line = subject == null || subject.isEmpty() || detail.startsWith(subject) ? detail : subject + ": " + detail;
    return new CliFailure(ExitCodes.of(type, status), line);
  }

  static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int k = 0; k < kv.length; k += 2) if (kv[k + 1] != null) m.put((String) kv[k], kv[k + 1]);
    return m;
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    String t = nl < 0 ? s : s.substring(0, nl);
    return t.length() > 200 ? t.substring(0, 200) + "..." : t;
  }
}
