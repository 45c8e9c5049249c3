package io.berth.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * The CLI's only way to Berth: HTTP/JSON to the REST API ({@link Http1}), at whichever of the cluster's API
 * addresses ({@link Endpoints}) answers. A problem answer becomes a {@link CliFailure} carrying the exit code for
 * its kind and one line naming the subject, the field and the rule.
 */
final class ApiClient {
  private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
  /** Reads answer quickly; changing calls answer when the outcome is durable, which may take a while. */
  static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
  static final Duration CHANGE_TIMEOUT = Duration.ofMinutes(10);
  static final int CONNECT_TIMEOUT_MILLIS = 3000;

  private final List<Endpoints.Endpoint> endpoints;
  private final String reason;
  private final PrintStream err;
  /** The endpoint that answered last: this run's later calls start there (nothing is kept across runs). */
  private int current;

  private final Credentials credentials;

  ApiClient(List<Endpoints.Endpoint> endpoints, String reason, PrintStream err) {
    this(endpoints, reason, err, Credentials.NONE);
  }

  ApiClient(List<Endpoints.Endpoint> endpoints, String reason, PrintStream err, Credentials credentials) {
    if (endpoints.isEmpty()) throw new IllegalArgumentException("no API address");
    this.credentials = credentials;
    this.endpoints = List.copyOf(endpoints);
    this.reason = reason;
    this.err = err;
  }

  /** The address of the API that answered last (the first one before any call). */
  String base() {
    return endpoints.get(current).url();
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
    byte[] bytes = body == null ? null : JsonText.write(body).getBytes(StandardCharsets.UTF_8);
    if (bytes != null) headers.put("Content-Type", "application/json");
    Answer a = onSomeEndpoint(method, path, subject, timeout, uri -> {
      Http1.Response r = Http1.exchange(uri, method, headers, bytes, CONNECT_TIMEOUT_MILLIS, (int) timeout.toMillis(), credentials.tls());
      // A read answered from what the nodes hold while the journal is down: said once, on stderr (stdout stays the answer's).
      String stale = r.headers().get("berth-possibly-stale");
      if (stale != null) err.println("berth: possibly stale: " + stale);
      return new Answer(r.status(), r.text());
    });
    if (a.status() >= 200 && a.status() < 300) return a;
    throw failure(a.status(), a.body(), subject);
  }

  /** A streaming GET (server-sent events): the caller reads and closes the stream. No read timeout: it may be quiet. */
  InputStream stream(String path) {
    Map<String, String> headers = headers();
    headers.put("Accept", "text/event-stream");
    Http1.Response r = onSomeEndpoint("GET", path, "events", Duration.ZERO,
        uri -> Http1.exchange(uri, "GET", headers, null, CONNECT_TIMEOUT_MILLIS, 0, credentials.tls()));
    if (r.status() == 200) return r.body();
    String text;
    try {
      text = r.text();
    } catch (IOException e) {
      text = "";
    }
    throw failure(r.status(), text, "events");
  }

  /** One try of an exchange with one endpoint. */
  private interface Attempt<T> {
    T on(URI uri) throws IOException;
  }

  /**
   * Tries the endpoints in turn, from the one that answered last. A request that never left ({@link Http1.NotSent})
   * goes to the next one; so does a GET that failed later (reading twice is harmless). Anything else that failed
   * after its request was sent may have been carried out, and a second create or migrate on another host is not
   * the same request: it is not sent again, and the failure says the outcome is unknown.
   */
  private <T> T onSomeEndpoint(String method, String path, String subject, Duration timeout, Attempt<T> attempt) {
    List<String> failed = new ArrayList<>();
    String lastWhy = "";
    for (int k = 0; k < endpoints.size(); k++) {
      int i = (current + k) % endpoints.size();
      Endpoints.Endpoint e = endpoints.get(i);
      try {
        T answer = attempt.on(URI.create(e.url() + path));
        // Once per move, on stderr only: stdout stays the answer's, for scripts.
        if (!failed.isEmpty()) err.println("berth: " + String.join("; ", failed) + "; using " + e.url());
        current = i;
        return answer;
      } catch (Http1.NotSent x) {
        lastWhy = why(x, timeout);
        failed.add(e.describe() + " did not answer (" + lastWhy + ")");
      } catch (IOException x) {
        lastWhy = why(x, timeout);
        if (!method.equals("GET")) throw outcomeUnknown(method, path, subject, e, lastWhy);
        failed.add(e.describe() + " broke off its answer (" + lastWhy + ")");
      }
    }
    String all = endpoints.size() == 1 ? "at " + endpoints.get(0).url() + " (" + lastWhy + ")"
        : "at any of its " + endpoints.size() + " addresses: " + String.join("; ", failed);
    String hint = lastWhy.startsWith("TLS: ") ? "; is its certificate signed by the CA given with --ca or BERTH_CA?" : "; is the cluster up? (berth up)";
    throw new CliFailure(ExitCodes.UNAVAILABLE, "cannot reach the Berth API " + all + hint);
  }

  private static CliFailure outcomeUnknown(String method, String path, String subject, Endpoints.Endpoint e, String why) {
    String prefix = subject == null || subject.isEmpty() ? "" : subject + ": ";
    return new CliFailure(ExitCodes.OUTCOME_UNKNOWN, prefix + method + " " + path.replaceFirst("\\?.*", "") + " reached " + e.describe()
        + ", which did not answer (" + why + "): it may have been carried out, so it was not sent to another host; check with '"
        + checkCommand(subject) + "' before repeating it");
  }

  /** The command that shows whether a change to {@code subject} took place. */
  static String checkCommand(String subject) {
    String s = subject == null ? "" : subject;
    if (s.startsWith("container ")) return "berth ct show " + s.substring(10);
    if (s.startsWith("host ")) return "berth host show " + s.substring(5);
    if (s.startsWith("template ")) return "berth template list";
    // A create whose answer was lost also lost its secret: the list shows whether to revoke it and issue another.
    if (s.startsWith("token ")) return "berth token list";
    return "berth audit --since 10m";
  }

  /** Why an exchange failed, in an operator's words. */
  static String why(IOException e, Duration readTimeout) {
    boolean notSent = e instanceof Http1.NotSent;
    Throwable c = notSent && e.getCause() != null ? e.getCause() : e;
    String msg = String.valueOf(c.getMessage());
    if (c instanceof NoRouteToHostException) return "host unreachable";
    if (c instanceof UnknownHostException) return "unknown host " + msg;
    if (c instanceof ConnectException) return msg.toLowerCase(Locale.ROOT).contains("refused") ? "connection refused" : msg;
    if (c instanceof SocketTimeoutException) {
      return notSent ? "no connection within " + seconds(Duration.ofMillis(CONNECT_TIMEOUT_MILLIS)) : "no answer within " + seconds(readTimeout);
    }
    if (c instanceof SSLException) return "TLS: " + msg;
    if (c instanceof SocketException && msg.toLowerCase(Locale.ROOT).contains("reset")) return "connection reset";
    return msg;
  }

  private static String seconds(Duration d) {
    return d.toMillis() < 1000 ? d.toMillis() + " ms" : d.toSeconds() + " s";
  }

  private Map<String, String> headers() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("Accept", "application/json");
    if (credentials.token() != null) {
      // The server records the token's name as the principal, and refuses a client that names its own.
      h.put("Authorization", "Bearer " + credentials.token());
    } else if (!credentials.certificate()) {
      String user = System.getProperty("user.name", "");
      if (PRINCIPAL.matcher(user).matches()) h.put("X-Berth-Principal", user);
    }
    if (reason != null && !reason.isEmpty()) h.put("X-Berth-Reason", reason.replaceAll("[\\r\\n]", " "));
    return h;
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
