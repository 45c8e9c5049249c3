package io.berth.protocol.serialization;

import java.nio.file.Path;

/** Where the golden files live: {@code protocol/src/test/resources/golden/<manifest>.bin}. */
final class GoldenFiles {
  private GoldenFiles() {}

  /** The source directory (not target/), so a file the generator just wrote is seen at once. */
  static Path dir() {
    String basedir = System.getProperty("basedir");
    Path module = basedir != null ? Path.of(basedir) : Path.of("").toAbsolutePath();
    if (!module.resolve("src/test/resources").toFile().isDirectory() && module.resolve("protocol").toFile().isDirectory()) {
      module = module.resolve("protocol");
    }
    return module.resolve("src/test/resources/golden");
  }

  static Path of(String manifest) {
    return dir().resolve(manifest + ".bin");
  }

  static String manifestOf(Path file) {
    String name = file.getFileName().toString();
    return name.substring(0, name.length() - ".bin".length());
  }
}
