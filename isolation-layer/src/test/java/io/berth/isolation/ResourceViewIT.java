package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.isolation.process.Commands;
import io.berth.isolation.rootfs.Rootfs;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each container sees its own resources, not the host's: memory (LXCFS's meminfo, read by procps'
 * {@code free}), cpus ({@code nproc} through its cpuset, cpuinfo and stat through LXCFS), uptime (its
 * time namespace). Each view is shown against a privileged container beside it, which sees the host's,
 * so every assertion can fail. And LXCFS itself: restarted when killed, adopted by a restarted owner,
 * gone after cleanup.
 *
 * <p>Files are read with grep (read(2)), not busybox's cat: cat copies with sendfile(2), which on this
 * kernel serves FUSE files from the page cache even under LXCFS's direct_io, so it can show a view
 * from before a change, or another container's (see the README, "The container's own view").
 */
class ResourceViewIT {
  private static final Limits SMALL = new Limits(1000, 64L << 20, 0, 512);
  private static final Duration T = Duration.ofSeconds(10);

  private TestHost host;
  private IsolationLayer layer;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    HostTests.requireLxcfs();
    host = new TestHost();
    layer = host.layer("a");
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  private static ContainerSpec spec(ContainerId id, Limits limits, boolean privileged) {
    return new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"), limits, null, null, null, privileged);
  }

  private String sh(IsolationLayer l, ContainerId id, String script) {
    ExecResult r = l.exec(id, List.of("/bin/sh", "-c", script), T);
    assertEquals(0, r.exitCode(), "`" + script + "` in " + id + ": " + r.stderr());
    return r.stdout();
  }

  private long memTotalKb(IsolationLayer l, ContainerId id) {
    return firstNumber(sh(l, id, "grep ^MemTotal: /proc/meminfo"));
  }

  /** The "Mem:" total of `free -m`, run as procps' free (it reads /proc/meminfo; see {@link #installProcpsFree}). */
  private long freeTotalMiB(IsolationLayer l, ContainerId id) {
    String out = sh(l, id, "/usr/local/bin/free -m");
    for (String line : out.split("\n")) if (line.startsWith("Mem:")) return Long.parseLong(line.split("\\s+")[1]);
    throw new AssertionError("no Mem: line in free -m of " + id + ":\n" + out);
  }

  private static long firstNumber(String s) {
    Matcher m = Pattern.compile("(\\d+)").matcher(s);
    assertTrue(m.find(), "a number in: " + s);
    return Long.parseLong(m.group(1));
  }

  private static long count(String text, String regex) {
    Pattern p = Pattern.compile(regex);
    return text.lines().filter(l -> p.matcher(l).find()).count();
  }

  private static long hostMemTotalKb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) if (line.startsWith("MemTotal:")) return firstNumber(line);
    throw new AssertionError("no MemTotal in the host's /proc/meminfo");
  }

  private static double hostUptime() throws Exception {
    return Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
  }

  /**
   * procps' {@code free} (what Debian/Ubuntu/RHEL guests run) and the libraries it links, copied from the
   * host into the container's writable layer (its ids on disk are the container's, unshifted) before it
   * starts, at /usr/local/bin, as installing procps would. busybox's own {@code free}
   * takes its totals from sysinfo(2), which neither LXCFS nor any namespace changes (see the README).
   */
  private static void installProcpsFree(Path layer) throws Exception {
    Commands.Result ldd = Commands.run(List.of("ldd", "/usr/bin/free"), null, T);
    assertTrue(ldd.ok(), ldd.describe());
    Matcher m = Pattern.compile("(/\\S+)").matcher(ldd.stdout());
    while (m.find()) copyInto(layer, Path.of(m.group(1)), Path.of(m.group(1)));
    copyInto(layer, Path.of("/usr/bin/free"), Path.of("/usr/local/bin/free"));
  }

  private static void copyInto(Path rootfs, Path from, Path to) throws Exception {
    Path target = rootfs.resolve(to.toString().substring(1));
    Files.createDirectories(target.getParent());
    Commands.Result r = Commands.run(List.of("cp", "-L", from.toString(), target.toString()), null, T);
    assertTrue(r.ok(), r.describe());
  }

  @Test
  void aContainerSeesItsOwnMemoryCpusAndUptimeAndAPrivilegedOneTheHosts() throws Exception {
    int hostCpus = Runtime.getRuntime().availableProcessors();
    assumeTrue(hostCpus >= 2, "the cpu views need a host with 2 cpus or more to differ from it (this one has " + hostCpus + ")");
    ContainerId own = host.newId("own");
    ContainerId priv = host.newId("priv");
    layer.prepare(spec(own, SMALL, false), null);
    layer.prepare(spec(priv, SMALL, true), null);
    installProcpsFree(layer.upperDir(own));
    installProcpsFree(layer.upperDir(priv));
    long t0 = System.nanoTime();
    layer.start(own);
    layer.start(priv);

    // Memory: LXCFS's meminfo says the cgroup's limit; procps' free reads it.
    assertEquals(65536, memTotalKb(layer, own), "MemTotal in a 64M container");
    assertEquals(64, freeTotalMiB(layer, own), "free -m total in a 64M container");
    assertEquals(hostMemTotalKb(), memTotalKb(layer, priv), "a privileged container reads the host's meminfo");
    assertEquals(hostMemTotalKb() / 1024, freeTotalMiB(layer, priv), 1, "and free shows the host's total");

    // Cpus: a 1-cpu container is pinned to one cpu (nproc counts sched_getaffinity); LXCFS lists one.
    assertEquals("1", sh(layer, own, "nproc").strip(), "nproc under --cpus 1");
    assertEquals(1, count(sh(layer, own, "grep ^processor /proc/cpuinfo"), "^processor\\s*:"), "processors in /proc/cpuinfo");
    assertEquals(1, count(sh(layer, own, "grep ^cpu /proc/stat"), "^cpu\\d+ "), "cpuN lines in /proc/stat");
    assertEquals(hostCpus, count(sh(layer, priv, "grep ^processor /proc/cpuinfo"), "^processor\\s*:"), "the host's processors");
    assertEquals(hostCpus, count(sh(layer, priv, "grep ^cpu /proc/stat"), "^cpu\\d+ "), "the host's cpu lines");
    assertEquals(1, cpusetOf(own).size(), "cpuset.cpus of a 1-cpu container");

    // Uptime: seconds since the container's start (its time namespace), busybox's uptime (sysinfo) too.
    double elapsed = (System.nanoTime() - t0) / 1e9;
    double up = Double.parseDouble(sh(layer, own, "cat /proc/uptime").split(" ")[0]);
    assertTrue(up <= elapsed + 1, "/proc/uptime " + up + " s in a container started " + elapsed + " s ago");
    assumeTrue(hostUptime() > 180, "the uptime views need a host up for more than 3 minutes to differ from it");
    double privUp = Double.parseDouble(sh(layer, priv, "cat /proc/uptime").split(" ")[0]);
    assertEquals(hostUptime(), privUp, 5, "a privileged container reads the host's uptime");
    assertTrue(sh(layer, own, "uptime").matches("(?s).*up\\s+[01] min.*"), "busybox uptime (sysinfo) counts from the container's start: "
        + sh(layer, own, "uptime"));
    assertTrue(!sh(layer, priv, "uptime").matches("(?s).*up\\s+[01] min.*"), "and the privileged one's from the host's boot");

    // Limits changed on the running container show at once.
    layer.setLimits(own, SMALL.withMemoryBytes(128L << 20).withCpuMillis(2000));
    assertEquals(128, freeTotalMiB(layer, own), "free -m after setLimits to 128M");
    assertEquals(131072, memTotalKb(layer, own));
    assertEquals(String.valueOf(Math.min(2, hostCpus)), sh(layer, own, "nproc").strip(), "nproc after setLimits to 2 cpus");
    assertEquals(Math.min(2, hostCpus), count(sh(layer, own, "grep ^processor /proc/cpuinfo"), "^processor\\s*:"));
  }

  private List<Integer> cpusetOf(ContainerId id) throws Exception {
    Path f = Path.of("/sys/fs/cgroup/cpuset", layer.config().cgroupRoot(), id.value(), "cpuset.cpus");
    return io.berth.isolation.cgroup.CpuList.parse(Files.readString(f));
  }

  @Test
  void lxcfsKilledIsRestartedAndContainersSeeTheirOwnViewAgain() throws Exception {
    ContainerId a = host.newId("ka");
    layer.prepare(spec(a, SMALL, false), null);
    long t0 = System.nanoTime();
    layer.lxcfs().ensure();
    long firstStart = System.nanoTime() - t0;
    long[] adopt = new long[20];
    for (int i = 0; i < adopt.length; i++) {
      long t = System.nanoTime();
      layer.lxcfs().ensure();
      adopt[i] = System.nanoTime() - t;
    }
    java.util.Arrays.sort(adopt);
    System.out.printf("figures: lxcfs first start %.1f ms, ensure() of a running one median %.2f ms%n", firstStart / 1e6, adopt[10] / 1e6);
    layer.start(a);
    assertEquals(65536, memTotalKb(layer, a));
    int first = layer.lxcfs().pid().orElseThrow();

    Commands.Result kill = Commands.run(List.of("kill", "-9", Integer.toString(first)), null, T);
    assertTrue(kill.ok(), kill.describe());
    long killed = System.nanoTime();
    await("the supervisor starts a new lxcfs after " + first + " was killed", Duration.ofSeconds(15),
        () -> layer.lxcfs().pid().isPresent() && layer.lxcfs().pid().getAsInt() != first && layer.lxcfs().answers());
    // The running container's binds of the dead mount are replaced (they answered ENOTCONN).
    await("the running container reads its own meminfo again", Duration.ofSeconds(15), () -> {
      ExecResult r = layer.exec(a, List.of("grep", "^MemTotal:", "/proc/meminfo"), T);
      return r.exitCode() == 0 && firstNumber(r.stdout()) == 65536;
    });
    System.out.printf("figures: lxcfs killed -> the running container reads its own meminfo again in %.0f ms%n", (System.nanoTime() - killed) / 1e6);

    ContainerId b = host.newId("kb");
    layer.prepare(spec(b, SMALL.withMemoryBytes(32L << 20), false), null);
    layer.start(b);
    assertEquals(32768, memTotalKb(layer, b), "a container started after the restart sees its own view");
    assertEquals(List.of(layer.lxcfs().pid().getAsInt()), TestHost.lxcfsUnder(layer.config().dataRoot()), "one lxcfs for the data root");
  }

  @Test
  void aRestartedOwnerAdoptsTheRunningLxcfsAndCleanupLeavesNothing() throws Exception {
    ContainerId a = host.newId("oa");
    layer.prepare(spec(a, SMALL, false), null);
    layer.start(a);
    int pid = layer.lxcfs().pid().orElseThrow();
    layer.close(); // the owner goes; the container and LXCFS run on

    IsolationLayer again = host.layer("a");
    assertEquals(1, again.adopt().size());
    assertEquals(OptionalInt.of(pid), again.lxcfs().pid(), "the running lxcfs is adopted");
    ContainerId b = host.newId("ob");
    again.prepare(spec(b, SMALL.withMemoryBytes(48L << 20), false), null);
    again.start(b);
    assertEquals(49152, memTotalKb(again, b));
    assertEquals(List.of(pid), TestHost.lxcfsUnder(again.config().dataRoot()), "no second lxcfs over the same mount");
    Path mount = again.lxcfs().mount();
    assertTrue(Rootfs.isMountPoint(mount));

    Path runDir = host.runDir();
    host.close();
    host = null;
    assertEquals(List.of(), TestHost.lxcfsUnder(runDir), "no lxcfs process left after cleanup");
    assertEquals(List.of(), Rootfs.mountsUnder(runDir), "no mount left under " + runDir);
    assertTrue(!Files.exists(Path.of("/proc", Integer.toString(pid))), "lxcfs " + pid + " is gone");
  }
}
