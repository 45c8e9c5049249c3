package io.berth.persistence.embedded;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Cassandra node (cassandra-all) in a child JVM, for this machine only.
 *
 * <p>{@link #start} reuses a node already running on the same data root (recorded in {@code node.properties} and
 * answering CQL), so starting twice is harmless; otherwise it writes a fresh {@code cassandra.yaml}, launches the
 * child and waits, bounded, until CQL answers. The child never outlives its {@link EmbeddedCassandraSettings.Owner}.
 * A handle that started the node stops it on {@link #close} and in a JVM shutdown hook; a handle that attached to a
 * running node leaves it alone.
 */
public final class EmbeddedCassandra implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedCassandra.class);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
  private static final int LOG_TAIL_LINES = 40;

  private final EmbeddedCassandraSettings settings;
  private final NodeLayout layout;
  private final long pid;
  private final boolean owned;
  private volatile Process process; // only when started by this JVM
  private volatile Thread shutdownHook;

  private EmbeddedCassandra(EmbeddedCassandraSettings settings, long pid, boolean owned, Process process) {
    this.settings = settings;
    this.layout = new NodeLayout(settings.dataRoot());
    this.pid = pid;
    this.owned = owned;
    this.process = process;
  }

  /** Starts a node on the settings' data root, or attaches to the one already running there. */
  public static EmbeddedCassandra start(EmbeddedCassandraSettings settings) {
    NodeLayout layout = new NodeLayout(settings.dataRoot());
    try {
      Files.createDirectories(settings.dataRoot());
    } catch (IOException e) {
      throw new EmbeddedCassandraException("create the embedded Cassandra data root " + settings.dataRoot() + ": " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + settings.startTimeout().toNanos();
    try (RandomAccessFile lockFile = new RandomAccessFile(layout.lock().toFile(), "rw");
         FileLock lock = acquire(lockFile.getChannel(), layout, deadline)) {
      Optional<EmbeddedCassandra> running = attach(settings, layout, deadline);
      if (running.isPresent()) return running.get();
      EmbeddedCassandra started = launch(settings, layout, deadline);
      // A detached node outlives this JVM on purpose (bin/berth up); every other owner stops it on exit.
      if (!(settings.owner() instanceof EmbeddedCassandraSettings.Owner.Detached)) started.installShutdownHook();
      return started;
    } catch (IOException e) {
      throw new EmbeddedCassandraException("start embedded Cassandra on " + settings.dataRoot() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Stops whatever node runs on this data root, whoever started it (for {@code berth down} and for fault tests):
   * SIGTERM, so Cassandra drains, then SIGKILL after a bounded wait. Returns false when no node was running.
   */
  public static boolean stop(Path dataRoot) {
    NodeLayout layout = new NodeLayout(dataRoot);
    Optional<NodeFile> node = NodeFile.read(layout.nodeFile());
    if (node.isEmpty()) return false;
    Optional<ProcessHandle> live = node.get().liveProcess();
    boolean wasRunning = live.isPresent();
    live.ifPresent(h -> terminate(h, dataRoot));
    try {
      Files.deleteIfExists(layout.nodeFile());
    } catch (IOException e) {
      throw new EmbeddedCassandraException("remove " + layout.nodeFile() + " after stopping the node: " + e.getMessage(), e);
    }
    return wasRunning;
  }

  /** The running node on this data root, if any (pid alive and CQL answering plain TCP: not a node with TLS). */
  public static Optional<String> contactPointOf(Path dataRoot) {
    return NodeFile.read(new NodeLayout(dataRoot).nodeFile())
        .filter(n -> n.liveProcess().isPresent())
        .filter(n -> CqlProbe.answers(n.address(), n.nativePort(), 1000))
        .map(n -> n.address() + ":" + n.nativePort());
  }

  public String address() { return settings.address(); }
  public int nativePort() { return settings.nativePort(); }
  public int storagePort() { return settings.storagePort(); }
  /** {@code host:port} for the driver's contact points. */
  public String contactPoint() { return settings.address() + ":" + settings.nativePort(); }
  public long pid() { return pid; }
  public Path dataRoot() { return settings.dataRoot(); }
  public Path logFile() { return layout.log(); }
  /** True when this handle started the node (and so stops it on close). */
  public boolean owned() { return owned; }
  public EmbeddedCassandraSettings settings() { return settings; }

  public boolean answers() {
    return CqlProbe.answers(settings.address(), settings.nativePort(), 1000, settings.clientTlsOrNull());
  }

  /** Stops the node if this handle started it; an attached handle leaves the node running for its starter. */
  @Override
  public void close() {
    if (!owned) return;
    stop(settings.dataRoot());
    Thread hook = shutdownHook;
    if (hook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Already in shutdown: the hook is running or ran.
      }
    }
  }

  private void installShutdownHook() {
    Thread hook = new Thread(() -> stop(settings.dataRoot()), "embedded-cassandra-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    shutdownHook = hook;
  }

  private static FileLock acquire(FileChannel channel, NodeLayout layout, long deadline) throws IOException {
    while (true) {
      try {
        FileLock lock = channel.tryLock();
        if (lock != null) return lock;
      } catch (OverlappingFileLockException sameJvm) {
        // Another thread of this JVM is starting the node: wait like any other process.
      }
      if (System.nanoTime() > deadline) {
        throw new EmbeddedCassandraException("start embedded Cassandra on " + layout.root()
            + ": another process held " + layout.lock() + " for the whole start timeout");
      }
      sleep(100);
    }
  }

  private static Optional<EmbeddedCassandra> attach(EmbeddedCassandraSettings settings, NodeLayout layout, long deadline) throws IOException {
    Optional<NodeFile> recorded = NodeFile.read(layout.nodeFile());
    if (recorded.isEmpty()) return Optional.empty();
    NodeFile node = recorded.get();
    Optional<ProcessHandle> live = node.liveProcess();
    if (live.isEmpty()) {
      log.info("embedded Cassandra on {}: recorded pid {} is gone; starting a new node", layout.root(), node.pid());
      Files.deleteIfExists(layout.nodeFile());
      return Optional.empty();
    }
    javax.net.ssl.SSLContext tls = settings.clientTlsOrNull();
    while (!CqlProbe.answers(node.address(), node.nativePort(), 1000, tls)) {
      if (!live.get().isAlive()) {
        Files.deleteIfExists(layout.nodeFile());
        return Optional.empty();
      }
      if (System.nanoTime() > deadline) {
        throw new EmbeddedCassandraException("attach to embedded Cassandra pid " + node.pid() + " on " + layout.root()
            + ": it runs but CQL at " + node.address() + ":" + node.nativePort() + " did not answer within the start timeout\n"
            + tail(layout.log()));
      }
      sleep(200);
    }
    log.info("embedded Cassandra on {}: reusing running node pid {} at {}:{}", layout.root(), node.pid(), node.address(), node.nativePort());
    EmbeddedCassandraSettings actual = settings.withPorts(node.nativePort(), node.storagePort());
    return Optional.of(new EmbeddedCassandra(actual, node.pid(), false, null));
  }

  private static EmbeddedCassandra launch(EmbeddedCassandraSettings requested, NodeLayout layout, long deadline) throws IOException {
    EmbeddedCassandraSettings settings = requested.withPorts(
        requested.nativePort() == 0 ? freePort(requested.address()) : requested.nativePort(),
        requested.storagePort() == 0 ? freePort(requested.address()) : requested.storagePort());
    if (settings.nativePort() == settings.storagePort()) settings = settings.withPorts(settings.nativePort(), freePort(settings.address()));
    requireFree(settings.address(), settings.nativePort(), "embedded.native-port", layout);
    requireFree(settings.address(), settings.storagePort(), "embedded.storage-port", layout);
    layout.writeConfiguration(settings);

    List<String> command = command(settings, layout);
    ProcessBuilder pb = new ProcessBuilder(command)
        .directory(layout.root().toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(layout.log().toFile()));
    // Only a ParentPipe owner keeps a pipe to the child's stdin; any other owner must not tie the child to this
    // JVM's descriptors (a Maven test JVM would otherwise take the node down when it exits).
    pb.redirectInput(requested.owner() instanceof EmbeddedCassandraSettings.Owner.ParentPipe
        ? ProcessBuilder.Redirect.PIPE : ProcessBuilder.Redirect.from(new File("/dev/null")));
    Files.writeString(layout.log(), "==== berth: starting embedded Cassandra: " + String.join(" ", command) + "\n",
        StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    long startedAt = System.nanoTime();
    Process process = pb.start();
    if (!(requested.owner() instanceof EmbeddedCassandraSettings.Owner.ParentPipe)) process.getOutputStream().close();
    new NodeFile(process.pid(), settings.address(), settings.nativePort(), settings.storagePort(), requested.owner().property())
        .write(layout.nodeFile());
    EmbeddedCassandra node = new EmbeddedCassandra(settings, process.pid(), true, process);
    try {
      javax.net.ssl.SSLContext tls = settings.clientTlsOrNull();
      while (!CqlProbe.answers(settings.address(), settings.nativePort(), 1000, tls)) {
        if (!process.isAlive()) {
          throw new EmbeddedCassandraException("start embedded Cassandra on " + layout.root() + ": the node exited with status "
              + process.exitValue() + " before CQL answered at " + node.contactPoint() + "; last lines of " + layout.log() + ":\n" + tail(layout.log()));
        }
        if (System.nanoTime() > deadline) {
          throw new EmbeddedCassandraException("start embedded Cassandra on " + layout.root() + ": CQL at " + node.contactPoint()
              + " did not answer within " + settings.startTimeout().toSeconds() + " s; last lines of " + layout.log() + ":\n" + tail(layout.log()));
        }
        sleep(200);
      }
    } catch (RuntimeException e) {
      terminate(process.toHandle(), layout.root());
      Files.deleteIfExists(layout.nodeFile());
      throw e;
    }
    log.info("embedded Cassandra pid {} answers CQL at {} after {} ms (data root {})", process.pid(), node.contactPoint(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt), layout.root());
    return node;
  }

  /** The child's command line: Cassandra's Java 17 module flags (its jvm17-server.options), a small heap, our files. */
  private static List<String> command(EmbeddedCassandraSettings s, NodeLayout layout) {
    List<String> c = new ArrayList<>();
    c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    c.add("-Xms" + s.heap());
    c.add("-Xmx" + s.heap());
    c.add("-XX:+UseG1GC");
    c.add("-XX:+ParallelRefProcEnabled");
    c.add("-XX:MaxTenuringThreshold=1");
    c.add("-XX:+CrashOnOutOfMemoryError");
    c.add("-Xss512k");
    c.add("-Djava.net.preferIPv4Stack=true");
    c.add("-Djdk.attach.allowAttachSelf=true");
    for (String export : List.of("java.base/jdk.internal.misc", "java.management.rmi/com.sun.jmx.remote.internal.rmi",
        "java.rmi/sun.rmi.registry", "java.rmi/sun.rmi.server", "java.sql/java.sql", "java.base/java.lang.ref",
        "jdk.unsupported/sun.misc", "jdk.compiler/com.sun.tools.javac.file", "jdk.attach/sun.tools.attach")) {
      c.add("--add-exports");
      c.add(export + "=ALL-UNNAMED");
    }
    for (String open : List.of("java.base/java.lang.module", "java.base/jdk.internal.loader", "java.base/jdk.internal.ref",
        "java.base/jdk.internal.reflect", "java.base/jdk.internal.math", "java.base/jdk.internal.module",
        "java.base/jdk.internal.util.jar", "jdk.management/com.sun.management.internal", "java.base/sun.nio.ch",
        "java.base/java.io", "java.base/java.lang.reflect", "jdk.compiler/com.sun.tools.javac", "java.base/java.lang",
        "java.base/java.util", "java.base/java.nio")) {
      c.add("--add-opens");
      c.add(open + "=ALL-UNNAMED");
    }
    c.add("-Dio.netty.tryReflectionSetAccessible=true");
    c.add("-Dcassandra.config=" + layout.yaml().toUri());
    c.add("-Dcassandra.storagedir=" + layout.root());
    c.add("-Dcassandra.logdir=" + layout.logs());
    c.add("-Dlogback.configurationFile=" + layout.logback());
    c.add("-Dcassandra-foreground=yes");
    // A single node has no gossip to settle and no ring to wait for: these waits only delay CQL.
    c.add("-Dcassandra.skip_wait_for_gossip_to_settle=0");
    c.add("-Dcassandra.ring_delay_ms=100");
    c.add("-Dcassandra.superuser_setup_delay_ms=0");
    c.add("-Dberth.cassandra.owner=" + s.owner().property());
    c.add("-Dberth.cassandra.data-root=" + layout.root());
    c.add("-cp");
    c.add(ServerClasspath.resolve());
    c.add(ServerClasspath.MAIN_CLASS);
    return c;
  }

  private static void terminate(ProcessHandle handle, Path dataRoot) {
    if (!handle.isAlive()) return;
    handle.destroy();
    try {
      handle.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return;
    } catch (Exception notYet) {
      log.warn("embedded Cassandra pid {} on {} did not stop within {} s after SIGTERM; killing it", handle.pid(), dataRoot, STOP_TIMEOUT.toSeconds());
    }
    handle.destroyForcibly();
    try {
      handle.onExit().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new EmbeddedCassandraException("stop embedded Cassandra pid " + handle.pid() + " on " + dataRoot + ": still alive after SIGKILL", e);
    }
  }

  private static int freePort(String address) throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(false);
      s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
      return s.getLocalPort();
    }
  }

  private static void requireFree(String address, int port, String field, NodeLayout layout) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName(address), port));
    } catch (IOException e) {
      throw new EmbeddedCassandraException("start embedded Cassandra on " + layout.root() + ": " + field + " " + address + ":" + port
          + " is already in use by another process (" + e.getMessage() + "); choose another port or stop that process");
    }
  }

  /** The last lines of Cassandra's log, for error messages. */
  static String tail(Path log) {
    try {
      if (!Files.exists(log)) return "(no log at " + log + ")";
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
    } catch (IOException | RuntimeException e) {
      return "(could not read " + log + ": " + e.getMessage() + ")";
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbeddedCassandraException("interrupted while waiting for embedded Cassandra", e);
    }
  }

  /** Closes the stdin pipe of a node this JVM started with a ParentPipe owner (the child then exits by itself). */
  void closeOwnerPipe() throws IOException {
    Process p = process;
    if (p != null) {
      OutputStream in = p.getOutputStream();
      in.close();
    }
  }
}
