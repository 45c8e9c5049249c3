package io.berth.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The launcher builds the class-data-sharing archive from one training run ({@code -Dberth.cdsTraining=true},
 * with {@code -XX:ArchiveClassesAtExit}) that needs no running cluster: the command itself fails to connect,
 * and this walks the success path's classes (JSON reading, tables, times), so later runs find them archived.
 */
final class CdsTraining {
  private static final String SAMPLE = "{\"items\":[{\"id\":\"web-1\",\"phase\":\"running\",\"host\":\"host-1\",\"address\":\"198.18.1.10/16\","
      + "\"template\":\"busybox\",\"hostname\":\"web-1\",\"command\":[],\"limits\":{\"cpu\":\"0.5\",\"memory\":\"64M\",\"pids\":128,"
      + "\"disk\":\"0\"},\"restart\":\"never\",\"labels\":{\"a\":\"b\"},\"placement\":{\"host\":null},\"pid\":42,"
      + "\"runningSince\":\"2025-01-31T12:00:00Z\",\"pending\":null,\"lastExit\":null,\"lastError\":null,\"restartAttempts\":0,"
      + "\"migration\":null,\"updatedAt\":\"2025-01-31T12:00:00.5Z\",\"x\":[1.5,true,false,\"\\u0041\\n\"]}]}";

  private CdsTraining() {}

  static void exercise() {
    PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
    Map<String, Object> page = JsonText.object(SAMPLE);
    Render.containers(sink, Render.items(page));
    Render.container(sink, Verb.obj(Render.items(page).get(0)));
    Render.hosts(sink, Render.items(page));
    Render.audit(sink, Render.items(page), true);
    sink.println(JsonText.write(page) + JsonText.pretty(page));
    ApiClient.failure(404, "{\"type\":\"urn:berth:problem:not-found\",\"detail\":\"x\"}", "container x");
    String keystore = System.getProperty("berth.cdsTraining.keystore", "");
    if (!keystore.isEmpty()) httpsExchange(Path.of(keystore), Path.of(System.getProperty("berth.cdsTraining.cert")));
  }

  /**
   * One https exchange over loopback, with a throw-away key the launcher made with keytool: the TLS 1.3 handshake, the
   * certificate check against a PEM CA and the bearer header are what an https API costs a run (about 250 ms of
   * class loading and initialisation when they are not archived).
   */
  private static void httpsExchange(Path keystore, Path certPem) {
    char[] password = "training".toCharArray();
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (var in = Files.newInputStream(keystore)) {
        ks.load(in, password);
      }
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, password);
      SSLContext server = SSLContext.getInstance("TLS");
      server.init(kmf.getKeyManagers(), null, null);
      try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        Thread answer = new Thread(() -> {
          try (Socket s = listener.accept()) {
            s.setSoTimeout(5000);
            var in = s.getInputStream();
            // The request head ends with an empty line: read up to it, then answer.
            for (int b, run = 0; run < 4 && (b = in.read()) >= 0; ) run = (b == '\r' || b == '\n') ? run + 1 : 0;
            s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"items\":[]}"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          } catch (IOException ignored) {
            // training only: the client side reports what matters
          }
        }, "cds-training-https");
        answer.setDaemon(true);
        answer.start();
        SSLSocketFactory trust = Credentials.trusting("training", certPem).getSocketFactory();
        Http1.Response r = Http1.exchange(URI.create("https://localhost:" + listener.getLocalPort() + "/v1/containers"), "GET",
            Map.of("Authorization", "Bearer training"), null, 2000, 5000, trust);
        r.text();
        answer.join(5000);
      }
    } catch (Exception e) {
      System.err.println("berth: CDS training without https: " + e);
    }
  }
}
