package io.berth.bench.isolation;

import io.berth.isolation.IsolationLayer;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The raw-CRIU baseline of the checkpoint and migration benchmarks: {@code criu dump} then {@code criu restore} of a
 * container the isolation layer set up (so the baseline runs the same hardened container as Berth), with Berth's
 * flags (-v4 log, --tcp-established, --root, detached, pidfile) and the least raw CRIU needs for that container: its
 * LXCFS binds declared external (FUSE cannot be dumped), and the images readable by the user namespace's root group
 * (CRIU's restored task reads some after it has taken that root). The container must have loopback only: the raw
 * commands have no way to re-create a veth without extra steps.
 */
public final class RawCriu {
  private static final long BOUND_SECONDS = 120;

  private final Path criu;
  private final Path lxcfs;

  public RawCriu(IsolationLayer layer) {
    this.criu = layer.config().criu();
    this.lxcfs = layer.config().dataRoot().resolve("lxcfs/mount");
  }

  /**
   * One stop-and-copy on this machine, as {@link System#nanoTime()} stamps: the launch of the dump (the tasks are
   * frozen from here), the dump's exit (the tasks are gone), the restore's return (they run again).
   *
   * @param pid the restored tree's root in the host's pid namespace (nobody's child but init's)
   */
  public record Round(int pid, long startedNanos, long dumpedNanos, long restoredNanos) {
    /** The app-visible frozen gap: from the launch of the dump until the restore returned. */
    public double frozenMs() {
      return BenchHost.ms(restoredNanos - startedNanos);
    }

    public double dumpMs() {
      return BenchHost.ms(dumpedNanos - startedNanos);
    }

    public double restoreMs() {
      return BenchHost.ms(restoredNanos - dumpedNanos);
    }
  }

  /**
   * Dumps the tree of {@code pid} into {@code images} (the tasks die at the end of the dump) and restores it into
   * {@code rootfs}; {@code images} is created empty beforehand. CRIU's logs stay in {@code images} (dump.log,
   * restore.log); the tail of the failing one is in the exception.
   */
  public Round dumpAndRestore(int pid, Path rootfs, Path images) throws IOException, InterruptedException {
    Files.createDirectories(images);
    Path pidfile = images.resolve("restore.pid");
    long r0 = System.nanoTime();
    List<String> points = lxcfsPoints(pid);
    long base = Long.parseLong(Files.readString(Path.of("/proc", Integer.toString(pid), "uid_map")).trim().split("\\s+")[1]);
    List<String> dump = new ArrayList<>(List.of(criu.toString(), "dump", "-t", Integer.toString(pid), "-D", images.toString(),
        "-o", "dump.log", "-v4", "--tcp-established"));
    for (String p : points) dump.addAll(List.of("--external", "mnt[" + p + "]:" + p));
    run(dump, images.resolve("dump.log"));
    long rm = System.nanoTime();
    run(List.of("chown", "-R", "0:" + base, images.toString()), null);
    run(List.of("chmod", "-R", "g+rX", images.toString()), null);
    List<String> restore = new ArrayList<>(List.of(criu.toString(), "restore", "-D", images.toString(), "-o", "restore.log", "-v4",
        "--root", rootfs.toString(), "--restore-detached", "--pidfile", pidfile.toString(), "--tcp-established"));
    for (String p : points) restore.addAll(List.of("--external", "mnt[" + p + "]:" + lxcfs + p));
    run(restore, images.resolve("restore.log"));
    long r1 = System.nanoTime();
    return new Round(Integer.parseInt(Files.readString(pidfile).strip()), r0, rm, r1);
  }

  /**
   * Ends a restored tree: its root is nobody's child but init's, so the layer does not know it; kill it (the pid
   * namespace's other tasks die with it) before the layer destroys the rest. Waits, bounded, until it is gone.
   */
  public static void end(int pid) throws InterruptedException {
    if (pid <= 0) return;
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (alive(pid)) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("the restored tree " + pid + " was killed but did not exit within 10 s");
      Thread.sleep(20);
    }
  }

  /** Alive: its /proc entry is there and it is not a zombie (whoever reaps orphans here may take its time). */
  private static boolean alive(int pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException e) {
      return false;
    }
  }

  /** The bytes of the image files in {@code images} (CRIU's logs and the pidfile left out). */
  public static long imageBytes(Path images) throws IOException {
    try (var files = Files.list(images)) {
      long sum = 0;
      for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".img")).toList()) sum += Files.size(p);
      return sum;
    }
  }

  /** The container's mount points of LXCFS files (fuse.lxcfs), from its init's mountinfo. */
  private static List<String> lxcfsPoints(int pid) throws IOException {
    List<String> points = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "mountinfo"))) {
      int dash = line.indexOf(" - ");
      if (dash > 0 && line.substring(dash + 3).startsWith("fuse.lxcfs ")) points.add(line.split(" ")[4]);
    }
    return points;
  }

  private static void run(List<String> argv, Path log) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(argv).redirectInput(Redirect.from(new File("/dev/null")))
        .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).start();
    if (!p.waitFor(BOUND_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", argv) + " did not end within " + BOUND_SECONDS + " s" + tail(log));
    }
    if (p.exitValue() != 0) throw new IllegalStateException(String.join(" ", argv) + " exited " + p.exitValue() + tail(log));
  }

  private static String tail(Path log) {
    if (log == null || !Files.isRegularFile(log)) return "";
    try {
      List<String> lines = Files.readAllLines(log);
      return "; the end of " + log + ":\n  " + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "; its log " + log + " could not be read: " + e.getMessage();
    }
  }
}
