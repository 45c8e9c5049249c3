package io.berth.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Real servers on 127.0.0.1 for the CLI's failover tests: one that answers, one that takes a request and never answers. */
final class LoopbackApis {
  static final InetAddress LOOPBACK;

  static {
    try {
      LOOPBACK = InetAddress.getByName("127.0.0.1");
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private LoopbackApis() {}

  /** A port nothing listens on (bound, then closed): a connection to it is refused. */
  static String closedUrl() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
      return "http://127.0.0.1:" + s.getLocalPort();
    }
  }

  /** An HTTP server answering every request with {@code body} (JSON, or an SSE stream for /v1/events); it records "METHOD PATH[?QUERY]". */
  static final class Answering implements AutoCloseable {
    final HttpServer server;
    final List<String> requests = new CopyOnWriteArrayList<>();
    final String url;

    Answering(String body) throws IOException {
      server = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 8);
      server.createContext("/", exchange -> {
        String query = exchange.getRequestURI().getRawQuery();
        requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + (query == null ? "" : "?" + query));
        exchange.getRequestBody().readAllBytes();
        boolean events = exchange.getRequestURI().getPath().equals("/v1/events");
        byte[] bytes = (events ? "id: o9\ndata: " + body + "\n\n" : body).getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", events ? "text/event-stream" : "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      });
      server.start();
      url = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  /**
   * Accepts connections and reads what comes, but never answers: with {@code reset}, it closes each connection with
   * an RST once the request's head has arrived; otherwise it holds it open until closed. It records each request's first line.
   */
  static final class Mute implements AutoCloseable {
    final ServerSocket socket;
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<Socket> held = new CopyOnWriteArrayList<>();
    final String url;
    private final Thread acceptor;

    Mute(boolean reset) throws IOException {
      socket = new ServerSocket(0, 8, LOOPBACK);
      url = "http://127.0.0.1:" + socket.getLocalPort();
      acceptor = new Thread(() -> {
        while (!socket.isClosed()) {
          try {
            Socket s = socket.accept();
            held.add(s);
            requests.add(head(s.getInputStream()));
            if (reset) {
              s.setSoLinger(true, 0);
              s.close();
            }
          } catch (IOException e) {
            return;
          }
        }
      }, "mute-api");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    /** The request line, once the whole head (up to the blank line) has arrived. */
    private static String head(InputStream in) throws IOException {
      StringBuilder b = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0) {
        b.append((char) c);
        if (b.length() >= 4 && b.substring(b.length() - 4).equals("\r\n\r\n")) break;
      }
      String text = b.toString();
      int eol = text.indexOf("\r\n");
      return eol < 0 ? text : text.substring(0, eol);
    }

    @Override
    public void close() throws IOException {
      socket.close();
      for (Socket s : held) s.close();
    }
  }
}
