package io.berth.isolation;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side's relay for post-copy, between the target's {@link LazyPages} daemon and the source's CRIU.
 *
 * <p>Why a relay: CRIU starts serving a lazy dump's pages only after its post-dump action script returned, that is
 * after Berth's hold was committed; but the target's daemon connects to its page source once, right after the
 * restore handed it the tasks' userfaultfds, and the restore itself needs pages before it completes (seen here:
 * the restorer touches the task's rseq area, in lazy memory). So the daemon connects here; that connection is the
 * moment the target's copy takes over, and {@code onDaemon} (the source's commit of its hold) runs then; the relay
 * then connects to CRIU ({@code 127.0.0.1:upstreamPort}) as soon as CRIU listens. Until then the daemon's first
 * requests wait in the socket. A connection from any address but {@code daemonAddress} is refused: it would commit
 * the hold.
 *
 * <p>One connection, two copying threads, TCP_NODELAY both ways (a page fault is one small request). Everything is
 * bounded by {@code bound}: no daemon by then, or no CRIU by then, and the relay closes (the daemon then fails and
 * the target kills its copy; CRIU, never connected, is ended by its owner). No checksum beyond TCP's: CRIU's page
 * protocol has none, and the relay only forwards it.
 */
public final class LazyPageRelay implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LazyPageRelay.class);
  private static final int BUFFER = 1 << 20;

  private final ServerSocket server;
  private final int upstreamPort;
  private final long deadlineNanos;
  private final AtomicLong toTarget = new AtomicLong();
  private volatile long upstreamAtNanos;
  private volatile Socket downstream;
  private volatile Socket upstream;
  private volatile boolean closed;
  private volatile String failure = "";
  private final Thread acceptor;

  private final String daemonAddress;
  private final Runnable onDaemon;

  private LazyPageRelay(ServerSocket server, int upstreamPort, Duration bound, String daemonAddress, Runnable onDaemon) {
    this.server = server;
    this.upstreamPort = upstreamPort;
    this.daemonAddress = daemonAddress;
    this.onDaemon = onDaemon;
    this.deadlineNanos = System.nanoTime() + bound.toNanos();
    this.acceptor = new Thread(this::run, "lazy-page-relay-" + server.getLocalPort());
    acceptor.setDaemon(true);
  }

  /**
   * Listens on {@code listenAddress} (an ephemeral port) for the target's daemon, connecting from {@code daemonAddress};
   * runs {@code onDaemon} when it connected, then relays to CRIU on {@code 127.0.0.1:upstreamPort}.
   */
  public static LazyPageRelay open(String listenAddress, int upstreamPort, Duration bound, String daemonAddress, Runnable onDaemon) {
    for (String[] a : new String[][] {{"listenAddress", listenAddress}, {"daemonAddress", daemonAddress}}) {
      if (a[1] == null || !a[1].matches("[0-9.]{7,15}")) throw new io.berth.protocol.InvalidFieldException(a[0], "must be an IPv4 address", a[1]);
    }
    io.berth.protocol.InvalidFieldException.required("onDaemon", onDaemon);
    if (upstreamPort < 1 || upstreamPort > 65535) throw new io.berth.protocol.InvalidFieldException("upstreamPort", "must be 1 to 65535", upstreamPort);
    try {
      ServerSocket s = new ServerSocket();
      s.bind(new InetSocketAddress(listenAddress, 0), 1);
      LazyPageRelay r = new LazyPageRelay(s, upstreamPort, bound, daemonAddress, onDaemon);
      r.acceptor.start();
      return r;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("open the lazy-page relay on " + listenAddress, e);
    }
  }

  /** The port the target's daemon connects to. */
  public int port() {
    return server.getLocalPort();
  }

  /** System.nanoTime() when CRIU's page server answered (the restored tasks get their pages from then on); 0 before. */
  public long upstreamAtNanos() {
    return upstreamAtNanos;
  }

  /** Bytes relayed to the target so far (pages and their headers). */
  public long bytesToTarget() {
    return toTarget.get();
  }

  /** Why the relay ended early, or empty. */
  public String failure() {
    return failure;
  }

  private void run() {
    try {
      Socket down = acceptDaemon();
      downstream = down;
      down.setTcpNoDelay(true);
      server.close();
      onDaemon.run();
      Socket up = connectUpstream();
      if (up == null) return;
      upstream = up;
      upstreamAtNanos = System.nanoTime();
      Thread back = new Thread(() -> pump(down, up, null), "lazy-page-relay-requests");
      back.setDaemon(true);
      back.start();
      pump(up, down, toTarget);
      back.join(5000);
    } catch (SocketTimeoutException e) {
      fail("the target's lazy-pages daemon did not connect in time");
    } catch (IOException e) {
      if (!closed) fail("relay failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      close();
    }
  }

  /** The target's daemon's connection; any other is closed at once (it would commit the hold). */
  private Socket acceptDaemon() throws IOException {
    while (true) {
      server.setSoTimeout((int) Math.max(1, remainingMillis()));
      Socket s = server.accept();
      String peer = s.getInetAddress().getHostAddress();
      if (peer.equals(daemonAddress)) return s;
      LOG.warn("lazy-page relay {}: refused a connection from {} (only the target {} may take the pages)", port(), peer, daemonAddress);
      s.close();
    }
  }

  /** CRIU listens once the hold is committed: until then, connect again every millisecond (bounded). */
  private Socket connectUpstream() throws InterruptedException {
    while (!closed) {
      Socket s = new Socket();
      try {
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", upstreamPort), 1000);
        return s;
      } catch (IOException e) {
        try {
          s.close();
        } catch (IOException ignored) {
          // never connected
        }
      }
      if (remainingMillis() <= 0) {
        fail("CRIU's lazy page server on 127.0.0.1:" + upstreamPort + " did not listen in time (the hold was never committed)");
        return null;
      }
      Thread.sleep(1);
    }
    return null;
  }

  private void pump(Socket from, Socket to, AtomicLong counter) {
    byte[] buf = new byte[BUFFER];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        if (counter != null) counter.addAndGet(n);
      }
      to.shutdownOutput();
    } catch (IOException e) {
      if (!closed) fail("relay " + (counter != null ? "to the target" : "to CRIU") + ": " + e.getMessage());
      close();
    }
  }

  private void fail(String why) {
    if (failure.isEmpty()) failure = why;
    LOG.warn("lazy-page relay {}: {}", port(), why);
  }

  private long remainingMillis() {
    return (deadlineNanos - System.nanoTime()) / 1_000_000;
  }

  /** Ends the relay (both connections): the daemon then fails, and its wrapper kills the target's copy. */
  @Override
  public void close() {
    closed = true;
    for (AutoCloseable c : new AutoCloseable[] {server, downstream, upstream}) {
      if (c == null) continue;
      try {
        c.close();
      } catch (Exception ignored) {
        // closing
      }
    }
  }
}
