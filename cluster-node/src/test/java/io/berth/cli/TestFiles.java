package io.berth.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Files the CLI tests set up as a cluster would have them: certificates from the real CA script, a tokens file, and their cleanup. */
final class TestFiles {
  private TestFiles() {}

  /** Runs bin/berth-cluster-ca as bin/berth up does, so the tests use the certificates a cluster really gets; fails naming args and output. */
  static void clusterCa(String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("../bin/berth-cluster-ca"));
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "berth-cluster-ca " + String.join(" ", args) + ": " + out);
  }

  /** Deletes dir and all under it, deepest first; null when @BeforeAll failed before creating it, so the real failure is the one shown. */
  static void deleteTree(Path dir) throws IOException {
    if (dir == null) return;
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  /** Creates file as rw------- before writing to it (the API refuses a tokens file others may write), then writes content; answers file. */
  static Path tokensFile(Path file, String content) throws IOException {
    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, content);
    return file;
  }
}
