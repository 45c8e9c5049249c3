package io.berth.isolation.checkpoint;

import io.berth.isolation.process.Commands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CRIU through its command line. Before the first dump or restore it checks the version (4.2 or
 * newer: 3.17 fails `criu check` on this kernel and 4.1 cannot dump TCP sockets here) and runs
 * `criu check`. Every failure carries the tail of CRIU's own log.
 */
public final class Criu {
  public static final String DUMP_LOG = "dump.log";
  public static final String RESTORE_LOG = "restore.log";
  private static final Duration TIMEOUT = Duration.ofMinutes(5);
  /**
   * How CRIU keeps the container's connections quiet while it is frozen: nftables unlocks in about 16 ms here
   * against about 72 ms for CRIU's default, iptables (shared/design.md); the unlock is inside the frozen time, at
   * the end of a restore and of a resumed dump.
   */
  static final String NETWORK_LOCK = "nftables";
  private static final Pattern VERSION = Pattern.compile("Version:\\s*(\\d+)\\.(\\d+)");

  private final Path binary;
  private volatile boolean checked;

  public Criu(Path binary) {
    this.binary = binary;
  }

  public Path binary() {
    return binary;
  }

  /** Version and `criu check`, once per instance; throws when CRIU cannot serve here. */
  public void preflight() {
    if (checked) return;
    synchronized (this) {
      if (checked) return;
      if (!Files.isExecutable(binary)) throw new CriuException("criu preflight: " + binary + " is not an executable file", "");
      Commands.Result v = Commands.run(List.of(binary.toString(), "--version"), null, TIMEOUT);
      Matcher m = VERSION.matcher(v.stdout());
      if (!v.ok() || !m.find()) throw new CriuException("criu preflight: cannot read the version: " + v.describe(), "");
      int major = Integer.parseInt(m.group(1));
      int minor = Integer.parseInt(m.group(2));
      if (major < 4 || (major == 4 && minor < 2)) {
        throw new CriuException("criu preflight: " + binary + " is " + major + "." + minor + "; Berth needs 4.2 or newer on this kernel", "");
      }
      Commands.Result c = Commands.run(List.of(binary.toString(), "check"), null, TIMEOUT);
      if (!c.ok()) throw new CriuException("criu preflight: criu check failed: " + c.describe(), "");
      checked = true;
    }
  }

  /** What Berth's CRIU patch for post-copy logs when the device is missing: its presence in the binary marks the patch. */
  private static final byte[] UFFD_PATCH_MARK = "No /dev/userfaultfd to fall back to".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  /** What Berth's CRIU patch that lets a lazy dump resume logs: without it an undone post-copy move leaves the source frozen. */
  private static final byte[] RESUME_PATCH_MARK = "no lazy pages served".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private volatile Optional<String> postCopyRefusal;

  /**
   * Empty when post-copy can restore here ({@code criu restore --lazy-pages} of a user-namespaced container), else
   * why not: its tasks need a userfaultfd, which they get through {@code /dev/userfaultfd} with Berth's CRIU patch
   * (bin/criu-patches), or from the syscall when {@code vm.unprivileged_userfaultfd} is 1.
   */
  public Optional<String> postCopyRefusal() {
    Optional<String> known = postCopyRefusal;
    if (known != null) return known;
    preflight();
    boolean device = Files.exists(Path.of("/dev/userfaultfd"));
    boolean sysctl = readTrimmed(Path.of("/proc/sys/vm/unprivileged_userfaultfd")).equals("1");
    boolean patched;
    boolean resumes;
    try {
      byte[] image = Files.readAllBytes(binary.toRealPath());
      patched = contains(image, UFFD_PATCH_MARK);
      resumes = contains(image, RESUME_PATCH_MARK);
    } catch (IOException e) {
      patched = false;
      resumes = false;
    }
    Optional<String> why = Optional.empty();
    if (!sysctl && !device) {
      why = Optional.of("this kernel has no /dev/userfaultfd (Linux 6.1 or newer) and vm.unprivileged_userfaultfd is 0: a container in a "
          + "user namespace cannot take its memory lazily");
    } else if (!sysctl && !patched) {
      why = Optional.of("CRIU at " + binary + " lacks Berth's /dev/userfaultfd patch (bin/criu-patches; bin/setup-host builds it) and "
          + "vm.unprivileged_userfaultfd is 0");
    } else if (!resumes) {
      why = Optional.of("CRIU at " + binary + " lacks Berth's patch that lets a lazy dump resume (bin/criu-patches/03; bin/setup-host builds it): "
          + "a move undone after the freeze would leave the container frozen");
    }
    postCopyRefusal = why;
    return why;
  }

  private static String readTrimmed(Path p) {
    try {
      return Files.readString(p).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static boolean contains(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
      return true;
    }
    return false;
  }

  /** Makes the images directory with mode 0700 (images hold the processes' memory); it must be empty. */
  public static void prepareImagesDir(Path dir) {
    try {
      if (Files.isDirectory(dir)) {
        try (var s = Files.list(dir)) {
          if (s.findAny().isPresent()) throw new CriuException("images directory " + dir + " is not empty", "");
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      } else {
        Files.createDirectories(dir.getParent());
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("make images directory " + dir, e);
    }
  }

  /**
   * Where CRIU looks for the paths of inotify watches it cannot open by file handle (an overlayfs root gives no
   * usable handles), beside its own hints (/etc, /var/log, /usr/share/dbus-1/services...): dbus-daemon watches its
   * policy directories, which CRIU's hints miss ("fsnotify: Can't dump that handle"). Only scanned when a watch needs
   * it, while the container is frozen, so kept to the few directories a system container's daemons watch. And the
   * time zones: systemd watches the /etc/localtime symlink, and a restore re-adds that watch on the zone file it
   * names (CRIU opens the watched path and follows it), so a second checkpoint must find the file there.
   */
  static final List<String> IRMAP_HINTS = List.of("/usr/share/dbus-1", "/usr/local/share/dbus-1", "/usr/share/zoneinfo");

  /**
   * criu dump of the tree under {@code pid}. With a veth, the container end is declared external
   * ({@code veth[eth0]}) so restore can re-create the pair on the target's bridge; established TCP
   * connections are kept.
   *
   * @param externalBinds mount points inside the container of bind mounts from the host (LXCFS's files):
   *                      CRIU cannot dump a FUSE mount, so each is recorded as external under its own
   *                      mount point as the key ({@code --external mnt[/proc/meminfo]:/proc/meminfo}),
   *                      and restore binds it again from that host's source ({@link #restoreArgs})
   */
  public void dump(int pid, Path images, boolean hasVeth, List<String> externalBinds, boolean leaveRunning, String context) {
    preflight();
    Commands.Result r = Commands.run(dumpArgv(pid, images, hasVeth, externalBinds, leaveRunning), null, TIMEOUT);
    if (!r.ok()) throw new CriuException("criu dump of " + context + " (pid " + pid + "): " + r.describe(), logTail(images.resolve(DUMP_LOG)));
  }

  /** The whole {@code criu dump} command line {@link #dump} runs (also what a {@link HeldDump} runs, without leave-running). */
  public List<String> dumpArgv(int pid, Path images, boolean hasVeth, List<String> externalBinds, boolean leaveRunning) {
    List<String> argv = new ArrayList<>(List.of(binary.toString(), "dump", "-t", Integer.toString(pid), "-D", images.toString(),
        "-o", DUMP_LOG, "-v4", "--tcp-established", "--network-lock", NETWORK_LOCK));
    if (hasVeth) argv.addAll(List.of("--external", "veth[eth0]"));
    for (String dir : IRMAP_HINTS) argv.addAll(List.of("--irmap-scan-path", dir));
    for (String point : externalBinds) argv.addAll(List.of("--external", "mnt[" + point + "]:" + point));
    if (leaveRunning) argv.add("--leave-running");
    return argv;
  }

  /** How long a dump may take at most (the same bound {@link #dump} gives CRIU). */
  public static Duration dumpTimeout() {
    return TIMEOUT;
  }

  /**
   * The arguments after {@code criu restore} for the restore shim: detached, into {@code rootfs}, tasks
   * into the given cgroup roots, and the container's {@code eth0} taken from a veth end Berth made in the
   * host's namespace ({@code --external netdev[eth0]:PEER}: CRIU moves it in and restores its name, MAC and
   * addresses). CRIU creating the pair itself fails from inside a user namespace here (its usernsd path
   * asks netlink for an ifindex in another namespace: EOPNOTSUPP), and joining a prepared user namespace is
   * unsupported by CRIU ({@code --join-ns user} is cloned over before it is joined).
   *
   * @param peer          the veth end to move in, or null for a container without a veth
   * @param cgroupRoots   {@code controller:/path} per controller Berth manages (or one bare path on
   *                      cgroup v2): CRIU applies a bare {@code --cgroup-root} to every v1 controller
   *                      and would make cgroups in devices, freezer... that destroy never removes (and in
   *                      cpuset, where a cgroup CRIU makes has no cpus and writing its cpuset.cpus failed
   *                      here; Berth's own cpuset cgroup, made at prepare, is reused as it is)
   * @param externalBinds the sources on this host of the external bind mounts the dump recorded, by their
   *                      mount point in the container (the key {@link #dump} gave them); a key the image
   *                      does not hold is ignored by CRIU
   */
  public List<String> restoreArgs(Path images, Path rootfs, Path pidfile, String peer, List<String> cgroupRoots,
      java.util.Map<String, Path> externalBinds) {
    List<String> args = new ArrayList<>(List.of("-D", images.toString(), "-o", RESTORE_LOG, "-v4", "--root", rootfs.toString(),
        "--restore-detached", "--pidfile", pidfile.toString(), "--tcp-established", "--network-lock", NETWORK_LOCK));
    for (String root : cgroupRoots) args.addAll(List.of("--cgroup-root", root));
    if (peer != null) args.addAll(List.of("--external", "netdev[eth0]:" + peer));
    new java.util.TreeMap<>(externalBinds).forEach((point, source) -> args.addAll(List.of("--external", "mnt[" + point + "]:" + source)));
    return args;
  }

  /** The last lines of a CRIU log, for error messages. */
  public static String logTail(Path log) {
    try {
      if (!Files.exists(log)) return "(no log at " + log + ")";
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }
}
