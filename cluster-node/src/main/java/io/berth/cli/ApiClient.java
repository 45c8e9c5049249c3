package io.berth.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The CLI's only way to Berth: HTTP/JSON to the REST API ({@link Http1}). A problem answer becomes a
 * {@link CliFailure} carrying the exit code for its kind and one line naming the subject, the field and the rule.
 */
final class ApiClient {
  private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
  /** Reads answer quickly; changing calls answer when the outcome is durable, which may take a while. */
  static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
  static final Duration CHANGE_TIMEOUT = Duration.ofMinutes(10);
  private static final int CONNECT_TIMEOUT_MILLIS = 3000;

  final String base;
  private final String reason;

  ApiClient(String base, String reason) {
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.reason = reason;
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
    Map<String, String> headers = headers();
    byte[] bytes = null;
    if (body != null) {
      headers.put("Content-Type", "application/json");
      bytes = JsonText.write(body).getBytes(StandardCharsets.UTF_8);
    }
    int status;
    String text;
    try {
      Http1.Response r = Http1.exchange(uri(path), method, headers, bytes, CONNECT_TIMEOUT_MILLIS, (int) timeout.toMillis());
      status = r.status();
      text = r.text();
    } catch (IOException e) {
      throw unreachable(e);
    }
    if (status >= 200 && status < 300) return new Answer(status, text);
    throw failure(status, text, subject);
  }

  /** A streaming GET (server-sent events): the caller reads and closes the stream. No read timeout: it may be quiet. */
  InputStream stream(String path) {
    Map<String, String> headers = headers();
    headers.put("Accept", "text/event-stream");
    try {
      Http1.Response r = Http1.exchange(uri(path), "GET", headers, null, CONNECT_TIMEOUT_MILLIS, 0);
      if (r.status() != 200) throw failure(r.status(), r.text(), "events");
      return r.body();
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  private Map<String, String> headers() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Accept", "application/json");
    String user = System.getProperty("user.name", "");
    if (PRINCIPAL.matcher(user).matches()) h.put("X-Berth-Principal", user);
    if (reason != null && !reason.isEmpty()) h.put("X-Berth-Reason", reason.replaceAll("[\\r\\n]", " "));
    return h;
  }

  private URI uri(String path) {
    try {
      URI u = URI.create(base + path);
      if (u.getHost() == null) throw new IllegalArgumentException("no host");
      return u;
    } catch (IllegalArgumentException e) {
      throw CliFailure.usage("--api " + base + ": must be a URL such as http://127.0.0.1:7480");
    }
  }

  private CliFailure unreachable(IOException e) {
    String why = e instanceof ConnectException || e instanceof SocketTimeoutException && String.valueOf(e.getMessage()).contains("connect")
        ? "connection refused or timed out" : e instanceof SocketTimeoutException ? "no answer in time" : String.valueOf(e.getMessage());
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
