package io.berth.node.migration.transfer;

import io.berth.isolation.disk.SparseExtents;
import io.berth.node.migration.transfer.RoundReport.FileReport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiver's side of one connection: checks each frame, writes files under the receiver's directory, and
 * answers the round with an ACK, or the first problem with an ERROR frame. After an ERROR it reads and drops what
 * the sender still had in flight (up to {@link #DRAIN_LIMIT}) rather than closing at once, so the sender reads the
 * ERROR instead of a reset. Called by one stream stage at a time (on the blocking-I/O dispatcher).
 */
final class ReceiveSession {
  private static final Logger LOG = LoggerFactory.getLogger(ReceiveSession.class);
  static final long DRAIN_LIMIT = 64L << 20;

  private enum State { HELLO, BETWEEN_FILES, IN_FILE, DONE, REFUSED }

  private final TransferReceiver receiver;
  private final Path intoDir;
  private final String remote;
  private State state = State.HELLO;
  private int round;
  private long startedNanos;
  private final List<FileReport> files = new ArrayList<>();
  private final Set<String> names = new HashSet<>();
  private final MessageDigest roundDigest = OutgoingRound.sha256();
  private long roundBytes;
  private long drained;
  // The file being received.
  private Frames.Begin begin;
  private SparseExtents.Writer writer;
  private MessageDigest fileDigest;
  private long received;
  private long punched;
  private long position;

  ReceiveSession(TransferReceiver receiver, Path intoDir, String remote) {
    this.receiver = receiver;
    this.intoDir = intoDir;
    this.remote = remote;
  }

  /** One whole frame in; the reply frame out (empty for none). */
  synchronized ByteString onFrame(ByteString frame) {
    if (state == State.REFUSED || state == State.DONE) {
      drained += frame.size();
      if (drained > DRAIN_LIMIT) throw new TransferException("transfer from " + remote + " went on for " + DRAIN_LIMIT + " bytes after its refusal: closed");
      return ByteString.emptyByteString();
    }
    try {
      byte[] reply = handle(Frames.bytes(frame));
      return reply == null ? ByteString.emptyByteString() : ByteString.fromArrayUnsafe(reply);
    } catch (Refused | Frames.ProtocolError r) {
      if (round == 0) return refuse(describe(r));
      return failRound(r);
    } catch (IOException | RuntimeException e) {
      return failRound(e);
    }
  }

  private ByteString refuse(String why) {
    state = State.REFUSED;
    LOG.warn("transfer into {}: refused a connection from {}: {}", intoDir, remote, why);
    return ByteString.fromArrayUnsafe(Frames.error("refused: " + why));
  }

  private ByteString failRound(Exception e) {
    String message = where() + ": " + describe(e);
    fail(new TransferException(message, e));
    return ByteString.fromArrayUnsafe(Frames.error(message));
  }

  /** The connection ended (cause null: the sender closed it); a round not complete by now has failed. */
  synchronized void finished(Throwable cause) {
    if (state == State.BETWEEN_FILES || state == State.IN_FILE) {
      String why = cause == null ? "the sender closed the connection" : describe(cause);
      fail(new TransferException(where() + ": the connection ended before the round was complete: " + why, cause));
    } else if (state == State.HELLO && cause != null) {
      LOG.debug("transfer into {}: connection from {} ended before its HELLO: {}", intoDir, remote, describe(cause));
    }
    closeWriter();
  }

  private byte[] handle(byte[] f) throws IOException {
    Frames.Frame frame = Frames.parse(f);
    switch (state) {
      case HELLO -> {
        if (!(frame instanceof Frames.Hello hello)) throw new Refused("the first frame must be HELLO");
        if (hello.version() != Frames.VERSION) throw new Refused("protocol version " + hello.version() + " (this receiver speaks " + Frames.VERSION + ")");
        if (!receiver.tokenMatches(hello.token())) throw new Refused("the token does not match");
        round = receiver.startRound(); // refused (not a round) while another is under way
        if (round == 0) throw new Refused("another round is under way");
        startedNanos = System.nanoTime();
        state = State.BETWEEN_FILES;
        LOG.debug("transfer into {}: round {} from {}", intoDir, round, remote);
        return null;
      }
      case BETWEEN_FILES -> {
        if (frame instanceof Frames.Begin b) {
          open(b, f);
          return null;
        }
        if (frame instanceof Frames.EndRound end) return endRound(end);
        throw new Frames.ProtocolError("expected BEGIN or END_ROUND, got " + frame.getClass().getSimpleName());
      }
      case IN_FILE -> {
        if (frame instanceof Frames.Data d) {
          data(d, f);
          return null;
        }
        if (frame instanceof Frames.Punch p) {
          punch(p, f);
          return null;
        }
        if (frame instanceof Frames.EndFile e) {
          endFile(e, f);
          return null;
        }
        throw new Frames.ProtocolError("expected DATA, PUNCH or END_FILE, got " + frame.getClass().getSimpleName());
      }
      default -> throw new IllegalStateException(state.name());
    }
  }

  private void open(Frames.Begin b, byte[] f) throws IOException {
    String name = TransferItem.checkName("name", b.name());
    if (!names.add(name)) throw new Frames.ProtocolError("file " + name + " sent twice in one round");
    if (b.size() < 0) throw new Frames.ProtocolError("file " + name + " of size " + b.size());
    Path path = receiver.pathOf(name);
    begin = b;
    received = 0;
    punched = 0;
    position = 0;
    switch (b.kind()) {
      case FILE -> {
        receiver.forgetImage(name);
        writer = SparseExtents.Writer.replace(path);
      }
      case IMAGE_FULL -> {
        receiver.imageStarted(name, b.sync());
        writer = SparseExtents.Writer.replace(path);
        writer.setLength(b.size());
      }
      case IMAGE_DELTA -> {
        if (!b.sync().equals(receiver.imageOf(name))) {
          throw new Frames.ProtocolError("no first round of disk image " + name + " (" + b.sync() + ") reached this receiver: a later round needs one");
        }
        writer = SparseExtents.Writer.open(path);
        writer.setLength(b.size());
      }
      default -> throw new IllegalStateException(b.kind().name());
    }
    fileDigest = OutgoingRound.sha256();
    fileDigest.update(f);
    state = State.IN_FILE;
  }

  private void data(Frames.Data d, byte[] f) throws IOException {
    long end = d.offset() + d.length();
    if (d.offset() < 0 || end > begin.size()) throw new Frames.ProtocolError("DATA " + d.offset() + "+" + d.length() + " outside the file's " + begin.size() + " bytes");
    if (begin.kind() == Frames.Kind.FILE && d.offset() != received) throw new Frames.ProtocolError("DATA at " + d.offset() + " after " + received + " bytes of a whole file");
    position = d.offset();
    writer.write(d.offset(), ByteBuffer.wrap(f, Frames.DATA_HEADER, d.length()));
    fileDigest.update(f);
    received += d.length();
    position = end;
  }

  private void punch(Frames.Punch p, byte[] f) throws IOException {
    if (begin.kind() == Frames.Kind.FILE) throw new Frames.ProtocolError("PUNCH in a whole file");
    if (p.offset() < 0 || p.length() <= 0 || p.offset() + p.length() > begin.size()) {
      throw new Frames.ProtocolError("PUNCH " + p.offset() + "+" + p.length() + " outside the file's " + begin.size() + " bytes");
    }
    position = p.offset();
    writer.punchHole(p.offset(), p.length());
    fileDigest.update(f);
    punched += p.length();
  }

  private void endFile(Frames.EndFile e, byte[] f) throws IOException {
    String name = begin.name();
    if (begin.kind() == Frames.Kind.FILE && received != begin.size()) {
      throw new Frames.ProtocolError("whole file " + name + " ended after " + received + " of its " + begin.size() + " bytes");
    }
    byte[] digest = fileDigest.digest();
    if (e.bytes() != received || !MessageDigest.isEqual(digest, e.sha256())) {
      throw new TransferException("received " + received + " bytes with SHA-256 " + hex(digest) + ", the sender sent " + e.bytes()
          + " bytes with SHA-256 " + hex(e.sha256()));
    }
    writer.sync(); // the ACK says the data is on this host's disk (nothing to do on a tmpfs)
    closeWriter();
    files.add(new FileReport(name, begin.size(), received, punched, hex(digest)));
    roundDigest.update(f);
    roundBytes += received;
    begin = null;
    state = State.BETWEEN_FILES;
  }

  private byte[] endRound(Frames.EndRound end) {
    if (end.files() != files.size()) throw new Frames.ProtocolError("END_ROUND counts " + end.files() + " files, " + files.size() + " arrived");
    byte[] digest = roundDigest.digest();
    RoundReport report = new RoundReport(round, files, roundBytes, hex(digest), Duration.ofNanos(System.nanoTime() - startedNanos));
    state = State.DONE;
    receiver.roundDone(round, report);
    LOG.info("transfer into {}: round {} from {} complete: {} files, {} bytes of data, sha256 {}", intoDir, round, remote, files.size(), roundBytes, report.sha256());
    return Frames.ack(round, files.size(), roundBytes, digest);
  }

  private void fail(TransferException e) {
    closeWriter();
    boolean inRound = round > 0 && (state == State.BETWEEN_FILES || state == State.IN_FILE);
    state = State.REFUSED;
    if (inRound) {
      LOG.warn("transfer into {}: {}", intoDir, e.getMessage());
      receiver.roundFailed(round, e);
    }
  }

  private String where() {
    String r = "round " + round + " from " + remote;
    return begin == null ? r : r + ", file " + begin.name() + " at offset " + position;
  }

  private void closeWriter() {
    if (writer == null) return;
    try {
      writer.close();
    } catch (IOException | RuntimeException e) {
      LOG.warn("transfer into {}: close {}: {}", intoDir, writer.file(), e.toString());
    }
    writer = null;
  }

  static String describe(Throwable e) {
    String m = e.getMessage();
    if (m == null || m.isBlank()) return e.getClass().getSimpleName();
    // NoSuchFileException and its kin say only the path: the type is the reason.
    return e instanceof java.nio.file.FileSystemException ? e.getClass().getSimpleName() + ": " + m : m;
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  /** A connection that is not (or not now) a round: wrong token, bad HELLO, another round under way. */
  private static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refused(String message) {
      super(message, null, false, false);
    }
  }
}
