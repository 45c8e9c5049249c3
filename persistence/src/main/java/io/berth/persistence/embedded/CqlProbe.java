package io.berth.persistence.embedded;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Asks a node whether CQL answers, without a driver session: one OPTIONS request in the native protocol (v4 header:
 * version, flags, stream, opcode 0x05, length 0) and a SUPPORTED response (opcode 0x06). The port being open is not
 * enough: Cassandra binds it before the node can serve requests.
 */
final class CqlProbe {
  private CqlProbe() {}

  static boolean answers(String address, int port, int timeoutMillis) {
    return answers(address, port, timeoutMillis, null);
  }

  /** With {@code tls} (the node's clients' context), over TLS, as a node that requires it must be asked. */
  static boolean answers(String address, int port, int timeoutMillis, SSLContext tls) {
    try (Socket plain = new Socket()) {
      plain.connect(new InetSocketAddress(address, port), timeoutMillis);
      plain.setSoTimeout(timeoutMillis);
      Socket socket = plain;
      if (tls != null) {
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(plain, address, port, true);
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(p);
        s.startHandshake();
        socket = s;
      }
      OutputStream out = socket.getOutputStream();
      out.write(new byte[] {0x04, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00});
      out.flush();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      byte[] header = new byte[9];
      in.readFully(header);
      return (header[0] & 0x7f) == 0x04 && (header[0] & 0x80) != 0 && header[4] == 0x06;
    } catch (IOException e) {
      return false;
    }
  }
}
