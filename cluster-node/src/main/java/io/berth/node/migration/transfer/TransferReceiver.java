package io.berth.node.migration.transfer;

import io.berth.protocol.InvalidFieldException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's end of a migration's transfer: listens on an ephemeral port of {@code bindHost}, takes rounds
 * (one connection each, one at a time) from a sender that presents the migration's token, and writes what they
 * carry under {@code intoDir}: each file by its plain name (nothing outside the directory, no link followed),
 * mode 0600, owned by this process's user (root on a node; the caller changes what it needs). A disk image's
 * later round applies to the file its first round wrote here.
 *
 * <p>A failed round (broken connection, bad frame, digest mismatch, a refused name) leaves the files it had
 * written as they are: they are the caller's to delete with the directory (a later round of an image may still
 * build on them). A connection with a wrong token, or arriving while a round is under way, gets an ERROR frame,
 * is logged, writes nothing and is not a round.
 *
 * <p>Each round's outcome is a {@link RoundReport} (the same the sender gets in its ACK) from {@link #nextRound()}.
 */
public final class TransferReceiver implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TransferReceiver.class);
  private static final int BACKLOG = 16;

  private final ActorSystem<?> system;
  private final Path intoDir;
  private final byte[] token;
  private final String blockingDispatcher;
  private final SharedKillSwitch connections;
  private volatile Tcp.ServerBinding binding;
  // Guarded by this.
  private final List<CompletableFuture<RoundReport>> rounds = new ArrayList<>();
  private final Map<String, UUID> images = new HashMap<>();
  private int started;
  private int active;
  private int handedOut;
  private boolean closed;

  /** Names written somewhere else than {@code intoDir} (a disk image goes to its own filesystem), by name. */
  private final Map<String, Path> elsewhere;

  private TransferReceiver(ActorSystem<?> system, Path intoDir, Map<String, Path> elsewhere, String token) {
    this.system = system;
    this.intoDir = intoDir;
    this.elsewhere = Map.copyOf(elsewhere);
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.blockingDispatcher = system.settings().config().getString("pekko.stream.materializer.blocking-io-dispatcher");
    this.connections = KillSwitches.shared("transfer-into-" + intoDir.getFileName());
  }

  /**
   * Binds an ephemeral port on {@code bindHost} and takes rounds into {@code intoDir} (an existing directory).
   * {@code idleTimeout} bounds every wait of a connection: one without a byte either way for that long fails.
   */
  public static CompletionStage<TransferReceiver> bind(ActorSystem<?> system, String bindHost, Path intoDir, String token, Duration idleTimeout) {
    return bind(system, bindHost, intoDir, Map.of(), token, idleTimeout);
  }

  /**
   * As {@link #bind(ActorSystem, String, Path, String, Duration)}, with the files named in {@code elsewhere} written
   * at the path given there instead (each an absolute path in an existing directory that is not a link): a migration's
   * disk image goes to the filesystem of the target's images root, its CRIU images to a tmpfs.
   */
  public static CompletionStage<TransferReceiver> bind(ActorSystem<?> system, String bindHost, Path intoDir, Map<String, Path> elsewhere,
      String token, Duration idleTimeout) {
    InvalidFieldException.required("elsewhere", elsewhere);
    elsewhere.forEach((name, path) -> {
      TransferItem.checkName("elsewhere", name);
      if (!path.isAbsolute() || path.getParent() == null || !Files.isDirectory(path.getParent(), LinkOption.NOFOLLOW_LINKS)) {
        throw new InvalidFieldException("elsewhere[" + name + "]", "must be an absolute path in an existing directory (not a link)", path);
      }
    });
    InvalidFieldException.required("system", system);
    if (bindHost == null || bindHost.isBlank()) throw new InvalidFieldException("bindHost", "must be an address of this host", bindHost);
    InvalidFieldException.required("intoDir", intoDir);
    if (!Files.isDirectory(intoDir, LinkOption.NOFOLLOW_LINKS)) throw new InvalidFieldException("intoDir", "must be an existing directory (not a link)", intoDir);
    checkToken(token);
    checkPositive("idleTimeout", idleTimeout);
    TransferReceiver receiver = new TransferReceiver(system, intoDir.toAbsolutePath().normalize(), elsewhere, token);
    return Tcp.get(system)
        .bind(bindHost, 0, BACKLOG, List.of(), true, Optional.of(idleTimeout))
        .to(Sink.foreach(receiver::accept))
        .run(system)
        .thenApply(b -> {
          receiver.binding = b;
          LOG.info("transfer into {}: listening on {}", receiver.intoDir, b.localAddress());
          return receiver;
        });
  }

  /** The port it listens on. */
  public int port() {
    return binding.localAddress().getPort();
  }

  public Path intoDir() {
    return intoDir;
  }

  /** Where a received file of this (checked) name is written. */
  Path pathOf(String name) {
    Path other = elsewhere.get(name);
    return other != null ? other : intoDir.resolve(name);
  }

  /**
   * The outcome of the next round not asked for yet: the first call answers round 1, the next round 2, and so
   * on, whether the round is over, under way or still to come. A failed round fails it with a
   * {@link TransferException} naming the file and offset; a round that never began fails when the receiver closes.
   */
  public synchronized CompletionStage<RoundReport> nextRound() {
    CompletableFuture<RoundReport> f = round(++handedOut);
    if (closed && !f.isDone()) f.completeExceptionally(new TransferException("transfer into " + intoDir + " was closed before round " + handedOut + " began"));
    return f.minimalCompletionStage();
  }

  /** Unbinds the port and aborts a round under way (it fails: its connection is cut). */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) return;
      closed = true;
      for (int i = 0; i < rounds.size(); i++) {
        if (i + 1 != active && !rounds.get(i).isDone()) {
          rounds.get(i).completeExceptionally(new TransferException("transfer into " + intoDir + " was closed before round " + (i + 1) + " began"));
        }
      }
    }
    connections.abort(new TransferException("the receiver into " + intoDir + " was closed"));
    Tcp.ServerBinding b = binding;
    if (b != null) b.unbind();
    LOG.info("transfer into {}: closed", intoDir);
  }

  // ---- what a session asks --------------------------------------------------------------------

  boolean tokenMatches(byte[] presented) {
    return MessageDigest.isEqual(token, presented); // in constant time
  }

  /** The number of the round that starts now, or 0 when one is under way (or the receiver is closed). */
  synchronized int startRound() {
    if (closed || active != 0) return 0;
    active = ++started;
    round(active);
    return active;
  }

  synchronized void roundDone(int n, RoundReport report) {
    if (active == n) active = 0;
    round(n).complete(report);
  }

  synchronized void roundFailed(int n, TransferException e) {
    if (active == n) active = 0;
    round(n).completeExceptionally(e);
  }

  synchronized void imageStarted(String name, UUID sync) {
    images.put(name, sync);
  }

  synchronized UUID imageOf(String name) {
    return images.get(name);
  }

  synchronized void forgetImage(String name) {
    images.remove(name);
  }

  private CompletableFuture<RoundReport> round(int n) {
    while (rounds.size() < n) rounds.add(new CompletableFuture<>());
    return rounds.get(n - 1);
  }

  // ---- connections ----------------------------------------------------------------------------

  private void accept(Tcp.IncomingConnection connection) {
    ReceiveSession session = new ReceiveSession(this, intoDir, connection.remoteAddress().toString());
    Flow<ByteString, ByteString, NotUsed> flow = Flow.of(ByteString.class)
        .via(connections.<ByteString>flow())
        .via(Frames.decoder())
        .map(session::onFrame)
        .async(blockingDispatcher) // file writes and fsync block: never on the default dispatcher
        .filter(reply -> !reply.isEmpty())
        .takeWhile(reply -> reply.apply(0) != Frames.ACK, true) // the ACK ends the connection
        .watchTermination((notUsed, done) -> {
          done.whenComplete((d, failure) -> session.finished(failure));
          return notUsed;
        });
    connection.handleWith(flow, system);
  }

  static void checkToken(String token) {
    InvalidFieldException.required("token", token);
    int n = token.getBytes(StandardCharsets.UTF_8).length;
    if (n < 16 || n > 256) throw new InvalidFieldException("token", "must be 16 to 256 bytes", "(" + n + " bytes)");
  }

  static void checkPositive(String field, Duration d) {
    InvalidFieldException.required(field, d);
    if (d.isNegative() || d.isZero()) throw new InvalidFieldException(field, "must be positive", d);
  }
}
