package io.berth.isolation.process;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The JVM's side of berth-nsexec (src/main/c, see the README there): the JVM is multi-threaded
 * and must not setns/unshare itself, so every namespace entry goes through this single-threaded
 * helper, fed NUL-separated {@code key=value} records on its stdin.
 */
public final class Helper {
  /** Where the Maven build puts the compiled helper inside the module's jar. */
  public static final String RESOURCE = "/io/berth/isolation/native/berth-nsexec";
  private static final int HELPER_FAILED = 125;
  private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(30);

  private final Path binary;

  public Helper(Path binary) {
    this.binary = binary;
  }

  public Path binary() {
    return binary;
  }

  /**
   * Copies the helper from the classpath into {@code binDir} (named by its digest, so a new build
   * never runs an old copy) and returns it; {@code override}, when given, is used as it is.
   */
  public static Helper locate(Path override, Path binDir) {
    if (override != null) {
      if (!Files.isExecutable(override)) throw new IllegalStateException("helper " + override + " is not an executable file");
      return new Helper(override);
    }
    return new Helper(install(RESOURCE, "berth-nsexec", binDir));
  }

  /**
   * Copies the executable {@code resource} (built by Maven from src/main/c into the classes) into
   * {@code binDir} as {@code NAME-<digest>}, so a new build never runs an old copy, and returns its path.
   */
  public static Path install(String resource, String name, Path binDir) {
    byte[] bytes;
    try (InputStream in = Helper.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(name + " is not on the classpath at " + resource
            + ": build the isolation-layer module with Maven (it compiles src/main/c with gcc)");
      }
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("read the " + name + " resource", e);
    }
    String digest;
    try {
      digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Path target = binDir.resolve(name + "-" + digest);
    if (!Files.isExecutable(target)) {
      try {
        Files.createDirectories(binDir);
        Path tmp = Files.createTempFile(binDir, name, ".tmp");
        Files.write(tmp, bytes);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw new UncheckedIOException("install " + name + " into " + binDir, e);
      }
    }
    return target;
  }

  /** Records for the helper's stdin. */
  public static final class Records {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public Records put(String key, String value) {
      byte[] b = (key + "=" + value).getBytes(StandardCharsets.UTF_8);
      out.write(b, 0, b.length);
      out.write(0);
      return this;
    }

    public Records putAll(String key, List<?> values) {
      for (Object v : values) put(key, v.toString());
      return this;
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }

  /** The init (host pid) and the shim that waits for it. */
  public record Started(int initPid, int shimPid) {}

  /** Starts a container's init; returns once it has exec'd. */
  public Started start(Records records, String context) {
    return parseStarted(Commands.run(List.of(binary.toString(), "start"), records.bytes(), SETUP_TIMEOUT), context);
  }

  /** The same with its own bound: a systemd init's start waits for its READY=1. */
  public Started start(Records records, Duration timeout, String context) {
    return parseStarted(Commands.run(List.of(binary.toString(), "start"), records.bytes(), timeout), context);
  }

  /** Runs `criu restore` under a subreaper shim; returns the restored init and the shim. */
  public Started restore(Records records, Duration timeout, String context) {
    return restore(records, timeout, () -> false, context);
  }

  /**
   * {@link #restore(Records, Duration, String)}, given up as soon as {@code abandon} says so: the helper, its shim,
   * CRIU and whatever CRIU restored so far are killed, and the failure says the restore was ended.
   */
  public Started restore(Records records, Duration timeout, java.util.function.BooleanSupplier abandon, String context) {
    boolean[] abandoned = {false};
    Commands.Result r = Commands.start(List.of(binary.toString(), "restore"), records.bytes(), timeout).awaitUnless(() -> {
      abandoned[0] = abandon.getAsBoolean();
      return abandoned[0];
    });
    if (abandoned[0]) throw new HelperException("criu-restore", "ended", "given up by its caller", context);
    return parseStarted(r, context);
  }

  private static Started parseStarted(Commands.Result r, String context) {
    String line = r.stdout().strip();
    if (r.ok() && line.startsWith("ok ")) {
      String[] f = line.split(" ");
      return new Started(Integer.parseInt(f[1]), Integer.parseInt(f[2]));
    }
    throw failure(r, line, context);
  }

  /** Runs argv inside a running container's namespaces and cgroups. */
  public Commands.Result exec(Records records, Duration timeout) {
    return Commands.run(List.of(binary.toString(), "exec"), records.bytes(), timeout);
  }

  /** The step the helper names when it failed itself (exit 125), or null when it did not. */
  public static HelperException helperFailure(Commands.Result r, String context) {
    if (r.exitCode() != HELPER_FAILED) return null;
    for (String line : r.stderr().split("\n")) {
      if (line.startsWith("berth-nsexec: error ")) return parse(line.substring("berth-nsexec: error ".length()), context);
    }
    return null;
  }

  /**
   * Replaces the LXCFS bind mounts of the running container whose init is {@code initPid} (host pid)
   * with binds of the files under {@code lxcfsMount}; returns how many it bound.
   */
  public int injectLxcfs(int initPid, Path lxcfsMount, String context) {
    Commands.Result r = Commands.run(List.of(binary.toString(), "lxcfs-inject", Integer.toString(initPid), lxcfsMount.toString()),
        null, SETUP_TIMEOUT);
    String line = r.stdout().strip();
    if (!r.ok() || !line.startsWith("ok ")) throw failure(r, "", context);
    return Integer.parseInt(line.substring(3).strip());
  }

  /**
   * Creates a network namespace that outlives the helper, bind-mounted at {@code path}; owned by the user
   * namespace bound at {@code userns} when given (null: the host's).
   */
  public void createNetns(Path path, Path userns, String context) {
    List<String> argv = new ArrayList<>(List.of(binary.toString(), "netns", path.toString()));
    if (userns != null) argv.add(userns.toString());
    run(argv, context);
  }

  /** Creates a user namespace mapping ids 0..count-1 to base.., bind-mounted at {@code path}. */
  public void createUserns(Path path, long base, long count, String context) {
    run(List.of(binary.toString(), "userns", path.toString(), Long.toString(base), Long.toString(count)), context);
  }

  /** Attaches at {@code target} a clone of the mount at {@code source}, idmapped by the user namespace at {@code userns}. */
  public void idmapMount(Path source, Path target, Path userns, String context) {
    run(List.of(binary.toString(), "idmap", source.toString(), target.toString(), userns.toString()), context);
  }

  /** mount -t overlay with {@code options} on {@code target}, mounted as fsuid/fsgid {@code fsid} (see overlay.c). */
  public void mountOverlay(Path target, String options, long fsid, String context) {
    run(List.of(binary.toString(), "overlay", target.toString(), options, Long.toString(fsid)), context);
  }

  /** Makes the device nodes and links of a container's /dev in {@code dir} (on its writable layer). */
  public void makeDevNodes(Path dir, String context) {
    run(List.of(binary.toString(), "devnodes", dir.toString()), context);
  }

  private void run(List<String> argv, String context) {
    Commands.Result r = Commands.run(argv, null, SETUP_TIMEOUT);
    if (!r.ok()) throw failure(r, "", context);
  }

  /** Runs a command inside the network namespace bind-mounted at {@code nsfile}. */
  public Commands.Result inNetns(Path nsfile, List<String> argv, byte[] stdin) {
    List<String> full = new ArrayList<>(List.of(binary.toString(), "netrun", nsfile.toString()));
    full.addAll(argv);
    return Commands.run(full, stdin, SETUP_TIMEOUT);
  }

  /** Gratuitous ARP from {@code ifname} inside the net namespace at {@code nsfile} (the helper's {@code announce} mode). */
  public Commands.Result announce(Path nsfile, String ifname) {
    return Commands.run(List.of(binary.toString(), "announce", nsfile.toString(), ifname), null, SETUP_TIMEOUT);
  }

  private static HelperException failure(Commands.Result r, String stdoutLine, String context) {
    if (stdoutLine.startsWith("error ")) return parse(stdoutLine.substring("error ".length()), context);
    HelperException fromStderr = helperFailure(r, context);
    if (fromStderr != null) return fromStderr;
    return new HelperException("helper", r.timedOut() ? "ETIMEDOUT" : "exit-" + r.exitCode(), r.describe(), context);
  }

  private static HelperException parse(String text, String context) {
    String[] f = text.strip().split(" ", 3);
    return new HelperException(f[0], f.length > 1 ? f[1] : "-", f.length > 2 ? f[2] : "-", context);
  }
}
