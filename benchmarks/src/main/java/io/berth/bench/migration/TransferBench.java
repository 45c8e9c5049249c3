package io.berth.bench.migration;

import com.typesafe.config.ConfigFactory;
import io.berth.bench.Results;
import io.berth.node.migration.transfer.DiskImageSync;
import io.berth.node.migration.transfer.RoundReport;
import io.berth.node.migration.transfer.TransferItem;
import io.berth.node.migration.transfer.TransferReceiver;
import io.berth.node.migration.transfer.TransferSender;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The migration transfer over loopback, between two tmpfs directories (as CRIU images are), against what moves the
 * same bytes with less: {@code cp} between the two directories (no network), and a plain java.nio socket copy
 * ({@code transferTo}/{@code transferFrom}: no framing, no digest, no Pekko). Then a sparse disk image (10 GiB
 * apparent, 256 MiB of data in 64 extents): its first round against {@code cp --sparse=always}, and its later
 * rounds with nothing changed and with 16 MiB changed (what a migration pays while the container is frozen), and
 * the fixed cost of a round (one 4 KiB file).
 * Figures are MB/s (10^6 bytes per second: higher is better, the ratio is Berth over the baseline) or ms.
 *
 * <p>Needs no root: {@code java -cp <classpath> io.berth.bench.migration.TransferBench [iterations]} (classpath as in
 * the module README). Uses {@code /dev/shm} (about 1.3 GB at most while it runs).
 */
public final class TransferBench {
  private static final long MIB = 1L << 20;
  private static final long FILE_BYTES = 256 * MIB;
  private static final String TOKEN = "transfer-bench-token-0123456789";
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private TransferBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    Results results = new Results("migration-transfer");
    Path base = Files.createTempDirectory(Path.of("/dev/shm"), "berth-transfer-bench-");
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "transfer-bench", ConfigFactory.parseString(
        "pekko.actor.provider = local\npekko.loglevel = WARNING\npekko.coordinated-shutdown.exit-jvm = off\n")
        .withFallback(ConfigFactory.defaultReference()));
    try {
      Path src = Files.createDirectory(base.resolve("src"));
      Path dst = Files.createDirectory(base.resolve("dst"));
      Path file = src.resolve("pages-1.img");
      writeRandom(file, 0, FILE_BYTES, 1);
      TransferReceiver receiver = TransferReceiver.bind(system, "127.0.0.1", dst, TOKEN, TIMEOUT).toCompletableFuture().get(30, TimeUnit.SECONDS);
      try {
        double[] berth = new double[n];
        double[] cp = new double[n];
        double[] nio = new double[n];
        for (int i = -2; i < n; i++) {
          Files.deleteIfExists(dst.resolve("pages-1.img"));
          long t0 = System.nanoTime();
          RoundReport r = TransferSender.send(system, "127.0.0.1", receiver.port(), TOKEN, List.of(TransferItem.file(file)), 0, TIMEOUT)
              .toCompletableFuture().get(120, TimeUnit.SECONDS);
          long t1 = System.nanoTime();
          if (r.bytes() != FILE_BYTES) throw new IllegalStateException("sent " + r.bytes());
          Files.deleteIfExists(dst.resolve("cp.img"));
          long c0 = System.nanoTime();
          run("cp", file.toString(), dst.resolve("cp.img").toString());
          long c1 = System.nanoTime();
          Files.deleteIfExists(dst.resolve("nio.img"));
          long s0 = System.nanoTime();
          nioCopy(file, dst.resolve("nio.img"));
          long s1 = System.nanoTime();
          if (i >= 0) {
            berth[i] = mbps(FILE_BYTES, t1 - t0);
            cp[i] = mbps(FILE_BYTES, c1 - c0);
            nio[i] = mbps(FILE_BYTES, s1 - s0);
          }
        }
        results.record("transfer 256 MiB file, loopback, tmpfs to tmpfs (MB/s, higher is better)", "MB/s", Results.median(berth), Double.NaN,
            "cp tmpfs to tmpfs", Results.median(cp));
        results.record("transfer 256 MiB file vs plain NIO socket copy (MB/s, higher is better)", "MB/s", Results.median(berth), Double.NaN,
            "java.nio transferTo/transferFrom", Results.median(nio));
        Files.deleteIfExists(file);
        for (String name : List.of("pages-1.img", "cp.img", "nio.img")) Files.deleteIfExists(dst.resolve(name));

        Path small = src.resolve("core-1.img");
        writeRandom(small, 0, 4096, 2);
        double[] fixed = new double[4 * n];
        for (int i = -5; i < fixed.length; i++) {
          long t0 = System.nanoTime();
          TransferSender.send(system, "127.0.0.1", receiver.port(), TOKEN, List.of(TransferItem.file(small)), 0, TIMEOUT)
              .toCompletableFuture().get(60, TimeUnit.SECONDS);
          if (i >= 0) fixed[i] = (System.nanoTime() - t0) / 1e6;
        }
        results.record("round of one 4 KiB file (connect, HELLO, ACK)", "ms", Results.median(fixed), Results.percentile(fixed, 99), null, Double.NaN);

        image(system, receiver, src, dst, n, results);
      } finally {
        receiver.close();
      }
      fingerprints(results);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
      try (Stream<Path> s = Files.walk(base)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
  }

  /** A 10 GiB image with 256 MiB of data: first round vs cp --sparse=always, later rounds unchanged and with 16 MiB changed. */
  private static void image(ActorSystem<Void> system, TransferReceiver receiver, Path src, Path dst, int n, Results results) throws Exception {
    Path image = src.resolve("disk.img");
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(10L << 30);
    }
    for (int e = 0; e < 64; e++) writeRandom(image, e * 160 * MIB, 4 * MIB, 100 + e);
    long data = 64 * 4 * MIB;
    double[] full = new double[n];
    double[] cp = new double[n];
    double[] unchanged = new double[n];
    double[] changed = new double[n];
    for (int i = -1; i < n; i++) {
      DiskImageSync sync = new DiskImageSync(image);
      long t0 = System.nanoTime();
      RoundReport first = send(system, receiver, sync);
      long t1 = System.nanoTime();
      RoundReport none = send(system, receiver, sync);
      long t2 = System.nanoTime();
      for (int k = 0; k < 16; k++) writeRandom(image, k * 640 * MIB + 4096, 4096, 1000 + i * 16 + k); // 16 chunks touched
      long t3 = System.nanoTime();
      RoundReport some = send(system, receiver, sync);
      long t4 = System.nanoTime();
      if (first.bytes() != data || none.bytes() != 0 || some.bytes() != 16 * MIB) {
        throw new IllegalStateException("rounds sent " + first.bytes() + ", " + none.bytes() + ", " + some.bytes());
      }
      Files.deleteIfExists(dst.resolve("cp.img"));
      long c0 = System.nanoTime();
      run("cp", "--sparse=always", image.toString(), dst.resolve("cp.img").toString());
      long c1 = System.nanoTime();
      Files.deleteIfExists(dst.resolve("cp.img"));
      if (i >= 0) {
        full[i] = mbps(data, t1 - t0);
        cp[i] = mbps(data, c1 - c0);
        unchanged[i] = (t2 - t1) / 1e6;
        changed[i] = (t4 - t3) / 1e6;
      }
    }
    results.record("disk image 10 GiB / 256 MiB data, first round (MB/s of data, higher is better)", "MB/s", Results.median(full), Double.NaN,
        "cp --sparse=always tmpfs to tmpfs", Results.median(cp));
    results.record("disk image 256 MiB data, later round, nothing changed", "ms", Results.median(unchanged), Results.percentile(unchanged, 99),
        null, Double.NaN);
    results.record("disk image 256 MiB data, later round, 16 MiB changed", "ms", Results.median(changed), Results.percentile(changed, 99), null,
        Double.NaN);
    Files.deleteIfExists(image);
    Files.deleteIfExists(dst.resolve("disk.img"));
  }

  /** Why chunks are fingerprinted with CRCs: their speed against SHA-256 on 1 MiB buffers. */
  private static void fingerprints(Results results) throws Exception {
    byte[] buf = new byte[(int) MIB];
    new Random(7).nextBytes(buf);
    int rounds = 512;
    double[] crc = new double[5];
    double[] sha = new double[5];
    for (int i = -2; i < 5; i++) {
      long t0 = System.nanoTime();
      CRC32C c = new CRC32C();
      CRC32 d = new CRC32();
      for (int k = 0; k < rounds; k++) {
        c.update(buf, 0, buf.length);
        d.update(buf, 0, buf.length);
      }
      long t1 = System.nanoTime();
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (int k = 0; k < rounds; k++) md.update(buf);
      md.digest();
      long t2 = System.nanoTime();
      if (i >= 0) {
        crc[i] = mbps(rounds * MIB, t1 - t0);
        sha[i] = mbps(rounds * MIB, t2 - t1);
      }
    }
    results.record("chunk fingerprint CRC32C+CRC32 (MB/s, higher is better)", "MB/s", Results.median(crc), Double.NaN, "SHA-256",
        Results.median(sha));
  }

  private static RoundReport send(ActorSystem<Void> system, TransferReceiver receiver, DiskImageSync sync) throws Exception {
    return TransferSender.send(system, "127.0.0.1", receiver.port(), TOKEN, List.of(TransferItem.diskImage(sync)), 0, TIMEOUT)
        .toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  /** The least a socket copy does: the kernel moves file to socket and socket to file, nothing checked. */
  private static void nioCopy(Path from, Path to) throws Exception {
    try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
      int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
      CompletableFuture<Void> receiving = CompletableFuture.runAsync(() -> {
        try (SocketChannel in = server.accept(); FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          long pos = 0;
          for (long k; (k = out.transferFrom(in, pos, 8 * MIB)) > 0; ) pos += k;
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      try (SocketChannel out = SocketChannel.open(new InetSocketAddress("127.0.0.1", port)); FileChannel in = FileChannel.open(from)) {
        long size = in.size();
        for (long pos = 0; pos < size; ) pos += in.transferTo(pos, size - pos, out);
      }
      receiving.get(120, TimeUnit.SECONDS);
    }
    if (Files.size(to) != Files.size(from)) throw new IllegalStateException("nio copy: " + Files.size(to) + " bytes");
  }

  private static void writeRandom(Path file, long offset, long length, long seed) throws IOException {
    Random rnd = new Random(seed);
    byte[] b = new byte[(int) Math.min(length, MIB)];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (long pos = offset; pos < offset + length; ) {
        int k = (int) Math.min(b.length, offset + length - pos);
        rnd.nextBytes(b);
        ByteBuffer buf = ByteBuffer.wrap(b, 0, k);
        while (buf.hasRemaining()) pos += ch.write(buf, pos);
      }
    }
  }

  private static void run(String... argv) throws Exception {
    Process p = new ProcessBuilder(argv).inheritIO().start();
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(String.join(" ", argv) + " failed");
  }

  private static double mbps(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
  }
}
