package io.berth.isolation.checkpoint;

import io.berth.isolation.nativ.Syscalls;
import io.berth.isolation.process.Procs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code criu dump} that holds the dumped tasks frozen after the dump until a decision arrives, as
 * LXD and P.Haul do for live migration. CRIU runs its action script ({@code --action-script}) with
 * {@code CRTOOLS_SCRIPT_ACTION=post-dump} once every image is written, while the tasks are still
 * stopped under ptrace, and waits for it: exit 0 and CRIU kills the tasks (no {@code --leave-running}),
 * any other status and the dump "fails" and CRIU lets the tasks go on where they were (criu exits 255).
 * Seen on this machine's CRIU 4.2.1.
 *
 * <p>The hook and the decision are files in a control directory beside the images,
 * {@code <imagesDir>.hold/} (mode 0700), so any process (a new owner after the one that started the
 * dump died) can find a hold and settle it:
 * <pre>
 *   hook.sh   the action script: at post-dump, opens the FIFO, writes held, waits for one line (bounded)
 *   dump.sh   runs the criu command line in the background, writes criu.pid, waits, writes status
 *   decision  FIFO: "commit" or "resume", one line
 *   target    the dumped pid (the container's init)
 *   procs     the cgroup.procs files of the container's cgroups, one per line (what the wrapper kills, below)
 *   criu.pid  criu's pid;  held: the hook's pid, once the hold is reached
 *   outcome   what the hook did: commit | resume | expired;  status: criu's exit status
 *   criu.out  what dump.sh and criu wrote on stdout and stderr (CRIU's own log is images/dump.log)
 * </pre>
 * {@code dump.sh} runs under {@code setsid --fork}: its own session, not a child of the JVM, with no
 * pipe to it, so neither it nor CRIU nor the hook ends when the JVM that started them does.
 *
 * <p><b>After a commit nothing of the source may run</b>, whatever CRIU's status: with {@code --lazy-pages}
 * CRIU serves the memory pages after the hook said commit and, when that transfer fails (the target's
 * daemon or the network went away), lets the tasks go on. So the wrapper, once CRIU has exited with a
 * non-zero status after a commit (or the bound's expiry), SIGKILLs every process of the container's
 * cgroups before it writes the status. For the few milliseconds between CRIU's exit and the kill the
 * tasks run with their network still locked by CRIU (nftables): nothing leaves the host.
 *
 * <p>The wait is a blocking read of the FIFO ({@code timeout BOUND head -n 1}), not a poll: a decision
 * reaches CRIU as soon as it is written. The hook opens the FIFO read-write before it says it is held,
 * so a decision written at once is buffered rather than lost, and a writer never blocks on it.
 *
 * <p><b>The bound.</b> Without a decision within {@code holdBound} (counted from the hold) the hook
 * exits 0: CRIU kills the source (a lazy dump's CRIU would first wait for a daemon to take the pages, so there
 * the hook kills the container's processes and then CRIU itself). Never two running copies matters more than a lost memory image; the
 * images stay, and the caller records the loss ({@code outcome} says {@code expired}). What the hook
 * cannot guard against: CRIU or the hook killed by someone else resumes the source (a killed script is
 * a non-zero status to CRIU, a dead tracer lets its tracees go), so nothing may end them but a decision.
 */
public final class HeldDump {
  /** What a caller asks. */
  public enum Decision {
    COMMIT, RESUME;

    String line() {
      return name().toLowerCase(Locale.ROOT) + "\n";
    }
  }

  /** What the hook did: as asked, or {@code EXPIRED} (no decision within the bound: the source was killed). */
  public enum Outcome { COMMIT, RESUME, EXPIRED }

  private static final String HOOK = "hook.sh";
  private static final String WRAPPER = "dump.sh";
  private static final String FIFO = "decision";
  private static final String TARGET = "target";
  private static final String PROCS = "procs";
  private static final String CRIU_PID = "criu.pid";
  private static final String HELD = "held";
  private static final String OUTCOME = "outcome";
  private static final String STATUS = "status";
  private static final String OUT = "criu.out";
  /** How long the wrapper may take to start CRIU and name it (a spawn or two). */
  private static final Duration LAUNCH = Duration.ofSeconds(10);
  /** How long the wrapper may take to write CRIU's status once CRIU is gone (one shell builtin). */
  private static final Duration STATUS_GRACE = Duration.ofSeconds(2);

  private final Path imagesDir;
  private final Path dir;
  private final long launchedNanos;
  private volatile long heldAtNanos;
  private volatile long exitedNanos;
  /** CRIU's start time (proc's field 22) once its command line was seen to name the images: no pid reuse after. */
  private volatile long criuStart = -2;

  private HeldDump(Path imagesDir, long launchedNanos) {
    this.imagesDir = imagesDir;
    this.dir = controlDir(imagesDir);
    this.launchedNanos = launchedNanos;
  }

  /** {@code <imagesDir>.hold}, beside the images (not in them: the images directory is what is sent). */
  public static Path controlDir(Path imagesDir) {
    return imagesDir.resolveSibling(imagesDir.getFileName() + ".hold");
  }

  /**
   * Writes the control directory and starts {@code dumpArgv} (a {@code criu dump} command line without
   * {@code --leave-running}; the action script is added here) in its own session; returns once CRIU runs
   * and is named. A control directory left by an earlier, finished hold is replaced; a live one refused.
   */
  public static HeldDump launch(List<String> dumpArgv, int targetPid, List<Path> procsFiles, Path imagesDir, Duration holdBound) {
    Path dir = controlDir(imagesDir);
    Path setsid = tool("setsid");
    String hook = hookScript(tool("timeout"), tool("head"), holdBound, dumpArgv.contains("--lazy-pages"));
    try {
      if (Files.exists(dir)) {
        HeldDump old = new HeldDump(imagesDir, System.nanoTime());
        if (old.criuAlive()) throw new CriuException("a held dump into " + imagesDir + " is still running (criu " + old.criuPid() + ")", "");
        old.removeControlDir();
      }
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      writeScript(dir.resolve(HOOK), hook);
      writeScript(dir.resolve(WRAPPER), WRAPPER_SCRIPT);
      Files.writeString(dir.resolve(TARGET), targetPid + "\n");
      StringBuilder procs = new StringBuilder();
      for (Path f : procsFiles) {
        if (f.toString().matches(".*\\s.*")) throw new CriuException("cgroup file " + f + " has white space in its path", "");
        procs.append(f).append('\n');
      }
      Files.writeString(dir.resolve(PROCS), procs.toString());
      Syscalls.mkfifo(dir.resolve(FIFO).toString(), 0600);
    } catch (IOException e) {
      throw new UncheckedIOException("make hold control directory " + dir, e);
    }
    List<String> argv = new ArrayList<>(List.of(setsid.toString(), "--fork", "/bin/sh", dir.resolve(WRAPPER).toString()));
    argv.addAll(dumpArgv);
    argv.addAll(List.of("--action-script", dir.resolve(HOOK).toString()));
    ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(OUT).toFile()));
    long launched = System.nanoTime();
    HeldDump d = new HeldDump(imagesDir, launched);
    try {
      Process p = pb.start();
      // setsid --fork returns as soon as its child runs: the wrapper, in a session of its own.
      if (!p.waitFor(LAUNCH.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new CriuException("setsid for the held dump into " + imagesDir + " did not return within " + LAUNCH.toMillis() + " ms", "");
      }
      if (p.exitValue() != 0) throw new CriuException("setsid for the held dump into " + imagesDir + " exited " + p.exitValue() + ": " + d.out(), "");
    } catch (IOException e) {
      throw new UncheckedIOException("start the held dump into " + imagesDir, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the held dump into " + imagesDir, e);
    }
    long deadline = launched + LAUNCH.toNanos();
    while (d.criuPid() <= 0) {
      if (d.status().isPresent() || System.nanoTime() > deadline) {
        throw new CriuException("the held dump into " + imagesDir + " did not start criu (" + d.out() + ")", d.logTail());
      }
      sleepMillis(1);
    }
    return d;
  }

  /** The hold a control directory beside {@code imagesDir} describes, when CRIU still runs there. */
  public static Optional<HeldDump> find(Path imagesDir) {
    Path dir = controlDir(imagesDir);
    if (!Files.isDirectory(dir)) return Optional.empty();
    HeldDump d = new HeldDump(imagesDir, nanosOf(dir.resolve(CRIU_PID)));
    if (!d.criuAlive()) return Optional.empty();
    long held = nanosOf(dir.resolve(HELD));
    if (held != 0) d.heldAtNanos = held;
    return Optional.of(d);
  }

  /** Removes the control directory beside {@code imagesDir} unless its CRIU still runs (a hold that ended unwatched). */
  public static void removeIfEnded(Path imagesDir) {
    HeldDump d = new HeldDump(imagesDir, 0);
    if (!d.criuAlive()) d.removeControlDir();
  }

  public Path imagesDir() {
    return imagesDir;
  }

  /** System.nanoTime() when CRIU was launched (for a found hold: from its pid file's time, to the clock's resolution). */
  public long launchedNanos() {
    return launchedNanos;
  }

  /** System.nanoTime() when the hold was seen reached; 0 before. */
  public long heldAtNanos() {
    return heldAtNanos;
  }

  /** System.nanoTime() when {@link #awaitExit} saw CRIU exit (its pidfd readable); 0 before. */
  public long exitedNanos() {
    return exitedNanos;
  }

  /** The pid the dump froze (the container's init), or -1. */
  public int targetPid() {
    return readInt(TARGET).orElse(-1);
  }

  /**
   * Waits until the hook holds the frozen tasks (true) or CRIU ended without reaching it (false: the dump
   * failed and CRIU let the tasks go on). A dump that reaches neither within {@code timeout} is killed
   * (its tasks then go on too) and reported.
   */
  public boolean awaitHeld(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (readInt(HELD).isPresent()) {
        if (heldAtNanos == 0) heldAtNanos = System.nanoTime();
        return true;
      }
      if (status().isPresent()) return false;
      if (!criuAlive()) {
        // CRIU is gone; the wrapper writes its status a moment later (or was killed: no status ever).
        awaitStatus(System.nanoTime() + STATUS_GRACE.toNanos());
        return false;
      }
      if (System.nanoTime() > deadline) {
        int pid = criuPid();
        if (pid > 0) Syscalls.kill(pid, 9);
        throw new CriuException("criu dump into " + imagesDir + " did not reach its hold within " + timeout.toMillis() + " ms: criu "
            + pid + " killed", logTail());
      }
      sleepMillis(1);
    }
  }

  /** True while the hook holds the tasks and has taken no decision yet. */
  public boolean isWaiting() {
    OptionalInt hook = readInt(HELD);
    return hook.isPresent() && outcome().isEmpty() && isHook(hook.getAsInt()) && criuAlive();
  }

  /**
   * Writes the decision for the hook. The FIFO is opened read-write (never blocks, also without a reader);
   * whether it was taken is what {@link #outcome()} says once CRIU has ended: the bound may have expired first.
   */
  public void decide(Decision decision) {
    try (FileChannel ch = FileChannel.open(dir.resolve(FIFO), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(decision.line().getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchFileException e) {
      throw new CriuException("no hold waits for a decision beside " + imagesDir + " (no " + dir.resolve(FIFO) + ")", "");
    } catch (IOException e) {
      throw new UncheckedIOException("write " + decision + " to " + dir.resolve(FIFO), e);
    }
  }

  /**
   * Waits for CRIU to exit and returns its status (-1 when the wrapper was killed before it could say); throws
   * when it still runs after {@code timeout}. The exit is seen through a pidfd (no polling delay).
   */
  public int awaitExit(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    int pid = criuPid();
    int fd = pid > 0 ? Syscalls.pidfdOpen(pid) : -1;
    if (fd >= 0) {
      try {
        // Checked after the pidfd is open: the pid is this dump's criu (not gone, not reused), so the pidfd is its.
        while (criuAlive() && !Syscalls.pollExited(fd, (int) Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))))) {
          if (System.nanoTime() > deadline) {
            throw new CriuException("criu " + pid + " of the held dump into " + imagesDir + " still runs after " + timeout.toMillis() + " ms", logTail());
          }
        }
        exitedNanos = System.nanoTime();
      } finally {
        Syscalls.close(fd);
      }
    }
    if (exitedNanos == 0) exitedNanos = System.nanoTime();
    return awaitStatus(System.nanoTime() + STATUS_GRACE.toNanos()).orElse(-1);
  }

  /** Whether this dump leaves the memory pages with the tasks for post-copy ({@code --lazy-pages} on CRIU's command line). */
  public boolean isLazy() {
    int pid = criuPid();
    return pid > 0 && cmdline(pid).contains("--lazy-pages");
  }

  /** Whether the wrapper had to kill the source's tasks after a commit (CRIU failed after it: a lazy transfer broke). */
  public boolean sourceKilled() {
    return read("source").strip().equals("killed");
  }

  /** What the hook did, once it did it. */
  public Optional<Outcome> outcome() {
    String s = read(OUTCOME).strip();
    if (s.isEmpty()) return Optional.empty();
    try {
      return Optional.of(Outcome.valueOf(s.toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** CRIU's exit status, once the wrapper wrote it. */
  public OptionalInt status() {
    return readInt(STATUS);
  }

  /** The tail of CRIU's dump log, for error messages. */
  public String logTail() {
    return Criu.logTail(imagesDir.resolve(Criu.DUMP_LOG));
  }

  /** True while this dump's CRIU runs (its pid alive and naming these images when first seen; not a zombie). */
  public boolean criuAlive() {
    int pid = criuPid();
    if (pid <= 0) return false;
    long start = Procs.startTime(pid);
    if (start < 0) return false;
    if (start == criuStart) return true;
    if (!runs(pid, imagesDir.toString())) return false;
    criuStart = start;
    return true;
  }

  private boolean isHook(int pid) {
    return Procs.startTime(pid) >= 0 && runs(pid, dir.resolve(HOOK).toString());
  }

  /**
   * Whether the live process {@code pid} has {@code arg} among its arguments. Right after an execve the
   * kernel shows the new name but an empty command line until the new image's arguments are set up (seen
   * here: CRIU launched a moment ago), so an empty one is read again for a little while.
   */
  private static boolean runs(int pid, String arg) {
    for (int i = 0; i < 200; i++) {
      List<String> argv = cmdline(pid);
      if (!argv.isEmpty()) return argv.contains(arg);
      if (Procs.startTime(pid) < 0) return false;
      sleepMillis(1);
    }
    return false;
  }

  /** Kills CRIU and the hook (their tasks go on, as after a failed dump): for a destroy that found CRIU not ending. */
  public void kill() {
    OptionalInt hook = readInt(HELD);
    if (hook.isPresent() && isHook(hook.getAsInt())) Syscalls.kill(hook.getAsInt(), 9);
    if (criuAlive()) Syscalls.kill(criuPid(), 9);
  }

  /** Removes the control directory (once CRIU has ended: the images beside it stay). */
  public void removeControlDir() {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("remove hold control directory " + dir, e);
    }
  }

  int criuPid() {
    return readInt(CRIU_PID).orElse(-1);
  }

  private OptionalInt awaitStatus(long deadline) {
    while (true) {
      OptionalInt s = status();
      if (s.isPresent() || System.nanoTime() > deadline) return s;
      sleepMillis(1);
    }
  }

  private String out() {
    return read(OUT).strip();
  }

  private String read(String name) {
    try {
      return Files.readString(dir.resolve(name));
    } catch (NoSuchFileException e) {
      return "";
    } catch (IOException e) {
      throw new UncheckedIOException("read " + dir.resolve(name), e);
    }
  }

  /** An integer file written by a shell ({@code echo N > f}): empty until the write is whole. */
  private OptionalInt readInt(String name) {
    String s = read(name);
    if (!s.endsWith("\n")) return OptionalInt.empty();
    try {
      return OptionalInt.of(Integer.parseInt(s.strip()));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }

  /** The arguments of a live process (none for a zombie or no process). */
  private static List<String> cmdline(int pid) {
    try {
      String s = new String(Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "cmdline")), StandardCharsets.UTF_8);
      return s.isEmpty() ? List.of() : List.of(s.split("\0"));
    } catch (IOException e) {
      return List.of();
    }
  }

  /** A file's modification time as a System.nanoTime() value (0 when it does not exist). */
  private static long nanosOf(Path file) {
    try {
      Instant written = Files.getLastModifiedTime(file).toInstant();
      return System.nanoTime() - Duration.between(written, Instant.now()).toNanos();
    } catch (IOException e) {
      return 0;
    }
  }

  private static void writeScript(Path path, String text) throws IOException {
    Files.writeString(path, text, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
  }

  /** A tool by absolute path, found now: a hook that cannot find {@code timeout} would decide at once. */
  private static Path tool(String name) {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String d : (path + ":/usr/bin:/bin").split(":")) {
      if (d.isEmpty()) continue;
      Path p = Path.of(d, name);
      if (Files.isExecutable(p)) return p;
    }
    throw new CriuException("a held dump needs " + name + " (coreutils/util-linux) on PATH", "");
  }

  private static final String WRAPPER_SCRIPT = """
      #!/bin/sh
      # Berth's held dump (HeldDump.java): runs the criu command line given as arguments, names it, waits
      # for it and records its exit status. Started by setsid --fork: its own session, no pipe to the JVM.
      cd "${0%/*}" || exit 1
      """ + KillScript.FUNCTION + """
      "$@" &
      echo $! > criu.pid
      wait $!
      s=$?
      # After a commit nothing of the source may run (see HeldDump.java): a failed lazy-pages transfer lets
      # CRIU resume the tasks, so they are killed here.
      o=$(cat outcome 2>/dev/null)
      if [ "$s" != 0 ] && { [ "$o" = commit ] || [ "$o" = expired ]; }; then
        kill_cgroups
        echo killed > source
      fi
      echo $s > status
      """;

  /**
   * The action script. Exit 1 (CRIU resumes the tasks) for anything that goes wrong before the hold is
   * announced, since then nobody can have restored a copy from the images yet; exit 0 (CRIU kills them)
   * for commit and for anything after the announcement that is not resume, since a copy may run elsewhere.
   */
  private static String hookScript(Path timeout, Path head, Duration bound, boolean lazy) {
    String seconds = String.format(Locale.ROOT, "%d.%03ds", bound.toSeconds(), bound.toMillisPart());
    // A lazy dump's CRIU does not kill the tasks at exit 0: it serves their pages first, and waits for a daemon to
    // connect, which after an expiry never comes. So the hook kills them itself, then CRIU.
    String expired = lazy ? "echo expired > outcome; kill_cgroups; kill -9 $(cat criu.pid); exit 0" : "echo expired > outcome; exit 0";
    return ("""
        #!/bin/sh
        # CRIU action script of Berth's held dump (HeldDump.java). At post-dump the tasks are dumped and
        # still frozen, and CRIU waits for this script: exit 0 and it kills them, non-zero and it resumes them.
        [ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] || exit 0
        cd "${0%%/*}" || exit 1
        """ + KillScript.FUNCTION.replace("%", "%%") + """
        exec 3<>decision || exit 1
        echo $$ > held || exit 1
        d=$(%s %s %s -n 1 <&3)
        case "$d" in
          resume) echo resume > outcome; exit 1 ;;
          commit) echo commit > outcome; exit 0 ;;
          *) %s ;;
        esac
        """).formatted(timeout, seconds, head, expired);
  }

  private static void sleepMillis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a held dump", e);
    }
  }
}
