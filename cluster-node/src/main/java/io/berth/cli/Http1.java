package io.berth.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One HTTP/1.1 exchange per connection over a blocking socket, on the calling thread. The CLI used java.net.http
 * first and measured why not: its selector thread sits in native {@code epoll_wait}, and JDK 17's exit waits up
 * to 30 x 10 ms for threads in native before it ends the process (300 ms of every run), on top of 400 more
 * classes to load. This is what the CLI needs and nothing more: a request with a body, a response read with
 * Content-Length, chunked or until close (server-sent events stream chunked), TLS from the JDK for https.
 */
final class Http1 {
  private Http1() {}

  /** The status, the headers (names in lower case) and the body, which the caller reads and closes. */
  record Response(int status, Map<String, String> headers, InputStream body) {
    String text() throws IOException {
      try (InputStream in = body) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    }
  }

  static Response exchange(URI uri, String method, Map<String, String> headers, byte[] body, int connectTimeoutMillis,
      int readTimeoutMillis) throws IOException {
    return exchange(uri, method, headers, body, connectTimeoutMillis, readTimeoutMillis, null);
  }

  /** With {@code tlsFactory} (null: the JDK's default) for https. */
  static Response exchange(URI uri, String method, Map<String, String> headers, byte[] body, int connectTimeoutMillis,
      int readTimeoutMillis, SSLSocketFactory tlsFactory) throws IOException {
    boolean tls = "https".equalsIgnoreCase(uri.getScheme());
    if (!tls && !"http".equalsIgnoreCase(uri.getScheme())) throw new IOException("not an http(s) URL: " + uri);
    String host = uri.getHost();
    int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
    Socket socket = new Socket();
    try {
      try {
        socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
        socket.setSoTimeout(readTimeoutMillis);
        socket.setTcpNoDelay(true);
        if (tls) socket = tls(socket, host, port, tlsFactory);
      } catch (IOException e) {
        throw new NotSent(e);
      }
      String target = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
          + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
      StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
          .append("Host: ").append(host).append(':').append(port).append("\r\n")
          .append("Connection: close\r\n");
      headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      if (body != null || !method.equals("GET")) head.append("Content-Length: ").append(body == null ? 0 : body.length).append("\r\n");
      head.append("\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) out.write(body);
      out.flush();
      InputStream in = new BufferedInputStream(socket.getInputStream());
      String status = line(in);
      if (!status.startsWith("HTTP/1.") || status.length() < 12) throw new IOException("not an HTTP answer: " + status);
      int code = Integer.parseInt(status.substring(9, 12));
      Map<String, String> responseHeaders = new LinkedHashMap<>();
      for (String l; !(l = line(in)).isEmpty(); ) {
        int colon = l.indexOf(':');
        if (colon > 0) responseHeaders.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
      }
      InputStream content;
      if ("chunked".equalsIgnoreCase(responseHeaders.get("transfer-encoding"))) {
        content = new Chunked(in);
      } else if (responseHeaders.containsKey("content-length")) {
        content = new Bounded(in, Long.parseLong(responseHeaders.get("content-length")));
      } else {
        content = in;
      }
      Socket owned = socket;
      return new Response(code, responseHeaders, new InputStream() {
        @Override
        public int read() throws IOException {
          return content.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          return content.read(b, off, len);
        }

        @Override
        public void close() throws IOException {
          owned.close();
        }
      });
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /**
   * The exchange failed before a byte of the request left: refused, no route, no connection in time, unknown host,
   * TLS handshake. The server cannot have acted on it, so it may be sent elsewhere; any later failure may not.
   */
  static final class NotSent extends IOException {
    private static final long serialVersionUID = 1L;

    NotSent(IOException cause) {
      super(cause.getMessage(), cause);
    }
  }

  private static Socket tls(Socket plain, String host, int port, SSLSocketFactory factory) throws IOException {
    SSLSocketFactory f = factory != null ? factory : (SSLSocketFactory) SSLSocketFactory.getDefault();
    SSLSocket ssl = (SSLSocket) f.createSocket(plain, host, port, true);
    SSLParameters p = ssl.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    ssl.setSSLParameters(p);
    ssl.startHandshake();
    return ssl;
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(64);
    for (int c; (c = in.read()) != '\n'; ) {
      if (c < 0) throw new EOFException("the API closed the connection mid-answer");
      if (c != '\r') b.write(c);
      if (b.size() > 16 * 1024) throw new IOException("an HTTP header line over 16 KiB");
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  /** At most {@code remaining} bytes. */
  private static final class Bounded extends InputStream {
    private final InputStream in;
    private long remaining;

    Bounded(InputStream in, long length) {
      this.in = in;
      this.remaining = length;
    }

    @Override
    public int read() throws IOException {
      if (remaining <= 0) return -1;
      int c = in.read();
      if (c >= 0) remaining--;
      return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining <= 0) return -1;
      int n = in.read(b, off, (int) Math.min(len, remaining));
      if (n > 0) remaining -= n;
      return n;
    }
  }

  /** RFC 9112 chunked transfer coding (extensions and trailers skipped). */
  private static final class Chunked extends InputStream {
    private final InputStream in;
    private long left;
    private boolean done;

    Chunked(InputStream in) {
      this.in = in;
    }

    private boolean next() throws IOException {
      if (done) return false;
      if (left > 0) return true;
      String size = line(in);
      int semi = size.indexOf(';');
      left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      if (left == 0) {
        while (!line(in).isEmpty()) {
          // trailers: none used
        }
        done = true;
        return false;
      }
      return true;
    }

    @Override
    public int read() throws IOException {
      if (!next()) return -1;
      int c = in.read();
      if (c < 0) throw new EOFException("the API closed the connection mid-chunk");
      if (--left == 0) line(in);
      return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (!next()) return -1;
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) throw new EOFException("the API closed the connection mid-chunk");
      left -= n;
      if (left == 0) line(in);
      return n;
    }
  }
}
