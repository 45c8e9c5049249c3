package io.berth.persistence.embedded;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Properties;

/** What a starter records about the running node so that later processes can find and reuse it. */
record NodeFile(long pid, String address, int nativePort, int storagePort, String owner) {

  static Optional<NodeFile> read(Path file) {
    if (!Files.isRegularFile(file)) return Optional.empty();
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
      return Optional.of(new NodeFile(
          Long.parseLong(p.getProperty("pid")),
          p.getProperty("address"),
          Integer.parseInt(p.getProperty("native-port")),
          Integer.parseInt(p.getProperty("storage-port")),
          p.getProperty("owner", "")));
    } catch (IOException | RuntimeException e) {
      // A half-written or foreign file: treat as absent; the caller starts a node and rewrites it.
      return Optional.empty();
    }
  }

  void write(Path file) throws IOException {
    Properties p = new Properties();
    p.setProperty("pid", Long.toString(pid));
    p.setProperty("address", address);
    p.setProperty("native-port", Integer.toString(nativePort));
    p.setProperty("storage-port", Integer.toString(storagePort));
    p.setProperty("owner", owner);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      p.store(w, "embedded Cassandra node started by Berth");
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The recorded process, if it is still alive and still our Cassandra main (a pid can be reused after a reboot). */
  Optional<ProcessHandle> liveProcess() {
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .filter(h -> h.info().arguments().map(args -> String.join(" ", args).contains(ServerClasspath.MAIN_CLASS)).orElse(true));
  }
}
