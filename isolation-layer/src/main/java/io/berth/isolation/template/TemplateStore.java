package io.berth.isolation.template;

import io.berth.isolation.process.Commands;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Templates by content digest under {@code <dataRoot>/templates}: {@code sha256/<hex>} holds the
 * root filesystem, {@code names/<name>} the digest a name points at. Importing the same content
 * twice gives the same digest and one copy. The digest covers every path, its type, permission
 * bits, owner, and a file's bytes or a link's target, walked in sorted order.
 */
public final class TemplateStore {
  private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(5);
  /** The most of a tarball's member listing read (about a million members): its names are all checked before extracting. */
  private static final int MAX_LISTING = 64 << 20;

  private final Path root;
  private final Map<String, Path> sources;

  /** @param sources names imported from a directory on first use (the set-up's busybox) */
  public TemplateStore(Path root, Map<String, Path> sources) {
    this.root = root;
    this.sources = sources;
  }

  /** The template a reference names; a missing one is an {@link InvalidFieldException} on {@code template}. */
  public synchronized Template resolve(TemplateRef ref) {
    if (ref.isDigest()) {
      Path dir = root.resolve("sha256").resolve(ref.value().substring(7));
      if (!Files.isDirectory(dir)) throw new InvalidFieldException("template", "must name an imported template", ref.value());
      return new Template(ref.value(), dir);
    }
    Path name = root.resolve("names").resolve(ref.value());
    if (Files.isRegularFile(name)) {
      String digest = read(name);
      Path dir = root.resolve("sha256").resolve(digest.substring(7));
      if (Files.isDirectory(dir)) return new Template(digest, dir);
    }
    Path source = sources.get(ref.value());
    if (source != null && Files.isDirectory(source)) return importDirectory(source, ref.value());
    throw new InvalidFieldException("template", "must name an imported template", ref.value());
  }

  /** Every imported template, by digest. */
  public List<Template> list() {
    Path dir = root.resolve("sha256");
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory).sorted().map(p -> new Template("sha256:" + p.getFileName(), p)).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("list " + dir, e);
    }
  }

  /** Imports a directory's content as a template, named {@code name} (null for none). */
  public synchronized Template importDirectory(Path source, String name) {
    checkName(name);
    if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
      throw new InvalidFieldException("template.source", "must be a directory", source);
    }
    String digest = digest(source);
    Path target = root.resolve("sha256").resolve(digest.substring(7));
    if (!Files.isDirectory(target)) {
      Path tmp = tempDir();
      try {
        // cp -a keeps owners, modes, links and device nodes as they are; Java's copy does not.
        Commands.Result r = Commands.run(List.of("cp", "-a", source + "/.", tmp.toString()), null, TOOL_TIMEOUT);
        if (!r.ok()) throw new TemplateException("copy template " + source + ": " + r.describe());
        moveInto(tmp, target);
      } finally {
        deleteTree(tmp);
      }
    }
    if (name != null) writeName(name, digest);
    return new Template(digest, target);
  }

  /**
   * Imports a tarball (any compression tar recognises). Members with an absolute path or a
   * {@code ..} component are refused before anything is extracted: they would escape the template.
   */
  public synchronized Template importTarball(Path tarball, String name) {
    checkName(name);
    if (!Files.isRegularFile(tarball)) throw new InvalidFieldException("template.tarball", "must be a readable file", tarball);
    Commands.Result listing = Commands.run(List.of("tar", "-tf", tarball.toString()), null, TOOL_TIMEOUT, MAX_LISTING);
    if (!listing.ok()) throw new InvalidFieldException("template.tarball", "must be a tar archive (" + listing.describe() + ")", tarball);
    // Every member is checked below: a listing cut at the bound would let the unchecked rest escape.
    if (listing.truncated()) throw new InvalidFieldException("template.tarball", "must list in at most " + MAX_LISTING + " bytes", tarball);
    for (String member : listing.stdout().split("\n")) {
      if (member.isEmpty()) continue;
      if (member.startsWith("/") || List.of(member.split("/")).contains("..")) {
        throw new InvalidFieldException("template.tarball", "member paths must stay inside the template (no absolute path, no '..')", member);
      }
    }
    Path tmp = tempDir();
    try {
      Commands.Result r = Commands.run(List.of("tar", "-xf", tarball.toString(), "-C", tmp.toString(), "--numeric-owner"), null, TOOL_TIMEOUT);
      if (!r.ok()) throw new TemplateException("extract template " + tarball + ": " + r.describe());
      String digest = digest(tmp);
      Path target = root.resolve("sha256").resolve(digest.substring(7));
      if (!Files.isDirectory(target)) moveInto(tmp, target);
      if (name != null) writeName(name, digest);
      return new Template(digest, target);
    } finally {
      deleteTree(tmp);
    }
  }

  /**
   * Builds a template and stores it by digest under {@code build.name()}. The build fills a temporary
   * directory outside the store's lock (it takes most of a minute, and creates resolve templates meanwhile);
   * only the move into place and the name are taken under it. A failed build leaves nothing.
   */
  public Template build(TemplateBuild build, DebootstrapBuilder builder) {
    Path tmp = tempDir();
    try {
      builder.build(build, tmp);
      String digest = digest(tmp);
      synchronized (this) {
        Path target = root.resolve("sha256").resolve(digest.substring(7));
        if (!Files.isDirectory(target)) moveInto(tmp, target);
        writeName(build.name(), digest);
        return new Template(digest, target);
      }
    } finally {
      deleteTree(tmp);
    }
  }

  /** The content digest of a directory tree (see the class comment). */
  public static String digest(Path dir) {
    MessageDigest md = sha256();
    List<Path> paths;
    try (Stream<Path> s = Files.walk(dir)) {
      paths = new ArrayList<>(s.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("walk " + dir, e);
    }
    paths.sort(null);
    byte[] buf = new byte[1 << 16];
    for (Path p : paths) {
      try {
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        String rel = dir.relativize(p).toString();
        if (rel.isEmpty()) continue; // the top directory's own mode depends on how it was made, not on content
        String type = a.isSymbolicLink() ? "l" : a.isDirectory() ? "d" : a.isRegularFile() ? "f" : "o";
        Object uid = Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        Object gid = Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        Object rdev = Files.getAttribute(p, "unix:rdev", LinkOption.NOFOLLOW_LINKS);
        md.update((type + " " + rel + " " + mode + " " + uid + ":" + gid + " " + rdev + "\n").getBytes(StandardCharsets.UTF_8));
        if (a.isSymbolicLink()) {
          md.update(Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8));
        } else if (a.isRegularFile()) {
          try (InputStream in = Files.newInputStream(p)) {
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
          }
        }
        md.update((byte) 0);
      } catch (IOException e) {
        throw new UncheckedIOException("hash " + p, e);
      }
    }
    return "sha256:" + HexFormat.of().formatHex(md.digest());
  }

  private static void checkName(String name) {
    if (name == null) return;
    TemplateRef ref = new TemplateRef(name); // the same rule as references: no '/', no leading '.'
    if (ref.isDigest()) throw new InvalidFieldException("template", "a name must not be a digest", name);
  }

  private Path tempDir() {
    try {
      Path tmpRoot = Files.createDirectories(root.resolve("tmp"));
      return Files.createTempDirectory(tmpRoot, "import-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw new UncheckedIOException("make a temporary directory under " + root, e);
    }
  }

  private void moveInto(Path tmp, Path target) {
    try {
      Files.createDirectories(target.getParent());
      // The rootfs's own root directory should be 0755 whatever the temp dir was made with.
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("move template into " + target, e);
    }
  }

  private void writeName(String name, String digest) {
    Path names = root.resolve("names");
    try {
      Files.createDirectories(names);
      Path tmp = Files.createTempFile(names, "." + name, ".tmp");
      Files.writeString(tmp, digest + "\n");
      Files.move(tmp, names.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("name template " + name, e);
    }
  }

  /** The digest named {@code name}, if any. */
  public Optional<String> digestOf(String name) {
    Path p = root.resolve("names").resolve(name);
    return Files.isRegularFile(p) ? Optional.of(read(p)) : Optional.empty();
  }

  private static String read(Path p) {
    try {
      return Files.readString(p).strip();
    } catch (IOException e) {
      throw new UncheckedIOException("read " + p, e);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
    Commands.Result r = Commands.run(List.of("rm", "-rf", "--one-file-system", dir.toString()), null, TOOL_TIMEOUT);
    if (!r.ok()) throw new TemplateException("remove " + dir + ": " + r.describe());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
