package io.berth.isolation.lxcfs;

import io.berth.isolation.nativ.SyscallException;
import io.berth.isolation.nativ.Syscalls;
import io.berth.isolation.rootfs.Rootfs;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one LXCFS of a data root: {@code <dataRoot>/lxcfs/mount} (the FUSE mount whose files the
 * containers' inits bind over their /proc files), {@code lxcfs.pid}, {@code lxcfs.log}.
 *
 * <ul>
 *   <li><b>Started on first need</b> ({@link #ensure()}, from a container's start or restore), detached
 *       from this JVM ({@code setsid --fork}: LXCFS 5.0 runs in the foreground), so it outlives an owner
 *       restart as the containers that hold its bind mounts do.
 *   <li><b>Adopted</b>: a restarted owner finds the daemon by its pidfile (the pid's command line must
 *       name this mount) and, when it answers, uses it instead of starting a second one over it.
 *   <li><b>Supervised</b>: once wanted, a thread checks every {@code interval} that the daemon lives and
 *       answers a read of {@code proc/meminfo} within {@link #PROBE_TIMEOUT}. A dead one leaves its
 *       mount answering ENOTCONN, and so does every container's bind of it (they share the dead FUSE
 *       connection; LXCFS's docs say the same of a restart, hence its SIGUSR1 live reload): the mount is
 *       detached, a new daemon started, and {@code onNewDaemon} called so the layer replaces the binds
 *       in the running containers. A hung one is killed first (SIGKILL aborts its FUSE connection, which
 *       also frees a probe stuck on it).
 *   <li><b>Stopped</b> only when asked ({@link #stop}): containers outlive the owner, so neither the
 *       owner's close nor a destroy ends it; {@code berth down} and tests do.
 * </ul>
 *
 * Options: {@code --enable-cfs} (cpuinfo, stat and cpu/online count the cpus the CFS quota gives, within
 * the cpuset), {@code --enable-loadavg} (each container's own load average), {@code --enable-pidfd}
 * (pidfds, not pids, track the readers' inits).
 */
public final class Lxcfs implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Lxcfs.class);
  /** The files LXCFS 5.0 serves that the container has its own of (the same list as src/main/c/lxcfs.c). */
  public static final List<String> FILES = List.of("proc/cpuinfo", "proc/diskstats", "proc/loadavg", "proc/meminfo",
      "proc/stat", "proc/swaps", "proc/slabinfo", "sys/devices/system/cpu/online");
  public static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
  static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  private static final List<String> OPTIONS = List.of("--enable-cfs", "--enable-loadavg", "--enable-pidfd");
  private static final int SIGTERM = 15;
  private static final int SIGKILL = 9;

  private final Path dir;
  private final Path mount;
  private final Path pidfile;
  private final Path log;
  private final Optional<Path> binary;
  private final Duration interval;
  private final Consumer<Path> onNewDaemon;
  /** Probes read the FUSE mount on their own threads: a hung daemon blocks a reader until it is killed. */
  private final ExecutorService probes = Executors.newCachedThreadPool(r -> daemon(r, "lxcfs-probe"));
  private ScheduledExecutorService supervisor;
  private boolean failing;

  /**
   * @param dir         {@code <dataRoot>/lxcfs}
   * @param binary      the lxcfs executable; empty when it is not installed (every {@link #ensure} then fails, saying so)
   * @param interval    how often the supervisor checks the daemon
   * @param onNewDaemon called on the supervisor's thread with the mount each time a new daemon answers
   */
  public Lxcfs(Path dir, Optional<Path> binary, Duration interval, Consumer<Path> onNewDaemon) {
    this.dir = dir;
    this.mount = dir.resolve("mount");
    this.pidfile = dir.resolve("lxcfs.pid");
    this.log = dir.resolve("lxcfs.log");
    this.binary = binary;
    this.interval = interval;
    this.onNewDaemon = onNewDaemon;
  }

  /** {@code lxcfs} on PATH (Debian's package puts it in /usr/bin), if installed. */
  public static Optional<Path> onPath() {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String d : (path + ":/usr/bin:/usr/sbin").split(":")) {
      if (d.isEmpty()) continue;
      Path p = Path.of(d, "lxcfs");
      if (Files.isExecutable(p)) return Optional.of(p);
    }
    return Optional.empty();
  }

  /** The FUSE mount the containers' files are bound from. */
  public Path mount() {
    return mount;
  }

  /** The running daemon of this mount: the pidfile's pid, if that process is an lxcfs serving this mount. */
  public OptionalInt pid() {
    int p;
    try {
      p = Integer.parseInt(Files.readString(pidfile).strip());
    } catch (IOException | NumberFormatException e) {
      return OptionalInt.empty();
    }
    return servesThisMount(p) ? OptionalInt.of(p) : OptionalInt.empty();
  }

  private boolean servesThisMount(int p) {
    byte[] raw;
    try {
      raw = Files.readAllBytes(Path.of("/proc", Integer.toString(p), "cmdline"));
    } catch (IOException e) {
      return false; // gone (a zombie has an empty command line and fails below too)
    }
    String[] argv = new String(raw, StandardCharsets.UTF_8).split("\0");
    return argv.length > 1 && argv[0].endsWith("lxcfs") && argv[argv.length - 1].equals(mount.toString());
  }

  /** True when the mount answers a read of proc/meminfo within {@link #PROBE_TIMEOUT}. */
  public boolean answers() {
    Future<Boolean> read = probes.submit(() -> {
      try (BufferedReader r = Files.newBufferedReader(mount.resolve("proc/meminfo"))) {
        String first = r.readLine();
        return first != null && first.startsWith("MemTotal:");
      } catch (IOException e) {
        return false; // ENOTCONN (dead daemon), ENOENT (not mounted)
      }
    });
    try {
      return read.get(PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * The mount of a daemon that answers: the running one adopted, or a new one started (a dead or hung
   * one killed and its mount detached first). Starts supervising. Throws when none can be made to
   * answer (not installed, FUSE missing, timed out), with the reason and the log's tail.
   */
  public synchronized Path ensure() {
    startSupervising();
    boolean started = healthyOrRestart();
    if (started) notifyNewDaemon();
    return mount;
  }

  /** True when it had to start a new daemon; throws when that failed. */
  private boolean healthyOrRestart() {
    OptionalInt running = pid();
    if (running.isPresent() && answers()) return false;
    if (binary.isEmpty()) {
      throw new LxcfsException("lxcfs is not installed (no lxcfs on PATH; bin/setup-host installs Debian's package)");
    }
    if (running.isPresent()) {
      LOG.warn("lxcfs pid={} on {} does not answer within {} ms: killing it", running.getAsInt(), mount, PROBE_TIMEOUT.toMillis());
      Syscalls.kill(running.getAsInt(), SIGKILL);
      awaitGone(running.getAsInt(), Duration.ofSeconds(5));
    }
    detachMount();
    start();
    return true;
  }

  private void start() {
    try {
      Files.createDirectories(mount);
      Files.deleteIfExists(pidfile);
    } catch (IOException e) {
      throw new UncheckedIOException("prepare " + dir, e);
    }
    List<String> argv = new java.util.ArrayList<>(List.of("setsid", "--fork", binary.get().toString()));
    argv.addAll(OPTIONS);
    argv.addAll(List.of("-p", pidfile.toString(), mount.toString()));
    ProcessBuilder pb = new ProcessBuilder(argv)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectErrorStream(true);
    long t0 = System.nanoTime();
    try {
      Process p = pb.start();
      if (!p.waitFor(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new LxcfsException("start lxcfs on " + mount + ": setsid did not hand it over: " + logTail());
      }
    } catch (IOException e) {
      throw new LxcfsException("start lxcfs on " + mount + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LxcfsException("start lxcfs on " + mount + ": interrupted");
    }
    long deadline = t0 + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      OptionalInt p = pid();
      if (p.isPresent() && answers()) {
        LOG.info("lxcfs started pid={} mount={} in {} ms", p.getAsInt(), mount, (System.nanoTime() - t0) / 1_000_000);
        return;
      }
      sleep(10);
    }
    pid().ifPresent(p -> Syscalls.kill(p, SIGKILL));
    throw new LxcfsException("start lxcfs on " + mount + ": it did not answer within " + START_TIMEOUT.toSeconds() + " s: " + logTail());
  }

  private void detachMount() {
    if (!Rootfs.isMountPoint(mount)) return;
    try {
      Syscalls.umount2(mount.toString(), Syscalls.MNT_DETACH);
    } catch (SyscallException e) {
      if (!e.errnoName().equals("EINVAL") && !e.errnoName().equals("ENOENT")) throw e;
    }
  }

  private void startSupervising() {
    if (supervisor != null) return;
    supervisor = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "lxcfs-supervisor " + dir));
    supervisor.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void check() {
    boolean started;
    synchronized (this) {
      if (supervisor == null) return;
      try {
        started = healthyOrRestart();
        if (failing) LOG.info("lxcfs on {} answers again", mount);
        failing = false;
      } catch (RuntimeException e) {
        // Logged once per failing streak; tried again at every tick.
        if (!failing) LOG.warn("lxcfs on {} is down and could not be restarted (trying every {} ms): {}", mount, interval.toMillis(), e.getMessage());
        failing = true;
        return;
      }
    }
    if (started) {
      LOG.warn("lxcfs on {} had died or hung: restarted as pid={}", mount, pid().orElse(-1));
      onNewDaemonQuietly();
    }
  }

  private void notifyNewDaemon() {
    ScheduledExecutorService s = supervisor;
    if (s != null) s.execute(this::onNewDaemonQuietly);
  }

  private void onNewDaemonQuietly() {
    try {
      onNewDaemon.accept(mount);
    } catch (RuntimeException e) {
      LOG.warn("after lxcfs on {} was (re)started: {}", mount, e.toString());
    }
  }

  /**
   * Stops supervising, ends the daemon (SIGTERM: it unmounts itself; SIGKILL after {@code timeout}/2)
   * and detaches its mount. Containers still holding binds of it would read ENOTCONN: the caller makes
   * sure none runs.
   */
  public synchronized void stop(Duration timeout) {
    stopSupervising();
    OptionalInt p = pid();
    if (p.isPresent()) {
      Syscalls.kill(p.getAsInt(), SIGTERM);
      if (!awaitGone(p.getAsInt(), timeout.dividedBy(2))) {
        Syscalls.kill(p.getAsInt(), SIGKILL);
        if (!awaitGone(p.getAsInt(), timeout.dividedBy(2))) {
          throw new LxcfsException("stop lxcfs pid " + p.getAsInt() + " on " + mount + ": still alive after SIGKILL");
        }
      }
      LOG.info("lxcfs stopped pid={} mount={}", p.getAsInt(), mount);
    }
    detachMount();
    try {
      Files.deleteIfExists(pidfile);
    } catch (IOException e) {
      throw new UncheckedIOException("remove " + pidfile, e);
    }
  }

  private boolean awaitGone(int p, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (servesThisMount(p)) {
      if (System.nanoTime() > deadline) return false;
      sleep(10);
    }
    return true;
  }

  private void stopSupervising() {
    if (supervisor != null) supervisor.shutdownNow();
    supervisor = null;
  }

  private String logTail() {
    try {
      if (!Files.exists(log)) return "(no log at " + log + ")";
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LxcfsException("interrupted while waiting for lxcfs");
    }
  }

  /** Stops supervising; the daemon keeps serving the containers (they never depend on this object). */
  @Override
  public synchronized void close() {
    stopSupervising();
    probes.shutdownNow();
  }
}
