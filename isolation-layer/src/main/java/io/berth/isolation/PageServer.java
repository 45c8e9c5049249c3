package io.berth.isolation;

import io.berth.isolation.checkpoint.Criu;
import io.berth.isolation.checkpoint.CriuException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * CRIU's page server for one incoming migration ({@code criu page-server}): the source's dump sends the memory pages
 * straight to it over TCP (kernel to socket to file, no copy through a JVM), and it writes them (pagemap and pages
 * images) into the images directory the restore reads. It serves one dump and exits when that dump's session ends.
 * CRIU's own protocol has no authentication and no checksum of its own beyond TCP's: it listens on the management
 * network only, for the length of one migration.
 */
public final class PageServer implements AutoCloseable {
  public static final String LOG = "page-server.log";
  private final Process process;
  private final Path imagesDir;
  private final String address;
  private final int port;

  private PageServer(Process process, Path imagesDir, String address, int port) {
    this.process = process;
    this.imagesDir = imagesDir;
    this.address = address;
    this.port = port;
  }

  static PageServer start(Path criu, Path imagesDir, String address, int port) {
    List<String> argv = List.of(criu.toString(), "page-server", "--images-dir", imagesDir.toString(), "--address", address, "--port",
        Integer.toString(port), "-o", LOG, "-v4");
    try {
      Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return new PageServer(p, imagesDir, address, port);
    } catch (IOException e) {
      throw new UncheckedIOException("start criu page-server on " + address + ":" + port, e);
    }
  }

  /** Where the source's dump sends its pages: {@code address:port}. */
  public String endpoint() {
    return address + ":" + port;
  }

  /**
   * Waits until it has served its dump and exited, then returns the bytes of the pages it wrote; throws when it failed
   * or did not end within {@code timeout} (the dump never came or never finished).
   */
  public long await(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new CriuException("criu page-server on " + endpoint() + " did not end within " + timeout + " (no complete dump reached it)",
            Criu.logTail(imagesDir.resolve(LOG)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CriuException("interrupted waiting for criu page-server on " + endpoint(), "");
    }
    if (process.exitValue() != 0) {
      throw new CriuException("criu page-server on " + endpoint() + " exited " + process.exitValue(), Criu.logTail(imagesDir.resolve(LOG)));
    }
    try (Stream<Path> files = Files.list(imagesDir)) {
      long bytes = 0;
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith("pages-") || f.getFileName().toString().startsWith("pagemap-")).toList()) {
        bytes += Files.size(f);
      }
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("list the pages in " + imagesDir, e);
    }
  }

  /**
   * Kills every {@code criu page-server} whose images directory lies under {@code workDir}, and returns their pids: a
   * node that starts calls this for its own migrations' directory. Such a server was started by a node JVM that died
   * (a page server is its child, not its wrapper's), for a move whose receiver died with that JVM: no restore can
   * use what it receives, and it would wait for a dump for ever (the chaos run's leak checker found them).
   */
  public static List<Long> endLeftovers(Path workDir) {
    String under = workDir.toAbsolutePath().normalize() + "/";
    List<Long> ended = new java.util.ArrayList<>();
    ProcessHandle.allProcesses().forEach(h -> {
      List<String> argv = cmdline(h.pid());
      int dir = argv.indexOf("--images-dir");
      if (argv.size() > 1 && argv.get(1).equals("page-server") && dir > 0 && dir + 1 < argv.size() && argv.get(dir + 1).startsWith(under)
          && h.destroyForcibly()) {
        ended.add(h.pid());
      }
    });
    return ended;
  }

  private static List<String> cmdline(long pid) {
    try {
      String raw = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), java.nio.charset.StandardCharsets.UTF_8);
      return raw.isEmpty() ? List.of() : List.of(raw.split("\0"));
    } catch (IOException | UncheckedIOException e) {
      return List.of(); // gone meanwhile, or a kernel thread
    }
  }

  /** Ends it if it still runs (the migration ended otherwise). */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
