package io.berth.isolation;

import io.berth.isolation.checkpoint.Criu;
import io.berth.isolation.checkpoint.CriuException;
import io.berth.isolation.nativ.Syscalls;
import io.berth.isolation.process.Procs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CRIU's lazy-pages daemon for one post-copy restore ({@code criu lazy-pages --page-server}): the restored tasks'
 * memory is registered with userfaultfd, and this daemon fills each page on its first touch (and every other page in
 * the background) from the source's CRIU, reached at {@code address:port}.
 *
 * <p><b>The danger it guards against.</b> If the daemon ends before every page arrived (the source died, the network
 * broke), its userfaultfds close and the kernel fills every page not yet received with zeros on its next touch: the
 * container would run on with corrupt memory. So the daemon runs under a wrapper ({@code lazy.sh}, in its own
 * session: it outlives this JVM) that, when the daemon exits with a failure, SIGKILLs every process of the
 * container's cgroups before it writes the status; {@link #await} bounds the whole transfer and kills the daemon
 * when it runs over (the wrapper then kills the container). Between the daemon's exit and the kill the tasks can run
 * for a few milliseconds: the wrapper's next instructions.
 *
 * <p>Control files in {@code <imagesDir>.lazy/}: {@code lazy.sh}, {@code procs} (the cgroup.procs files), {@code
 * criu.pid}, {@code status} (the daemon's exit status), {@code killed} (present when the wrapper killed the
 * container), {@code out}. CRIU's own log is {@code images/lazy-pages.log}.
 */
public final class LazyPages implements AutoCloseable {
  public static final String LOG = "lazy-pages.log";
  /** The socket the daemon listens on for the restore, in its work directory (CRIU's fixed name). */
  static final String SOCKET = "lazy-pages.socket";
  private static final Duration START = Duration.ofSeconds(10);
  private static final Pattern TRANSFERRED = Pattern.compile("UFFD transferred pages: \\((\\d+)/(\\d+)\\)");

  private final Path imagesDir;
  private final Path dir;
  private final String source;

  /** How the post-copy ended: every page arrived, or not (and the container was killed). */
  public record Outcome(boolean complete, long pages, long totalPages, String cause) {}

  private LazyPages(Path imagesDir, String source) {
    this.imagesDir = imagesDir;
    this.dir = imagesDir.resolveSibling(imagesDir.getFileName() + ".lazy");
    this.source = source;
  }

  /** Starts the daemon on {@code imagesDir} (the images without pages must be there) and waits until the restore may connect. */
  static LazyPages start(Path criu, Path imagesDir, String address, int port, List<Path> procsFiles) {
    LazyPages l = new LazyPages(imagesDir, address + ":" + port);
    try {
      if (Files.exists(l.dir)) deleteTree(l.dir);
      Files.createDirectory(l.dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      StringBuilder procs = new StringBuilder();
      for (Path f : procsFiles) procs.append(f).append('\n');
      Files.writeString(l.dir.resolve("procs"), procs.toString());
      Path script = l.dir.resolve("lazy.sh");
      Files.writeString(script, WRAPPER, StandardOpenOption.CREATE_NEW);
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
      Files.deleteIfExists(imagesDir.resolve(SOCKET));
    } catch (IOException e) {
      throw new UncheckedIOException("make the lazy-pages control directory " + l.dir, e);
    }
    List<String> argv = new ArrayList<>(List.of("setsid", "--fork", "/bin/sh", l.dir.resolve("lazy.sh").toString(), criu.toString(), "lazy-pages",
        "--page-server", "--address", address, "--port", Integer.toString(port), "-D", imagesDir.toString(), "-o", LOG, "-v4"));
    try {
      Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(l.dir.resolve("out").toFile())).start();
      if (!p.waitFor(START.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new CriuException("setsid for criu lazy-pages on " + imagesDir + " did not start it", l.read("out"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("start criu lazy-pages on " + imagesDir, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted starting criu lazy-pages", e);
    }
    long deadline = System.nanoTime() + START.toNanos();
    while (!Files.exists(imagesDir.resolve(SOCKET))) {
      if (l.status().isPresent() || System.nanoTime() > deadline) {
        l.close();
        throw new CriuException("criu lazy-pages on " + imagesDir + " did not open its socket within " + START.toSeconds() + " s (status "
            + l.status() + ")", Criu.logTail(imagesDir.resolve(LOG)));
      }
      sleepMillis(1);
    }
    return l;
  }

  /** {@code address:port} of the source's pages. */
  public String source() {
    return source;
  }

  /** The daemon's exit status, once the wrapper wrote it. */
  public OptionalInt status() {
    String s = read("status");
    if (!s.endsWith("\n")) return OptionalInt.empty();
    try {
      return OptionalInt.of(Integer.parseInt(s.strip()));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }

  /** The daemon has exited with a failure (its wrapper killed the container's cgroups). */
  public boolean failed() {
    OptionalInt s = status();
    return s.isPresent() && s.getAsInt() != 0;
  }

  /**
   * Waits until every page arrived (the daemon exits 0) or the transfer failed (the wrapper killed the container);
   * past {@code timeout} the daemon is killed (the wrapper then kills the container) and the outcome says so.
   */
  public Outcome await(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean overran = false;
    while (status().isEmpty()) {
      if (System.nanoTime() > deadline && !overran) {
        overran = true;
        killDaemon();
        deadline = System.nanoTime() + START.toNanos();
      } else if (System.nanoTime() > deadline) {
        throw new CriuException("the wrapper of criu lazy-pages on " + imagesDir + " wrote no status after the daemon was killed", read("out"));
      }
      sleepMillis(2);
    }
    int status = status().getAsInt();
    long[] pages = transferred();
    if (status == 0 && !overran) return new Outcome(true, pages[0], pages[1], "");
    String why = overran ? "the memory pages did not all arrive within " + timeout.toSeconds() + " s"
        : "criu lazy-pages exited " + status + " before every page arrived";
    return new Outcome(false, pages[0], pages[1], why + "; the container was killed so it never runs on zeroed pages: "
        + lastError());
  }

  /** Kills the daemon if it still runs (the wrapper then kills the container): for a restore that failed. */
  @Override
  public void close() {
    if (status().isEmpty()) {
      killDaemon();
      long deadline = System.nanoTime() + START.toNanos();
      while (status().isEmpty() && System.nanoTime() < deadline) sleepMillis(2);
    }
  }

  /** Removes the control directory (after the daemon ended). */
  public void removeControlDir() {
    if (status().isPresent() || !daemonAlive()) deleteTree(dir);
  }

  private void killDaemon() {
    if (daemonAlive()) Syscalls.kill(daemonPid(), 9);
  }

  private boolean daemonAlive() {
    int pid = daemonPid();
    if (pid <= 0 || Procs.startTime(pid) < 0) return false;
    try {
      String cmd = new String(Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "cmdline")), StandardCharsets.UTF_8);
      return cmd.contains("lazy-pages") && cmd.contains(imagesDir.toString());
    } catch (IOException e) {
      return false;
    }
  }

  private int daemonPid() {
    String s = read("criu.pid");
    if (!s.endsWith("\n")) return -1;
    try {
      return Integer.parseInt(s.strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Pages copied and pages in all, summed over the restored tasks (from the daemon's log). */
  private long[] transferred() {
    long copied = 0;
    long total = 0;
    try {
      Path log = imagesDir.resolve(LOG);
      if (Files.exists(log)) {
        Matcher m = TRANSFERRED.matcher(Files.readString(log, StandardCharsets.ISO_8859_1));
        while (m.find()) {
          copied += Long.parseLong(m.group(1));
          total += Long.parseLong(m.group(2));
        }
      }
    } catch (IOException e) {
      // The figures are for the record only.
    }
    return new long[] {copied, total};
  }

  /** The last error line of the daemon's log (or its last line). */
  String lastError() {
    String tail = Criu.logTail(imagesDir.resolve(LOG));
    String[] lines = tail.split("\n");
    for (int i = lines.length - 1; i >= 0; i--) if (lines[i].contains("Error")) return lines[i].strip();
    return lines.length == 0 ? "" : lines[lines.length - 1].strip();
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

  private static void deleteTree(Path d) {
    try (var walk = Files.walk(d)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (NoSuchFileException e) {
      // gone already
    } catch (IOException e) {
      throw new UncheckedIOException("remove " + d, e);
    }
  }

  private static void sleepMillis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for criu lazy-pages", e);
    }
  }

  private static final String WRAPPER = """
      #!/bin/sh
      # Berth's post-copy daemon (LazyPages.java): runs criu lazy-pages (the arguments), and when it fails kills
      # every process of the container before it writes the status: pages it never received would read as zeros.
      cd "${0%/*}" || exit 1
      """ + io.berth.isolation.checkpoint.KillScript.FUNCTION + """
      "$@" &
      echo $! > criu.pid
      wait $!
      s=$?
      if [ "$s" != 0 ]; then
        kill_cgroups
        echo killed > killed
      fi
      echo $s > status
      """;
}
