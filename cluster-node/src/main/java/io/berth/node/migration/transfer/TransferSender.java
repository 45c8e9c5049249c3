package io.berth.node.migration.transfer;

import io.berth.protocol.InvalidFieldException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.ThrottleMode;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;

/**
 * The source's end: one round to a {@link TransferReceiver}, one connection. Files are read as the connection
 * asks for frames (Pekko Streams backpressure from the receiver's disk back to this one's reads: at most a few
 * frames of {@value Frames#MAX_DATA} bytes are in memory), throttled to {@code bytesPerSecond} when it is not 0.
 */
public final class TransferSender {
  private TransferSender() {}

  /**
   * Sends {@code items} as one round and completes with its report once the receiver's ACK matched what was sent
   * (files, data bytes, SHA-256); fails with a {@link TransferException} naming the file and offset otherwise.
   *
   * @param bytesPerSecond 0 for no limit, else at least 1024
   * @param timeout        bounds every wait: the connect, any stretch without a byte either way (including the
   *                       wait for the ACK while the receiver syncs its files), not the whole round (whose length
   *                       is its bytes over the rate)
   */
  public static CompletionStage<RoundReport> send(ActorSystem<?> system, String host, int port, String token, List<TransferItem> items,
      long bytesPerSecond, Duration timeout) {
    return sendRetryingWhileBusy(system, host, port, token, items, bytesPerSecond, timeout, BUSY_RETRIES);
  }

  /** How often a round refused because the receiver still ends the previous one is sent again, {@link #BUSY_PAUSE} apart. */
  private static final int BUSY_RETRIES = 10;
  private static final Duration BUSY_PAUSE = Duration.ofMillis(200);

  /**
   * A round sent right after one that failed on this side can reach the receiver before it has seen the failed
   * round's connection end ("another round is under way", refused at HELLO: nothing of it was written there), so it
   * is sent again a little later, a few times.
   */
  private static CompletionStage<RoundReport> sendRetryingWhileBusy(ActorSystem<?> system, String host, int port, String token,
      List<TransferItem> items, long bytesPerSecond, Duration timeout, int retries) {
    return sendOnce(system, host, port, token, items, bytesPerSecond, timeout).handle((report, error) -> {
      Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
      if (cause == null) return java.util.concurrent.CompletableFuture.completedFuture(report);
      if (retries > 0 && String.valueOf(cause.getMessage()).contains("refused: another round is under way")) {
        java.util.concurrent.Executor later = java.util.concurrent.CompletableFuture.delayedExecutor(BUSY_PAUSE.toMillis(),
            java.util.concurrent.TimeUnit.MILLISECONDS);
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> null, later).thenCompose(x ->
            sendRetryingWhileBusy(system, host, port, token, items, bytesPerSecond, timeout, retries - 1));
      }
      return java.util.concurrent.CompletableFuture.<RoundReport>failedFuture(cause);
    }).thenCompose(f -> f);
  }

  private static CompletionStage<RoundReport> sendOnce(ActorSystem<?> system, String host, int port, String token, List<TransferItem> items,
      long bytesPerSecond, Duration timeout) {
    InvalidFieldException.required("system", system);
    if (host == null || host.isBlank()) throw new InvalidFieldException("host", "must be given", host);
    if (port < 1 || port > 65535) throw new InvalidFieldException("port", "must be 1 to 65535", port);
    TransferReceiver.checkToken(token);
    checkItems(items);
    if (bytesPerSecond < 0 || (bytesPerSecond > 0 && bytesPerSecond < 1024)) {
      throw new InvalidFieldException("bytesPerSecond", "must be 0 (no limit) or at least 1024", bytesPerSecond);
    }
    TransferReceiver.checkPositive("timeout", timeout);

    int piece = pieceBytes(bytesPerSecond);
    List<ItemFrames> frames = new ArrayList<>();
    List<DiskImageSync.Round> images = new ArrayList<>();
    try {
      for (TransferItem item : items) {
        if (item instanceof TransferItem.RegularFile f) {
          frames.add(new WholeFile(f.path(), f.name(), piece));
        } else if (item instanceof TransferItem.DiskImage d) {
          DiskImageSync.Round r = d.sync().startRound(piece);
          images.add(r);
          frames.add(r);
        }
      }
    } catch (RuntimeException e) {
      for (DiskImageSync.Round r : images) r.sync().finish(r, false);
      throw e;
    }

    String peer = host + ":" + port;
    OutgoingRound round = new OutgoingRound(token, items, frames);
    long t0 = System.nanoTime();
    Source<ByteString, NotUsed> source = Source.unfoldResource(() -> round, OutgoingRound::next, OutgoingRound::close);
    if (bytesPerSecond > 0) {
      // Costs in KiB (throttle counts in ints); the bucket holds 1/20 s of the rate, so the limit holds from the start.
      int perSecond = (int) Math.min(Integer.MAX_VALUE, bytesPerSecond / 1024);
      source = source.throttle(perSecond, Duration.ofSeconds(1), Math.max(1, perSecond / 20), f -> (f.size() + 1023) / 1024,
          ThrottleMode.shaping());
    }
    Pair<UniqueKillSwitch, CompletionStage<Optional<ByteString>>> run;
    try {
      run = source
          .viaMat(KillSwitches.single(), Keep.right())
          .via(Tcp.get(system).outgoingConnection(new InetSocketAddress(host, port), Optional.empty(), List.of(), true,
              Optional.of(timeout), Optional.of(timeout)))
          .via(Frames.decoder())
          .toMat(Sink.headOption(), Keep.both())
          .run(system);
    } catch (RuntimeException e) { // the system is shutting down, say: nothing was sent
      for (DiskImageSync.Round r : images) r.sync().finish(r, false);
      return CompletableFuture.failedFuture(new TransferException("transfer round to " + host + ":" + port + " could not start: " + e, e));
    }

    CompletableFuture<RoundReport> result = new CompletableFuture<>();
    run.second().whenComplete((reply, error) -> {
      run.first().shutdown(); // an early answer (an ERROR) stops the reading; the receiver drains until then
      try {
        RoundReport report = conclude(peer, round, reply, error, Duration.ofNanos(System.nanoTime() - t0));
        for (DiskImageSync.Round r : images) r.sync().finish(r, true);
        result.complete(report);
      } catch (RuntimeException e) {
        for (DiskImageSync.Round r : images) r.sync().finish(r, false);
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  private static RoundReport conclude(String peer, OutgoingRound round, Optional<ByteString> reply, Throwable error, Duration took) {
    String to = "transfer round to " + peer;
    if (error != null) {
      Throwable cause = round.failure() != null ? round.failure() : unwrap(error);
      throw new TransferException(to + " failed at " + round.where() + ": " + ReceiveSession.describe(cause), cause);
    }
    if (reply.isEmpty()) {
      throw new TransferException(to + ": the receiver closed the connection without acknowledging the round, at " + round.where());
    }
    Frames.Frame frame;
    try {
      frame = Frames.parse(Frames.bytes(reply.get()));
    } catch (Frames.ProtocolError e) {
      throw new TransferException(to + ": the receiver answered with a bad frame (" + e.getMessage() + ") at " + round.where());
    }
    if (frame instanceof Frames.Error err) {
      throw new TransferException(to + ": the receiver refused it at " + round.where() + ": " + err.message());
    }
    if (!(frame instanceof Frames.Ack ack)) {
      throw new TransferException(to + ": the receiver answered " + frame.getClass().getSimpleName() + " instead of an ACK, at " + round.where());
    }
    OutgoingRound.Summary sent = round.summary();
    if (sent == null) throw new TransferException(to + ": the receiver acknowledged round " + ack.round() + " before it was sent, at " + round.where());
    HexFormat hex = HexFormat.of();
    if (ack.files() != sent.files() || ack.bytes() != sent.bytes() || !MessageDigest.isEqual(ack.sha256(), sent.sha256())) {
      throw new TransferException(to + ": round " + ack.round() + " arrived different from what was sent: sent " + sent.files() + " files, "
          + sent.bytes() + " bytes, SHA-256 " + hex.formatHex(sent.sha256()) + "; the receiver acknowledged " + ack.files() + " files, "
          + ack.bytes() + " bytes, SHA-256 " + hex.formatHex(ack.sha256()));
    }
    return new RoundReport(ack.round(), sent.reports(), sent.bytes(), hex.formatHex(sent.sha256()), took);
  }

  private static void checkItems(List<TransferItem> items) {
    InvalidFieldException.required("items", items);
    if (items.isEmpty()) throw new InvalidFieldException("items", "must name at least one file", items);
    Set<String> names = new HashSet<>();
    for (int i = 0; i < items.size(); i++) {
      TransferItem item = InvalidFieldException.required("items[" + i + "]", items.get(i));
      if (!names.add(item.name())) throw new InvalidFieldException("items[" + i + "].name", "must be unique in a round", item.name());
      Path path = item instanceof TransferItem.RegularFile f ? f.path() : ((TransferItem.DiskImage) item).sync().image();
      if (!Files.isRegularFile(path)) throw new InvalidFieldException("items[" + i + "].path", "must be a regular file", path);
    }
  }

  /** DATA frames small enough that the limiter keeps the rate smooth (16 a second at least), and at most 256 KiB. */
  static int pieceBytes(long bytesPerSecond) {
    if (bytesPerSecond == 0) return Frames.MAX_DATA;
    return (int) Math.max(4096, Math.min(Frames.MAX_DATA, bytesPerSecond / 16));
  }

  private static Throwable unwrap(Throwable e) {
    while (e instanceof CompletionException && e.getCause() != null) e = e.getCause();
    return e;
  }
}
