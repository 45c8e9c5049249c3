package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.checkpoint.HeldDump;
import io.berth.isolation.process.Commands;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Post-copy between two data roots of this machine, on the real kernel and CRIU: the source's held lazy dump, the
 * relay, the target's lazy-pages daemon and restore. A user-namespaced (default, hardened) container: its restored
 * tasks get their userfaultfds through /dev/userfaultfd (Berth's CRIU patch), with vm.unprivileged_userfaultfd
 * left as it is. The memory is checked by its checksum, computed inside the container after the move.
 */
class PostCopyIT {
  private static final Duration T = Duration.ofSeconds(60);
  private TestHost host;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  /** {@code mib} MiB of non-zero memory held by {@code tail} (anonymous pages: post-copy's kind), checked on "go". */
  private static String holder(long mib) {
    long bytes = mib << 20;
    return "mkfifo /gate; yes berth-post-copy | head -c " + bytes + " | tail -c " + bytes
        + " | (read g < /gate; sha256sum > /result); sleep 100000";
  }

  private static String expectedSum(long mib) {
    Commands.Result r = Commands.run(List.of("/bin/sh", "-c", "yes berth-post-copy | head -c " + (mib << 20) + " | sha256sum"), null, T);
    assertTrue(r.ok(), r.describe());
    return r.stdout().strip().split("\\s+")[0];
  }

  private record Moved(IsolationLayer a, IsolationLayer b, ContainerId id, HeldCheckpoint held, LazyPageRelay relay,
      IsolationLayer.LazyRestore restored) {}

  /** A move ready to restore: the source held lazily on data root a, its disk copied and prepared on data root b. */
  private record Ready(IsolationLayer a, IsolationLayer b, ContainerId id, HeldCheckpoint held, LazyPageRelay relay, Path images) {}

  /**
   * Source on data root a, held lazily; its disk copied; prepared on data root b, with a relay to the source's CRIU.
   * When the target's daemon connects the relay runs {@code onDaemon} with the hold and itself (a real move commits
   * the hold then).
   */
  private Ready prepareMove(String name, long mib, int netIndex, java.util.function.BiConsumer<HeldCheckpoint, LazyPageRelay> onDaemon)
      throws Exception {
    IsolationLayer a = host.layer("a");
    // Two hosts in one kernel: b has its own data root and cgroup root (the container has one id on both).
    IsolationLayer b = new IsolationLayer(a.config().withDataRoot(host.runDir().resolve("b-" + name)).withCgroupRoot(host.cgroupRoot("b")));
    host.layers.add(b);
    ContainerId id = host.newId(name);
    NetworkAttachment net = host.bridged(netIndex);
    ContainerSpec spec = TestHost.spec(id, Limits.DEFAULT.withMemoryBytes((mib + 64) << 20).withDiskBytes(128L << 20), "/bin/sh", "-c", holder(mib));
    assertEquals(java.util.Optional.empty(), b.postCopyRefusal(), "post-copy can restore here");
    a.prepare(spec, net);
    a.start(id);
    await(mib + " MiB held in the container's memory", T, () -> a.stats(id).memoryBytes() >= (mib << 20));

    int criuPort = freePort();
    Path images = host.runDir().resolve("images-" + name);
    HeldCheckpoint held = a.checkpointHeldLazy(id, images, T, criuPort);
    java.util.concurrent.atomic.AtomicReference<LazyPageRelay> self = new java.util.concurrent.atomic.AtomicReference<>();
    LazyPageRelay relay = LazyPageRelay.open("127.0.0.1", criuPort, T, "127.0.0.1", () -> onDaemon.accept(held, self.get()));
    self.set(relay);
    assertTrue(held.isLazy(), "a lazy hold");
    try (var s = Files.list(images)) {
      long pages = s.filter(p -> p.getFileName().toString().startsWith("pages-")).mapToLong(p -> p.toFile().length()).sum();
      assertTrue(pages < (mib << 20) / 4, "the images hold almost none of the " + mib + " MiB: " + pages + " bytes of pages");
    }
    a.syncDisk(id);
    Path incoming = b.config().imagesRoot().resolve("incoming-" + name + ".img");
    Files.createDirectories(incoming.getParent());
    Commands.Result cp = Commands.run(List.of("cp", "--sparse=always", a.diskImage(id).toString(), incoming.toString()), null, T);
    assertTrue(cp.ok(), cp.describe());
    b.prepare(spec, net, incoming);
    return new Ready(a, b, id, held, relay, images);
  }

  /** {@link #prepareMove} as a real move does it, then restored lazily on data root b. */
  private Moved startMove(String name, long mib, int netIndex) throws Exception {
    Ready r = prepareMove(name, mib, netIndex, (held, relay) -> held.decideCommit());
    var restoring = CompletableFuture.supplyAsync(() -> r.b().restoreLazy(r.id(), r.images(), "127.0.0.1", r.relay().port()));
    IsolationLayer.LazyRestore restored;
    try {
      restored = restoring.get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      keepLogs(r.images());
      throw e;
    }
    assertTrue(restored.pid() > 0, "restored");
    return new Moved(r.a(), r.b(), r.id(), r.held(), r.relay(), restored);
  }

  @Test
  void whenThePagesStopWhileTheRestoreRunsItEndsAsAFailureAndTheSourceCanResume() throws Exception {
    // The daemon's first connection is cut at once: the restore still needs pages (its restorer touches lazy memory),
    // so the daemon fails while CRIU restores. CI once saw CRIU's restore wait on for good after that.
    Ready r = prepareMove("pd", 64, 47, (held, relay) -> CompletableFuture.runAsync(relay::close));
    var restoring = CompletableFuture.supplyAsync(() -> r.b().restoreLazy(r.id(), r.images(), "127.0.0.1", r.relay().port()));
    java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
        () -> restoring.get(30, java.util.concurrent.TimeUnit.SECONDS), "the restore ends, as a failure");
    String why = String.valueOf(e.getCause());
    assertTrue(why.contains("lazy-pages"), "the failure names the daemon: " + why);
    assertFalse(r.b().inspect(r.id()).status() == ContainerStatus.RUNNING, "nothing of it runs on the target");
    assertTrue(Commands.run(List.of("pgrep", "-f", "criu restore.*" + r.images()), null, T).exitCode() == 1,
        "no CRIU restore of it is left");
    // The hold was never committed (nothing took over): the source goes on where it was.
    r.held().resume(T);
    assertEquals(ContainerStatus.RUNNING, r.a().inspect(r.id()).status(), "the source runs again");
  }

  @Test
  void aPostCopyMoveRunsOnTheTargetWithEveryPageWhole() throws Exception {
    long mib = 96;
    String expected = expectedSum(mib);
    Moved m = startMove("pc", mib, 43);
    assertTrue(m.relay().upstreamAtNanos() > m.held().decidedNanos() && m.held().decidedNanos() > 0,
        "the daemon's connection committed the hold, and the relay reached CRIU's page server after that");
    m.held().commit(T);
    LazyPages.Outcome out = m.restored().pages().await(T);
    assertTrue(out.complete(), "every page arrived: " + out);
    assertTrue(out.pages() > 0 && out.pages() <= out.totalPages(), "the daemon copied pages: " + out);
    assertTrue(m.relay().bytesToTarget() >= out.pages() * 4096, "the relay carried the pages: " + m.relay().bytesToTarget() + " bytes");
    assertFalse(m.a().inspect(m.id()).status() == ContainerStatus.RUNNING, "the source does not run");
    ExecResult r = m.b().exec(m.id(), List.of("/bin/sh", "-c", "echo go > /gate; i=0; while [ ! -s /result ] && [ $i -lt 300 ]; do usleep 100000; "
        + "i=$((i+1)); done; cat /result"), T);
    if (!expected.equals(r.stdout().strip().split("\\s+")[0])) keepLogs(host.runDir().resolve("images-pc"));
    assertEquals(expected, r.stdout().strip().split("\\s+")[0], "the memory crossed whole: " + r);
  }

  @Test
  void whenTheSourceGoesAwayMidTransferTheTargetsCopyIsKilledAndSoIsTheSource() throws Exception {
    long mib = 384;
    Moved m = startMove("pl", mib, 44);
    int targetInit = m.restored().pid();
    int sourceInit = m.held().initPid();
    CompletableFuture<Void> commit = CompletableFuture.runAsync(() -> m.held().commit(T));
    await("some pages relayed", T, () -> m.relay().bytesToTarget() > (4L << 20));
    m.relay().close(); // the source's side of the transfer is gone, pages still missing on the target
    LazyPages.Outcome out = m.restored().pages().await(T);
    assertFalse(out.complete(), "the daemon reports the loss: " + out);
    assertFalse(Files.exists(Path.of("/proc", Integer.toString(targetInit))), "the target's init was killed: " + out);
    await("the target's cgroups are empty", T, () -> m.b().inspect(m.id()).status() != ContainerStatus.RUNNING);
    // CRIU takes the closed connection for the end of the transfer and kills the tasks as after a whole one (or,
    // when it saw an error, the hold's wrapper kills them): either way nothing of the source runs on.
    try {
      commit.get(T.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      assertTrue(String.valueOf(e.getCause().getMessage()).contains("source's tasks were killed"), "the source says so: " + e.getCause());
    }
    assertFalse(Files.exists(Path.of("/proc", Integer.toString(sourceInit))), "the source's init is gone");
  }

  /** A container holding {@code mib} MiB, started on data root a and held by a lazy dump (nobody restores it). */
  private record Held(IsolationLayer a, ContainerId id, HeldCheckpoint held, int init, Path images) {}

  private Held holdLazily(String name, long mib, int netIndex, Duration bound) throws Exception {
    IsolationLayer a = host.layer("a");
    ContainerId id = host.newId(name);
    ContainerSpec spec = TestHost.spec(id, Limits.DEFAULT.withMemoryBytes((mib + 64) << 20).withDiskBytes(128L << 20), "/bin/sh", "-c", holder(mib));
    a.prepare(spec, host.bridged(netIndex));
    int init = a.start(id);
    await(mib + " MiB held in the container's memory", T, () -> a.stats(id).memoryBytes() >= (mib << 20));
    Path images = host.runDir().resolve("images-" + name);
    HeldCheckpoint held = a.checkpointHeldLazy(id, images, bound, freePort());
    assertTrue(held.isLazy(), "a lazy hold");
    assertTrue(procState(init).startsWith("t"), "held frozen (traced): " + procState(init));
    return new Held(a, id, held, init, images);
  }

  @Test
  void aLazyHoldResumedGoesOnAtOnceWithItsMemory() throws Exception {
    long mib = 64;
    String expected = expectedSum(mib);
    Held h = holdLazily("pr", mib, 45, T);
    h.held().resume(T);
    // CRIU (Berth's patch 03) serves no pages after a resume: without it the tasks stayed frozen, waiting for a daemon.
    await("CRIU of the resumed lazy hold has ended", Duration.ofSeconds(10), () -> HeldDump.find(h.images()).isEmpty());
    assertTrue(procState(h.init()).matches("[SR]"), "running again where it was: " + procState(h.init()));
    ExecResult r = h.a().exec(h.id(), List.of("/bin/sh", "-c", "echo go > /gate; i=0; while [ ! -s /result ] && [ $i -lt 300 ]; do usleep 100000; "
        + "i=$((i+1)); done; cat /result"), T);
    assertEquals(expected, r.stdout().strip().split("\\s+")[0], "its memory is whole: " + r);
  }

  @Test
  void aLazyHoldNobodyDecidesKillsTheSourceAndEndsCriuAtTheBound() throws Exception {
    Held h = holdLazily("pe", 16, 46, Duration.ofSeconds(2));
    // No decision: at the bound the hook kills the tasks (a copy may run elsewhere) and CRIU, which would otherwise
    // wait for a lazy-pages daemon for ever.
    await("CRIU of the expired lazy hold has ended", Duration.ofSeconds(20), () -> HeldDump.find(h.images()).isEmpty());
    // Killed: gone, or a zombie for the moment until the shim reaps it (CI saw /proc/PID still there).
    await("the source's init " + h.init() + " is dead", Duration.ofSeconds(5), () -> procState(h.init()).matches("gone|Z"));
    await("the source's cgroups are empty", Duration.ofSeconds(5), () -> h.a().inspect(h.id()).status() != ContainerStatus.RUNNING);
    assertEquals("expired", Files.readString(HeldDump.controlDir(h.images()).resolve("outcome")).strip(), "the hook says why");
  }

  private static String procState(int pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      return stat.substring(stat.lastIndexOf(")") + 2).split(" ")[0];
    } catch (java.io.IOException e) {
      return "gone";
    }
  }

  /** CRIU's logs of a failed move, kept for the reader (the run directory goes with the test). */
  private static void keepLogs(Path images) throws java.io.IOException {
    Path keep = Path.of("/tmp/berth-post-copy-logs");
    Files.createDirectories(keep);
    for (String f : List.of("dump.log", "restore.log", "lazy-pages.log")) {
      if (Files.exists(images.resolve(f))) Files.copy(images.resolve(f), keep.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
