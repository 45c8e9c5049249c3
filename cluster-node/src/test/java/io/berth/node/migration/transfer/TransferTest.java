package io.berth.node.migration.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import io.berth.isolation.disk.SparseExtents;
import io.berth.protocol.InvalidFieldException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sender and receiver over 127.0.0.1 in one local actor system, on files in a tmpfs directory (tmpfs answers
 * SEEK_DATA/SEEK_HOLE and punches holes, as ext4 does; {@code -Dberth.transfer.test-dir=DIR} puts them elsewhere).
 * Allocation is what the kernel reports ({@code stat -c %b}).
 */
class TransferTest {
  private static final String TOKEN = "migration-token-0123456789";
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final long MIB = 1L << 20;
  private static ActorSystem<Void> system;
  private Path base;
  private Path src;
  private Path dst;
  private TransferReceiver receiver;

  @BeforeAll
  static void startSystem() {
    system = ActorSystem.create(Behaviors.empty(), "transfer-test", ConfigFactory.parseString(
        "pekko.actor.provider = local\npekko.loglevel = WARNING\npekko.coordinated-shutdown.exit-jvm = off\n")
        .withFallback(ConfigFactory.defaultReference()));
  }

  @AfterAll
  static void stopSystem() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @BeforeEach
  void dirs() throws IOException {
    // tmpfs by default (where CRIU images are); -Dberth.transfer.test-dir=/var/tmp runs the same on ext4 (disk images).
    Path shm = Path.of("/dev/shm");
    String dir = System.getProperty("berth.transfer.test-dir", Files.isDirectory(shm) ? shm.toString() : System.getProperty("java.io.tmpdir"));
    base = Files.createTempDirectory(Path.of(dir), "berth-transfer-");
    src = Files.createDirectory(base.resolve("src"));
    dst = Files.createDirectory(base.resolve("dst"));
  }

  @AfterEach
  void clean() throws IOException {
    if (receiver != null) receiver.close();
    try (Stream<Path> s = Files.walk(base)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  private TransferReceiver receiver(String token) throws Exception {
    receiver = get(TransferReceiver.bind(system, "127.0.0.1", dst, token, TIMEOUT));
    return receiver;
  }

  private RoundReport send(List<TransferItem> items) throws Exception {
    return get(TransferSender.send(system, "127.0.0.1", receiver.port(), TOKEN, items, 0, TIMEOUT));
  }

  // ---- (a) regular files --------------------------------------------------------------------------

  @Test
  void regularFilesArriveByteIdenticalWithEqualDigests() throws Exception {
    receiver(TOKEN);
    Random rnd = new Random(1);
    List<TransferItem> items = new ArrayList<>();
    int[] sizes = {0, 1, Frames.MAX_DATA, Frames.MAX_DATA + 1, 5 * 1024 * 1024 + 7};
    String[] names = {"empty.img", "one byte", "pages-1.img", "pages-2.img", "core-ünï.img"};
    for (int i = 0; i < sizes.length; i++) {
      byte[] b = new byte[sizes[i]];
      rnd.nextBytes(b);
      Path p = Files.write(src.resolve(names[i]), b);
      items.add(TransferItem.file(p));
    }
    CompletionStage<RoundReport> received = receiver.nextRound();
    RoundReport sent = send(items);
    RoundReport got = get(received);

    assertEquals(1, sent.round());
    assertEquals(sent.sha256(), got.sha256(), "the ACK's digest is the sender's");
    assertEquals(sent.bytes(), got.bytes());
    assertEquals(sent.files(), got.files(), "both sides report the same files, sizes and digests");
    long total = 0;
    for (int i = 0; i < names.length; i++) {
      Path d = dst.resolve(names[i]);
      assertArrayEquals(Files.readAllBytes(src.resolve(names[i])), Files.readAllBytes(d), names[i]);
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), names[i] + " mode");
      total += sizes[i];
    }
    assertEquals(total, sent.bytes());
  }

  // ---- (b) a sparse image, first round --------------------------------------------------------------

  @Test
  void sparseImageArrivesSparseAndOnlyItsDataIsSent() throws Exception {
    receiver(TOKEN);
    Path image = sparseImage();
    List<SparseExtents.Extent> extents = SparseExtents.list(image);
    assertEquals(3, extents.size(), "the source has 3 data extents: " + extents);
    DiskImageSync sync = new DiskImageSync(image);

    RoundReport r = send(List.of(TransferItem.diskImage(sync)));

    Path copy = dst.resolve("disk.img");
    assertEquals(SparseExtents.dataBytes(extents), r.bytes(), "only the allocated bytes were sent");
    assertEquals(Files.size(image), Files.size(copy), "same apparent size");
    assertEquals(extents, SparseExtents.list(copy), "same data extents on the receiver");
    long srcBlocks = blocks(image);
    long dstBlocks = blocks(copy);
    assertTrue(Math.abs(srcBlocks - dstBlocks) <= 16, "allocated 512-byte blocks: source " + srcBlocks + ", receiver " + dstBlocks);
    assertTrue(dstBlocks * 512 < 16 * MIB, "the 1 GiB copy stays sparse: " + dstBlocks + " blocks");
    assertEquals(sha256(image), sha256(copy));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copy)));
    assertTrue(sync.hasBaseline());
  }

  // ---- (c) a later round sends what changed ------------------------------------------------------

  @Test
  void laterRoundSendsOnlyChangedChunksAndPunchesHoles() throws Exception {
    receiver(TOKEN);
    Path image = sparseImage();
    DiskImageSync sync = new DiskImageSync(image);
    send(List.of(TransferItem.diskImage(sync)));

    // One chunk changed (4 KiB inside the 3 MiB extent at 300 MiB), one extent added, the first extent punched.
    writeRandom(image, 300 * MIB + 10, 4096, 7);
    writeRandom(image, 600 * MIB, 2 * MIB, 8);
    try (SparseExtents.Writer w = SparseExtents.Writer.open(image)) {
      w.punchHole(0, MIB);
    }
    assertTrue(SparseExtents.list(image).get(0).offset() >= MIB, "the source's first extent is gone: " + SparseExtents.list(image));

    assertEquals(1, get(receiver.nextRound()).round()); // the first call answers round 1, over already
    CompletionStage<RoundReport> second = receiver.nextRound();
    RoundReport r = send(List.of(TransferItem.diskImage(sync)));
    Path copy = dst.resolve("disk.img");
    assertEquals(2, r.round());
    assertEquals(3 * MIB, r.bytes(), "the changed chunk (1 MiB) and the new extent (2 MiB), nothing else");
    assertEquals(MIB, r.punchedBytes(), "the punched extent's chunk");
    assertEquals(sha256(image), sha256(copy), "byte-identical to the source after the delta");
    assertEquals(SparseExtents.list(image), SparseExtents.list(copy), "same extents (the hole is a hole on the receiver too)");
    assertTrue(Math.abs(blocks(image) - blocks(copy)) <= 16, "allocated: source " + blocks(image) + ", receiver " + blocks(copy));
    assertEquals(r.sha256(), get(second).sha256(), "the receiver's report of round 2");

    RoundReport third = send(List.of(TransferItem.diskImage(sync)));
    assertEquals(0, third.bytes(), "nothing changed: nothing sent");
    assertEquals(0, third.punchedBytes());
    assertEquals(3, sync.rounds());
  }

  @Test
  void laterRoundFollowsTheImagesSize() throws Exception {
    receiver(TOKEN);
    Path image = src.resolve("small.img");
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(8 * MIB);
    }
    writeRandom(image, 5 * MIB, 3 * MIB, 3);
    DiskImageSync sync = new DiskImageSync(image);
    send(List.of(TransferItem.diskImage(sync)));
    Path copy = dst.resolve("small.img");

    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(6 * MIB + 4096); // cuts the extent
    }
    RoundReport shrunk = send(List.of(TransferItem.diskImage(sync)));
    assertEquals(Files.size(image), Files.size(copy));
    assertEquals(sha256(image), sha256(copy));
    assertEquals(4096, shrunk.bytes(), "only the cut last chunk changed");

    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(16 * MIB);
    }
    writeRandom(image, 7 * MIB, MIB, 4); // data where the receiver's old tail was cut away
    RoundReport grown = send(List.of(TransferItem.diskImage(sync)));
    assertEquals(Files.size(image), Files.size(copy));
    assertEquals(sha256(image), sha256(copy));
    assertEquals(MIB, grown.bytes());
  }

  @Test
  void failedRoundIsMadeGoodByTheNext() throws Exception {
    receiver(TOKEN);
    Path image = src.resolve("small.img");
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(8 * MIB);
    }
    writeRandom(image, 0, 4 * MIB, 3);
    DiskImageSync sync = new DiskImageSync(image);
    send(List.of(TransferItem.diskImage(sync)));

    writeRandom(image, 2 * MIB + 100, 100, 4); // chunk 2 changes
    Path big = src.resolve("pages.img");
    writeRandom(big, 0, 64 * MIB, 5);
    CompletionStage<RoundReport> failing = TransferSender.send(system, "127.0.0.1", receiver.port(), TOKEN,
        List.of(TransferItem.diskImage(sync), TransferItem.file(big)), 8 * MIB, TIMEOUT);
    Thread.sleep(700);
    try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
      f.setLength(MIB); // the sender is part-way through it: its next read finds the end
    }
    TransferException e = failure(failing);
    assertTrue(e.getMessage().contains("file pages.img") && e.getMessage().contains("shrank"), e.getMessage());
    assertEquals(1, sync.rounds(), "the failed round was not counted");

    // Whatever the failed round did to chunk 2 on the receiver, the next round sends it again.
    RoundReport r = send(List.of(TransferItem.diskImage(sync)));
    assertEquals(MIB, r.bytes(), "chunk 2 again, nothing else");
    assertEquals(sha256(image), sha256(dst.resolve("small.img")));
    assertEquals(2, sync.rounds());
  }

  @Test
  void laterRoundNeedsTheReceiverThatTookTheFirst() throws Exception {
    receiver(TOKEN);
    Path image = src.resolve("small.img");
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(8 * MIB);
    }
    writeRandom(image, 0, MIB, 3);
    DiskImageSync sync = new DiskImageSync(image);
    send(List.of(TransferItem.diskImage(sync)));
    receiver.close();
    receiver(TOKEN); // a new receiver (its node restarted) over the same directory
    TransferException e = failure(TransferSender.send(system, "127.0.0.1", receiver.port(), TOKEN, List.of(TransferItem.diskImage(sync)), 0, TIMEOUT));
    assertTrue(e.getMessage().contains("no first round of disk image small.img"), e.getMessage());
    RoundReport fresh = send(List.of(TransferItem.diskImage(new DiskImageSync(image))));
    assertEquals(MIB, fresh.bytes());
    assertEquals(sha256(image), sha256(dst.resolve("small.img")));
  }

  // ---- (d) wrong token ------------------------------------------------------------------------------

  @Test
  void wrongTokenIsRefusedAndNothingIsWritten() throws Exception {
    receiver("another-token-9876543210");
    Path p = Files.write(src.resolve("pages-1.img"), new byte[1 << 20]);
    TransferException e = failure(TransferSender.send(system, "127.0.0.1", receiver.port(), TOKEN, List.of(TransferItem.file(p)), 0, TIMEOUT));
    assertTrue(e.getMessage().contains("token does not match"), e.getMessage());
    try (Stream<Path> s = Files.list(dst)) {
      assertEquals(List.of(), s.toList(), "nothing written");
    }
    CompletionStage<RoundReport> first = receiver.nextRound();
    assertFalse(first.toCompletableFuture().isDone(), "a refused connection is not a round");
    receiver.close();
    receiver = null;
    assertTrue(failure(first).getMessage().contains("closed before round 1 began"));
  }

  // ---- (e) names ------------------------------------------------------------------------------------

  @Test
  void namesOutsideTheDirectoryAreRefused() throws Exception {
    Path p = Files.write(src.resolve("x"), new byte[10]);
    for (String bad : List.of("../x", "..", ".", "a/b", "", "/etc/passwd", "nul\0")) {
      InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> TransferItem.file(p, bad), bad);
      assertEquals("name", e.field());
    }
    // The receiver checks again: a sender that skips the check (raw frames on a socket).
    receiver(TOKEN);
    for (String bad : List.of("../escape", "..", "sub/escape")) {
      List<Frames.Frame> replies = raw(Frames.hello(TOKEN), Frames.begin(Frames.Kind.FILE, 4, new UUID(0, 0), bad), data(0, new byte[4]));
      assertEquals(1, replies.size(), bad);
      Frames.Error err = (Frames.Error) replies.get(0);
      assertTrue(err.message().contains("must be a plain file name"), err.message());
    }
    assertFalse(Files.exists(base.resolve("escape")));
    try (Stream<Path> s = Files.list(dst)) {
      assertEquals(List.of(), s.toList(), "nothing written");
    }
    TransferException roundFailure = failure(receiver.nextRound());
    assertTrue(roundFailure.getMessage().contains("plain file name"), roundFailure.getMessage());
  }

  // ---- a checksum mismatch ------------------------------------------------------------------------

  @Test
  void digestMismatchFailsTheRoundNamingTheFile() throws Exception {
    receiver(TOKEN);
    byte[] begin = Frames.begin(Frames.Kind.FILE, 4, new UUID(0, 0), "core-1.img");
    byte[] d = data(0, new byte[] {1, 2, 3, 4});
    List<Frames.Frame> replies = raw(Frames.hello(TOKEN), begin, d, Frames.endFile(4, new byte[32]), Frames.endRound(1));
    Frames.Error err = (Frames.Error) replies.get(0);
    assertTrue(err.message().contains("file core-1.img") && err.message().contains("SHA-256"), err.message());
    TransferException e = failure(receiver.nextRound());
    assertTrue(e.getMessage().contains("core-1.img"), e.getMessage());

    // The same frames with the right digest make a round.
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(begin);
    md.update(d);
    byte[] end = Frames.endFile(4, md.digest());
    replies = raw(Frames.hello(TOKEN), begin, d, end, Frames.endRound(1));
    Frames.Ack ack = (Frames.Ack) replies.get(0);
    assertEquals(2, ack.round());
    assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(end), ack.sha256());
    assertArrayEquals(new byte[] {1, 2, 3, 4}, Files.readAllBytes(dst.resolve("core-1.img")));
  }

  // ---- (f) a connection cut mid-file --------------------------------------------------------------

  @Test
  void connectionCutMidFileFailsTheSenderNamingFileAndOffset() throws Exception {
    receiver(TOKEN);
    Path p = src.resolve("pages-big.img");
    writeRandom(p, 0, 64 * MIB, 5);
    Duration timeout = Duration.ofSeconds(10);
    long t0 = System.nanoTime();
    CompletionStage<RoundReport> sending = TransferSender.send(system, "127.0.0.1", receiver.port(), TOKEN, List.of(TransferItem.file(p)),
        8 * MIB, timeout);
    CompletionStage<RoundReport> round = receiver.nextRound();
    Thread.sleep(1000);
    assertFalse(sending.toCompletableFuture().isDone(), "still sending after 1 s at 8 MiB/s");
    receiver.close();
    TransferException e = failure(sending);
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(seconds < timeout.toSeconds(), "failed after " + seconds + " s, within its timeout");
    assertTrue(e.getMessage().contains("file pages-big.img at offset "), e.getMessage());
    TransferException r = failure(round);
    assertTrue(r.getMessage().contains("pages-big.img"), r.getMessage());
  }

  @Test
  void silentReceiverFailsTheSenderAfterItsTimeout() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Path p = src.resolve("pages.img");
      writeRandom(p, 0, 32 * MIB, 6); // more than the sockets' buffers hold
      long t0 = System.nanoTime();
      CompletionStage<RoundReport> sending = TransferSender.send(system, "127.0.0.1", silent.getLocalPort(), TOKEN, List.of(TransferItem.file(p)), 0,
          Duration.ofSeconds(2));
      try (Socket accepted = silent.accept()) {
        TransferException e = failure(sending);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds >= 1.9 && seconds < 15, "failed after " + seconds + " s");
        assertTrue(e.getMessage().contains("pages.img") && e.getMessage().toLowerCase().contains("idle"), e.getMessage());
      }
    }
  }

  @Test
  void nothingListeningFailsAtOnce() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path p = Files.write(src.resolve("x.img"), new byte[10]);
    TransferException e = failure(TransferSender.send(system, "127.0.0.1", port, TOKEN, List.of(TransferItem.file(p)), 0, TIMEOUT));
    assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
  }

  // ---- (g) the bandwidth limit --------------------------------------------------------------------

  @Test
  void bandwidthLimitHolds() throws Exception {
    receiver(TOKEN);
    Path p = src.resolve("pages.img");
    writeRandom(p, 0, 64 * MIB, 9);
    long t0 = System.nanoTime();
    RoundReport r = get(TransferSender.send(system, "127.0.0.1", receiver.port(), TOKEN, List.of(TransferItem.file(p)), 32 * MIB, TIMEOUT));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertEquals(64 * MIB, r.bytes());
    assertTrue(seconds >= 1.8, "64 MiB at 32 MiB/s took " + seconds + " s");
  }

  // ---- bad input ------------------------------------------------------------------------------------

  @Test
  void badArgumentsAreRefusedBeforeAnything() throws Exception {
    Path p = Files.write(src.resolve("x"), new byte[1]);
    List<TransferItem> one = List.of(TransferItem.file(p));
    assertEquals("token", assertThrows(InvalidFieldException.class,
        () -> TransferSender.send(system, "127.0.0.1", 1, "short", one, 0, TIMEOUT)).field());
    assertEquals("port", assertThrows(InvalidFieldException.class,
        () -> TransferSender.send(system, "127.0.0.1", 0, TOKEN, one, 0, TIMEOUT)).field());
    assertEquals("bytesPerSecond", assertThrows(InvalidFieldException.class,
        () -> TransferSender.send(system, "127.0.0.1", 1, TOKEN, one, 100, TIMEOUT)).field());
    assertEquals("timeout", assertThrows(InvalidFieldException.class,
        () -> TransferSender.send(system, "127.0.0.1", 1, TOKEN, one, 0, Duration.ZERO)).field());
    assertEquals("items[1].name", assertThrows(InvalidFieldException.class,
        () -> TransferSender.send(system, "127.0.0.1", 1, TOKEN, List.of(TransferItem.file(p), TransferItem.file(p)), 0, TIMEOUT)).field());
    assertEquals("items[0].path", assertThrows(InvalidFieldException.class,
        () -> TransferSender.send(system, "127.0.0.1", 1, TOKEN, List.of(TransferItem.file(src.resolve("missing"))), 0, TIMEOUT)).field());
    assertEquals("intoDir", assertThrows(InvalidFieldException.class,
        () -> TransferReceiver.bind(system, "127.0.0.1", src.resolve("missing"), TOKEN, TIMEOUT)).field());
  }

  // ---- helpers --------------------------------------------------------------------------------------

  /** 1 GiB apparent, three data extents: 1 MiB at 0, 3 MiB + 123 bytes at 300 MiB, 512 KiB at the end. */
  private Path sparseImage() throws IOException {
    Path image = src.resolve("disk.img");
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(1024 * MIB);
    }
    writeRandom(image, 0, MIB, 1);
    writeRandom(image, 300 * MIB, 3 * MIB + 123, 2);
    writeRandom(image, 1024 * MIB - 512 * 1024, 512 * 1024, 3);
    return image;
  }

  private static void writeRandom(Path file, long offset, long length, long seed) throws IOException {
    Random rnd = new Random(seed);
    byte[] b = new byte[(int) Math.min(length, MIB)];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (long pos = offset; pos < offset + length; ) {
        int n = (int) Math.min(b.length, offset + length - pos);
        rnd.nextBytes(b);
        ByteBuffer buf = ByteBuffer.wrap(b, 0, n);
        while (buf.hasRemaining()) pos += ch.write(buf, pos);
      }
    }
  }

  private static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] b = new byte[1 << 20];
      for (int n; (n = in.read(b)) > 0; ) md.update(b, 0, n);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** Allocated 512-byte blocks, as the kernel counts them. */
  private static long blocks(Path file) throws Exception {
    Process p = new ProcessBuilder("stat", "-c", "%b", file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) fail("stat " + file + ": " + out);
    return Long.parseLong(out);
  }

  private static byte[] data(long offset, byte[] bytes) {
    byte[] f = Frames.dataFrame(offset, bytes.length);
    System.arraycopy(bytes, 0, f, Frames.DATA_HEADER, bytes.length);
    return f;
  }

  /** Frames written on a plain socket (no sender's checks), then the replies until the receiver closes. */
  private List<Frames.Frame> raw(byte[]... frames) throws IOException {
    try (Socket s = new Socket("127.0.0.1", receiver.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      for (byte[] f : frames) out.write(f);
      out.flush();
      s.shutdownOutput();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      s.getInputStream().transferTo(got);
      ByteBuffer b = ByteBuffer.wrap(got.toByteArray());
      List<Frames.Frame> replies = new ArrayList<>();
      while (b.remaining() >= Frames.HEADER) {
        int len = b.getInt(b.position() + 1);
        byte[] f = new byte[Frames.HEADER + len];
        b.get(f);
        replies.add(Frames.parse(f));
      }
      return replies;
    }
  }

  private static <T> T get(CompletionStage<T> stage) throws Exception {
    try {
      return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception x) throw x;
      throw e;
    }
  }

  private static TransferException failure(CompletionStage<?> stage) throws InterruptedException, TimeoutException {
    try {
      Object r = stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + r);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TransferException t) return t;
      throw new AssertionError("expected a TransferException", e.getCause());
    }
  }
}
