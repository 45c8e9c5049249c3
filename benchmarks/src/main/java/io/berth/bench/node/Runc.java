package io.berth.bench.node;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The baseline: Debian's runc running {@code /bin/sleep} detached on the same busybox rootfs. */
final class Runc {
  private static final String RUNC = "/usr/sbin/runc";
  private final Path bundle;

  Runc(Path dir, Path rootfs) throws IOException, InterruptedException {
    this.bundle = dir.resolve("runc-bundle");
    Files.createDirectories(bundle);
    run(List.of(RUNC, "spec", "--bundle", bundle.toString()));
    String json = Files.readString(bundle.resolve("config.json"))
        .replace("\"terminal\": true", "\"terminal\": false")
        .replace("\"path\": \"rootfs\"", "\"path\": \"" + rootfs + "\"")
        .replaceFirst("\"args\": \\[\\s*\"sh\"\\s*\\]", "\"args\": [\"/bin/sleep\", \"100000\"]");
    Files.writeString(bundle.resolve("config.json"), json);
  }

  /** {@code runc run -d}: returns once the container's process runs. */
  void start(String id) throws IOException, InterruptedException {
    run(List.of(RUNC, "run", "-d", "--bundle", bundle.toString(), id));
  }

  void delete(String id) throws IOException, InterruptedException {
    run(List.of(RUNC, "delete", "-f", id));
  }

  private static void run(List<String> argv) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(argv).redirectInput(Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(Redirect.DISCARD).redirectError(Redirect.INHERIT).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(argv + " did not finish within 60 s");
    }
    if (p.exitValue() != 0) throw new IllegalStateException(argv + " exited " + p.exitValue());
  }

  /** Removes a benchmark's scratch directory (the runc bundle). */
  static void removeTree(Path dir) throws IOException, InterruptedException {
    run(List.of("rm", "-rf", "--one-file-system", dir.toString()));
  }
}
