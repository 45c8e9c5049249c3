package io.berth.isolation.checkpoint;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The periodic checkpoints of the containers on shared storage, kept beside their disk images so that any host that
 * takes a container over finds them: {@code <shared-root>/checkpoints/<container>/<sequence>/} holding CRIU's
 * {@code images/} and a {@code manifest}. A checkpoint is written as {@code <sequence>.partial} and renamed when its
 * manifest is complete, so a dump cut short (its host died, CRIU failed) is never taken for one; the newest
 * {@value #KEEP} complete ones are kept, older ones and every {@code .partial} deleted. The last failure to take one
 * is kept in {@code last-error} until the next success, so every node can show it.
 *
 * <p>One writer per container at a time: the host that runs it, under the layer's per-container lock. Readers (any
 * node's {@code ct show}, the failover's target) read only complete checkpoints.
 */
public final class CheckpointStore {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
  /** Two: the newest may be the one a dying host was writing when a rename was its last act; one more costs one more image. */
  public static final int KEEP = 2;
  static final String MANIFEST = "manifest";
  static final String LAST_ERROR = "last-error";
  private static final String PARTIAL = ".partial";
  private static final Pattern COMPLETE = Pattern.compile("[1-9][0-9]{0,17}");
  private static final Pattern ANY = Pattern.compile("[1-9][0-9]{0,17}(\\.partial)?");
  private static final int MAX_MANIFEST_BYTES = 4096;

  private final Path root;

  /** @param sharedRoot the shared images root every host mounts ({@code berth.storage.shared-root}) */
  public CheckpointStore(Path sharedRoot) {
    this.root = sharedRoot.resolve("checkpoints");
  }

  public Path containerDir(ContainerId id) {
    return root.resolve(id.value());
  }

  /** A failure to take a checkpoint: when, and what happened. */
  public record Failure(Instant at, String message) {}

  /**
   * Starts the next checkpoint: removes what earlier attempts left ({@code .partial}), makes {@code <next>.partial}
   * (mode 0700: the images are the container's memory) and returns it.
   */
  public Path begin(ContainerId id) {
    Path dir = containerDir(id);
    try {
      Files.createDirectories(dir);
      long next = 1;
      for (Path p : entries(dir)) {
        String name = p.getFileName().toString();
        if (name.endsWith(PARTIAL)) deleteTree(p);
        next = Math.max(next, Long.parseLong(name.replace(PARTIAL, "")) + 1);
      }
      Path partial = dir.resolve(next + PARTIAL);
      Files.createDirectory(partial, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      return partial;
    } catch (IOException e) {
      throw new UncheckedIOException("begin a checkpoint of container " + id + " under " + dir, e);
    }
  }

  /**
   * Completes the checkpoint begun in {@code partial}: writes its manifest, renames it to its sequence, keeps the
   * newest {@value #KEEP} and deletes the rest. Returns it as read back.
   */
  public Checkpoint complete(ContainerId id, Path partial, Instant takenAt, long frozenMillis, String frozenSource, long dumpMillis,
      String host, int initPid, long initStart) {
    String name = partial.getFileName().toString();
    if (!name.endsWith(PARTIAL) || !partial.getParent().equals(containerDir(id))) {
      throw new InvalidFieldException("checkpoint", "must be a checkpoint begun for container " + id, partial);
    }
    long sequence = Long.parseLong(name.substring(0, name.length() - PARTIAL.length()));
    Map<String, String> m = new LinkedHashMap<>();
    m.put("format", "1");
    m.put("container", id.value());
    m.put("sequence", Long.toString(sequence));
    m.put("taken-at", takenAt.toString());
    m.put("frozen-ms", Long.toString(frozenMillis));
    m.put("frozen-source", frozenSource);
    m.put("dump-ms", Long.toString(dumpMillis));
    m.put("images-bytes", Long.toString(sizeOf(partial.resolve("images"))));
    m.put("host", host);
    m.put("init-pid", Integer.toString(initPid));
    m.put("init-start", Long.toString(initStart));
    StringBuilder text = new StringBuilder();
    m.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
    Path done = partial.resolveSibling(Long.toString(sequence));
    try {
      Path tmp = partial.resolve(MANIFEST + ".tmp");
      Files.writeString(tmp, text);
      move(tmp, partial.resolve(MANIFEST));
      move(partial, done);
    } catch (IOException e) {
      throw new UncheckedIOException("complete checkpoint " + partial, e);
    }
    prune(id);
    return read(done);
  }

  /** Deletes a checkpoint begun but not completed (its dump failed). */
  public void abandon(Path partial) {
    deleteTree(partial);
  }

  /** The complete checkpoints, newest first; one whose manifest does not read is left out (and logged). */
  public List<Checkpoint> kept(ContainerId id) {
    List<Checkpoint> out = new ArrayList<>();
    for (Path p : complete(containerDir(id))) {
      try {
        out.add(read(p));
      } catch (InvalidFieldException e) {
        LOG.warn("container={} checkpoint {} skipped: {}", id, p, e.getMessage());
      }
    }
    return out;
  }

  /** The newest complete checkpoint whose manifest reads. */
  public Optional<Checkpoint> latest(ContainerId id) {
    return kept(id).stream().findFirst();
  }

  /**
   * The checkpoint in {@code dir} as its manifest records it. Refused ({@link InvalidFieldException}, field
   * {@code checkpoint}) when {@code dir} is not a complete checkpoint: missing, still partial, without its images, or
   * with a manifest that is not whole.
   */
  public Checkpoint read(Path dir) {
    String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
    if (!COMPLETE.matcher(name).matches()) {
      throw new InvalidFieldException("checkpoint", "must be a complete checkpoint directory <shared-root>/checkpoints/<container>/<sequence>", dir);
    }
    if (!Files.isDirectory(dir)) throw new InvalidFieldException("checkpoint", "does not exist", dir);
    Path manifest = dir.resolve(MANIFEST);
    Map<String, String> m = new LinkedHashMap<>();
    try {
      if (Files.size(manifest) > MAX_MANIFEST_BYTES) throw corrupt(manifest, "larger than " + MAX_MANIFEST_BYTES + " bytes");
      for (String line : Files.readAllLines(manifest)) {
        int eq = line.indexOf('=');
        if (eq <= 0) throw corrupt(manifest, "line \"" + line + "\" is not key=value");
        m.put(line.substring(0, eq), line.substring(eq + 1));
      }
    } catch (NoSuchFileException e) {
      throw corrupt(manifest, "missing");
    } catch (IOException | UncheckedIOException e) {
      throw corrupt(manifest, "cannot be read: " + e.getMessage());
    }
    if (!"1".equals(m.get("format"))) throw corrupt(manifest, "format " + m.get("format") + " is not 1");
    ContainerId id;
    try {
      id = ContainerId.of(field(m, manifest, "container"));
    } catch (InvalidFieldException e) {
      throw corrupt(manifest, "container: " + e.getMessage());
    }
    long sequence = number(m, manifest, "sequence");
    if (!Long.toString(sequence).equals(name) || !dir.getParent().getFileName().toString().equals(id.value())) {
      throw corrupt(manifest, "names container " + id + " checkpoint " + sequence + ", not the directory it is in");
    }
    Instant takenAt;
    try {
      takenAt = Instant.parse(field(m, manifest, "taken-at"));
    } catch (DateTimeParseException e) {
      throw corrupt(manifest, "taken-at is not an ISO-8601 instant");
    }
    String source = field(m, manifest, "frozen-source");
    if (!source.equals(Checkpoint.FROM_CRIU) && !source.equals(Checkpoint.FROM_WALL_CLOCK)) throw corrupt(manifest, "frozen-source " + source);
    if (!Files.isRegularFile(dir.resolve("images").resolve("inventory.img"))) throw corrupt(manifest, "its images hold no inventory.img");
    long pid = number(m, manifest, "init-pid");
    if (pid > Integer.MAX_VALUE) throw corrupt(manifest, "init-pid " + pid);
    return new Checkpoint(id, sequence, dir, takenAt, number(m, manifest, "frozen-ms"), source, number(m, manifest, "dump-ms"),
        number(m, manifest, "images-bytes"), field(m, manifest, "host"), (int) pid, number(m, manifest, "init-start"));
  }

  /** Records that taking a checkpoint failed; shown until the next one succeeds. */
  public void recordFailure(ContainerId id, Instant at, String message) {
    String oneLine = message.replaceAll("\\s+", " ").strip();
    if (oneLine.length() > 1000) oneLine = oneLine.substring(0, 997) + "...";
    Path dir = containerDir(id);
    try {
      Files.createDirectories(dir);
      Path tmp = dir.resolve(LAST_ERROR + ".tmp");
      Files.writeString(tmp, at + " " + oneLine + "\n");
      move(tmp, dir.resolve(LAST_ERROR));
    } catch (IOException e) {
      throw new UncheckedIOException("record the checkpoint failure of container " + id, e);
    }
  }

  public void clearFailure(ContainerId id) {
    try {
      Files.deleteIfExists(containerDir(id).resolve(LAST_ERROR));
    } catch (IOException e) {
      throw new UncheckedIOException("clear the checkpoint failure of container " + id, e);
    }
  }

  /** The last failure to take a checkpoint since the last success; empty when there was none (or it does not read). */
  public Optional<Failure> lastFailure(ContainerId id) {
    try {
      String s = Files.readString(containerDir(id).resolve(LAST_ERROR)).strip();
      int sp = s.indexOf(' ');
      return Optional.of(new Failure(Instant.parse(sp < 0 ? s : s.substring(0, sp)), sp < 0 ? "" : s.substring(sp + 1)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | DateTimeParseException e) {
      return Optional.of(new Failure(Instant.EPOCH, "(its record does not read: " + e.getMessage() + ")"));
    }
  }

  /** Deletes every checkpoint of the container and its failure record (its schedule turned off, or it was destroyed). */
  public void deleteAll(ContainerId id) {
    deleteTree(containerDir(id));
  }

  private void prune(ContainerId id) {
    List<Path> complete = complete(containerDir(id));
    for (Path old : complete.subList(Math.min(KEEP, complete.size()), complete.size())) deleteTree(old);
    for (Path p : entries(containerDir(id))) if (p.getFileName().toString().endsWith(PARTIAL)) deleteTree(p);
  }

  /** The complete checkpoint directories, newest first. */
  private static List<Path> complete(Path dir) {
    return entries(dir).stream().filter(p -> COMPLETE.matcher(p.getFileName().toString()).matches())
        .sorted(Comparator.comparingLong((Path p) -> Long.parseLong(p.getFileName().toString())).reversed()).toList();
  }

  /** The numbered entries (complete and partial) of a container's directory; none when it does not exist. */
  private static List<Path> entries(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> ANY.matcher(p.getFileName().toString()).matches()).toList();
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException("list " + dir, e);
    }
  }

  private static String field(Map<String, String> m, Path manifest, String key) {
    String v = m.get(key);
    if (v == null || v.isEmpty()) throw corrupt(manifest, "has no " + key);
    return v;
  }

  private static long number(Map<String, String> m, Path manifest, String key) {
    String v = field(m, manifest, key);
    try {
      long n = Long.parseLong(v);
      if (n < 0) throw corrupt(manifest, key + " " + v + " is negative");
      return n;
    } catch (NumberFormatException e) {
      throw corrupt(manifest, key + " \"" + v + "\" is not a number");
    }
  }

  private static InvalidFieldException corrupt(Path manifest, String why) {
    return new InvalidFieldException("checkpoint", "its manifest " + manifest + " is corrupt: " + why, manifest.getParent());
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("the shared root must rename atomically (" + from + " to " + to + ")", e);
    }
  }

  private static long sizeOf(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    } catch (IOException e) {
      throw new UncheckedIOException("size of " + dir, e);
    }
  }

  /** Deletes {@code dir} and everything under it (never following a link); nothing when it does not exist. */
  public static void deleteTree(Path dir) {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
          if (e != null) throw e;
          Files.deleteIfExists(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (NoSuchFileException e) {
      // gone already
    } catch (IOException e) {
      throw new UncheckedIOException("delete " + dir, e);
    }
  }
}
