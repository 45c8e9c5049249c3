package io.berth.isolation.fence;

import io.berth.isolation.IsolationConfig;
import io.berth.isolation.cgroup.CgroupFiles;
import io.berth.isolation.cgroup.CgroupVersion;
import io.berth.isolation.process.Commands;
import io.berth.isolation.process.Helper;
import io.berth.isolation.process.Procs;
import io.berth.protocol.InvalidFieldException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JVM's side of {@code berth-watchdog} (src/main/c/watchdog, see its README): the per-host fencing watchdog
 * of one data root, a process of its own outside the JVM (its own session, re-parented to init), fed over the
 * unix socket {@code <dataRoot>/watchdog/sock}. Fed with a deadline it fences unless fed again within it:
 * freezes every container cgroup under the data root's cgroup root, SIGKILLs every process in them, thaws
 * so the kills land, and writes a {@link FenceRecord} the node reads when it comes back.
 *
 * <ul>
 *   <li>{@link #start}: attaches to the data root's running watchdog (and feeds it), or starts one armed with
 *       the deadline. One per data root: the program holds a lock for its life and a second one refuses;
 *       {@code start} then attaches (it takes over the feeding, never the process, see the README for why).
 *   <li>{@link #feed}: "fence unless fed again within {@code deadline}". {@link #disarm}: stops it without
 *       fencing (a clean shutdown). {@link #close}: only closes this JVM's connection; the watchdog and its
 *       deadline go on, as when the JVM dies.
 *   <li>{@link #fencedRecords} / {@link #acknowledge}: what it fenced while the node was away; the node
 *       records each as an event, then acknowledges it (the file is deleted): at least once.
 * </ul>
 *
 * <p>Not thread-safe beyond one call at a time: the calls are synchronized, each waits at most
 * {@link #REPLY_TIMEOUT} for the reply.
 */
public final class Watchdog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);
  /** Where the Maven build puts the compiled watchdog inside the module's jar. */
  public static final String RESOURCE = "/io/berth/isolation/native/berth-watchdog";
  /** The program's bounds (MIN_DEADLINE_MS, MAX_DEADLINE_MS in berth-watchdog.c). */
  public static final Duration MIN_DEADLINE = Duration.ofMillis(100);
  public static final Duration MAX_DEADLINE = Duration.ofMinutes(10);
  public static final Duration REPLY_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration LAUNCH_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(5);
  /** sockaddr_un's sun_path holds 108 bytes, the terminating NUL included. */
  private static final int SUN_PATH_MAX = 107;

  private final Path dataRoot;
  private final SocketChannel channel;
  private final Selector selector;
  private final int pid;
  private final long pidStart;
  private final boolean attached;
  private final ByteBuffer in = ByteBuffer.allocate(512);

  private Watchdog(Path dataRoot, SocketChannel channel, Selector selector, int pid, boolean attached) {
    this.dataRoot = dataRoot;
    this.channel = channel;
    this.selector = selector;
    this.pid = pid;
    this.pidStart = Procs.startTime(pid);
    this.attached = attached;
  }

  /** {@code <dataRoot>/watchdog}: lock, sock, watchdog.log, fenced/. */
  public static Path dir(Path dataRoot) {
    return dataRoot.resolve("watchdog");
  }

  public static Path socket(Path dataRoot) {
    return dir(dataRoot).resolve("sock");
  }

  /**
   * Attaches to the data root's running watchdog and feeds it {@code deadline}, or starts one armed with it;
   * returns once it listens and is armed. Bad input (a deadline outside {@link #MIN_DEADLINE}..{@link
   * #MAX_DEADLINE}, a data root too long for a socket path) is refused before anything runs.
   */
  public static Watchdog start(IsolationConfig config, Duration deadline) {
    long ms = checkDeadline(deadline);
    Path dataRoot = config.dataRoot();
    checkSocketPath(dataRoot);
    Optional<Watchdog> running = attach(dataRoot);
    if (running.isPresent()) {
      running.get().feed(deadline);
      return running.get();
    }
    Path binary = Helper.install(RESOURCE, "berth-watchdog", dataRoot.resolve("bin"));
    CgroupFiles host = CgroupFiles.host();
    List<String> argv = List.of(binary.toString(), dataRoot.toString(), CgroupFiles.SYS_FS_CGROUP.toString(), config.cgroupRoot(),
        host.version() == CgroupVersion.V1 ? "v1" : "v2", Long.toString(ms));
    Commands.Result r = Commands.run(argv, null, LAUNCH_TIMEOUT);
    String line = r.stdout().strip();
    if (r.ok() && line.startsWith("ok ")) {
      int pid = Integer.parseInt(line.substring(3).strip());
      Watchdog w = connect(dataRoot, false).orElseThrow(() -> new WatchdogException(
          "start the watchdog of " + dataRoot + ": pid " + pid + " started but its socket " + socket(dataRoot) + " does not answer"));
      LOG.info("watchdog started dataRoot={} pid={} deadlineMs={}", dataRoot, pid, ms);
      return w;
    }
    if (line.startsWith("error already-running")) {
      // Another starter won the race for the lock: attach to its watchdog instead.
      Watchdog w = attach(dataRoot).orElseThrow(() -> new WatchdogException(
          "start the watchdog of " + dataRoot + ": one holds the lock (" + line + ") but its socket does not answer"));
      w.feed(deadline);
      return w;
    }
    throw new WatchdogException("start the watchdog of " + dataRoot + ": " + r.describe());
  }

  /** The data root's running watchdog, attached (not fed: the deadline it holds goes on); empty when none runs. */
  public static Optional<Watchdog> attach(Path dataRoot) {
    checkSocketPath(dataRoot);
    return connect(dataRoot, true);
  }

  private static Optional<Watchdog> connect(Path dataRoot, boolean attached) {
    Path sock = socket(dataRoot);
    if (!Files.exists(sock)) return Optional.empty();
    SocketChannel ch;
    Selector sel;
    try {
      ch = SocketChannel.open(UnixDomainSocketAddress.of(sock));
    } catch (IOException e) {
      // A socket file without a listener: a watchdog that was killed (the next one removes the file).
      return Optional.empty();
    }
    try {
      ch.configureBlocking(false);
      sel = Selector.open();
      ch.register(sel, SelectionKey.OP_READ);
    } catch (IOException e) {
      closeQuietly(ch);
      throw new UncheckedIOException("attach to the watchdog at " + sock, e);
    }
    Watchdog probe = new Watchdog(dataRoot, ch, sel, 0, attached);
    String status;
    try {
      status = probe.exchange("status");
    } catch (WatchdogException e) {
      probe.close();
      return Optional.empty();
    }
    String[] f = status.split(" ");
    if (f.length != 5 || !f[0].equals("ok") || !f[1].equals("armed") || !f[3].equals("pid")) {
      probe.close();
      throw new WatchdogException("attach to the watchdog at " + sock + ": unexpected status reply \"" + status + "\"");
    }
    return Optional.of(new Watchdog(dataRoot, ch, sel, Integer.parseInt(f[4]), attached));
  }

  /** Fence unless fed again within {@code deadline}; throws when the watchdog refuses it or is gone. */
  public synchronized void feed(Duration deadline) {
    long ms = checkDeadline(deadline);
    String reply = exchange("feed " + ms);
    if (!reply.equals("ok fed " + ms)) throw new WatchdogException("feed the watchdog of " + dataRoot + ": " + reply);
  }

  /** Whether its process still runs (one that fenced has exited, status 2). */
  public boolean alive() {
    return pid > 0 && Procs.isAlive(pid, pidStart);
  }

  /** How long until it fences, as it counts (CLOCK_BOOTTIME). */
  public synchronized Duration remaining() {
    String reply = exchange("status");
    String[] f = reply.split(" ");
    if (f.length != 5 || !f[0].equals("ok")) throw new WatchdogException("status of the watchdog of " + dataRoot + ": " + reply);
    return Duration.ofMillis(Long.parseLong(f[2]));
  }

  /** Stops it without fencing (a clean shutdown); returns once the process is gone. */
  public synchronized void disarm() {
    String reply = exchange("disarm");
    if (!reply.equals("ok disarmed")) throw new WatchdogException("disarm the watchdog of " + dataRoot + ": " + reply);
    long until = System.nanoTime() + EXIT_TIMEOUT.toNanos();
    while (pid > 0 && Procs.isAlive(pid, pidStart)) {
      if (System.nanoTime() > until) throw new WatchdogException("disarm the watchdog of " + dataRoot + ": pid " + pid + " still runs after " + EXIT_TIMEOUT.toMillis() + " ms");
      sleep(10);
    }
    close();
    LOG.info("watchdog disarmed dataRoot={} pid={}", dataRoot, pid);
  }

  public int pid() {
    return pid;
  }

  /** True when {@link #start} found it running (this JVM did not start it). */
  public boolean attached() {
    return attached;
  }

  /** Closes this JVM's connection only: the watchdog and its deadline go on. */
  @Override
  public void close() {
    try {
      selector.close();
    } catch (IOException e) {
      // nothing held
    }
    closeQuietly(channel);
  }

  /** What the watchdog fenced and the node has not acknowledged yet, oldest first. */
  public static List<FenceRecord> fencedRecords(Path dataRoot) {
    Path fenced = dir(dataRoot).resolve("fenced");
    List<FenceRecord> records = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(fenced)) {
      files = s.filter(p -> p.getFileName().toString().matches("[0-9]+\\.rec")).sorted().toList();
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("list " + fenced, e);
    }
    for (Path p : files) {
      try {
        records.add(FenceRecord.parse(p, Files.readAllLines(p, StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new UncheckedIOException("read fence record " + p, e);
      } catch (WatchdogException e) {
        // One unreadable record must not keep the node from starting: set aside (.bad), kept for a person to read.
        LOG.error("{}; set aside as {}.bad", e.getMessage(), p.getFileName());
        try {
          Files.move(p, p.resolveSibling(p.getFileName() + ".bad"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException moved) {
          throw new UncheckedIOException("set aside the unreadable fence record " + p, moved);
        }
      }
    }
    return records;
  }

  /**
   * Writes the record of a fence the node did itself (downed: it killed every container before leaving), beside
   * the watchdog's, so the node reports it the same way when it comes back ({@code fencedRecords}). Written whole
   * under a temporary name and renamed: a reader never sees half of it.
   */
  public static FenceRecord recordNodeFence(Path dataRoot, Instant fencedAt, Instant lastFedAt, Duration deadline, List<String> containers,
      boolean complete, Duration took) {
    Path fenced = dir(dataRoot).resolve("fenced");
    Path file = fenced.resolve(fencedAt.toEpochMilli() + ".rec");
    List<FenceRecord.Fenced> list = containers.stream().map(c -> new FenceRecord.Fenced(c, true, List.of(), complete ? 0 : 1)).toList();
    FenceRecord record = new FenceRecord(file, FenceRecord.BY_NODE, fencedAt, lastFedAt, deadline, 0, list, took);
    try {
      Files.createDirectories(fenced);
      Path tmp = fenced.resolve(file.getFileName() + ".tmp");
      Files.write(tmp, record.lines(), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("write the node's fence record " + file, e);
    }
    return record;
  }

  /** The node has recorded it: the record's file is deleted. Idempotent. */
  public static void acknowledge(FenceRecord record) {
    try {
      Files.deleteIfExists(record.file());
    } catch (IOException e) {
      throw new UncheckedIOException("acknowledge fence record " + record.file(), e);
    }
  }

  private static long checkDeadline(Duration deadline) {
    if (deadline == null || deadline.compareTo(MIN_DEADLINE) < 0 || deadline.compareTo(MAX_DEADLINE) > 0) {
      throw new InvalidFieldException("deadline", "must be between " + MIN_DEADLINE.toMillis() + " ms and " + MAX_DEADLINE.toMillis() + " ms",
          deadline == null ? null : deadline.toMillis() + " ms");
    }
    return deadline.toMillis();
  }

  private static void checkSocketPath(Path dataRoot) {
    int len = socket(dataRoot).toString().getBytes(StandardCharsets.UTF_8).length;
    if (len > SUN_PATH_MAX) {
      throw new InvalidFieldException("dataRoot", "must leave room for the watchdog's socket <dataRoot>/watchdog/sock (at most "
          + SUN_PATH_MAX + " bytes, this is " + len + ")", dataRoot);
    }
  }

  /** Sends one line, returns the one-line reply; bounded by {@link #REPLY_TIMEOUT}. */
  private synchronized String exchange(String line) {
    long until = System.nanoTime() + REPLY_TIMEOUT.toNanos();
    String what = "\"" + line + "\" to the watchdog of " + dataRoot;
    try {
      ByteBuffer out = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
      while (out.hasRemaining()) {
        if (channel.write(out) == 0) {
          if (System.nanoTime() > until) throw new WatchdogException("send " + what + ": not taken within " + REPLY_TIMEOUT.toMillis() + " ms");
          sleep(1);
        }
      }
      while (true) {
        for (int i = 0; i < in.position(); i++) {
          if (in.get(i) == '\n') {
            String reply = new String(in.array(), 0, i, StandardCharsets.UTF_8);
            int rest = in.position() - i - 1;
            System.arraycopy(in.array(), i + 1, in.array(), 0, rest);
            in.position(rest);
            return reply;
          }
        }
        if (!in.hasRemaining()) throw new WatchdogException("send " + what + ": a reply longer than " + in.capacity() + " bytes");
        long left = (until - System.nanoTime()) / 1_000_000;
        if (left <= 0) throw new WatchdogException("send " + what + ": no reply within " + REPLY_TIMEOUT.toMillis() + " ms");
        selector.select(left);
        selector.selectedKeys().clear();
        if (channel.read(in) < 0) throw new WatchdogException("send " + what + ": it closed the connection (it fenced, was disarmed or killed)");
      }
    } catch (IOException e) {
      throw new WatchdogException("send " + what + ": it is gone (it fenced, was disarmed or killed): " + e.getMessage(), e);
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      // closing a connection that failed
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WatchdogException("interrupted while talking to the watchdog", e);
    }
  }
}
