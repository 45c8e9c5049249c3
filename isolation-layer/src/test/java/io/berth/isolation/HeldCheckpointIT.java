package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.checkpoint.HeldDump;
import io.berth.isolation.process.Commands;
import io.berth.isolation.process.Procs;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The source side of a live migration: a CRIU dump that holds the container frozen (CRIU's post-dump
 * action script) until it is committed (CRIU kills it) or resumed (it goes on, same init), bounded, and
 * taken back by a new owner after the one that started it died; and syncfs of the container's disk.
 * Everything is read from the kernel: the init's pid and start time, its ptrace stop, processes left,
 * the counter the container writes into its own layer.
 */
class HeldCheckpointIT {
  /** The counter is a shell variable (in memory); the file only shows it, overwritten each tick. */
  static final String COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; usleep 50000; done";
  private static final Duration T = Duration.ofSeconds(10);

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

  @Test
  void aResumedHoldGoesOnWithTheSameInitAndItsCounter() throws Exception {
    IsolationLayer a = host.layer("a");
    ContainerId id = host.newId("hr");
    NetworkAttachment net = host.bridged(40);
    List<ContainerExit> exits = new CopyOnWriteArrayList<>();
    a.onExit(exits::add);
    a.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sh", "-c", COUNTER), net);
    int init = a.start(id);
    long started = Procs.startTime(init);
    Path counter = a.upperDir(id).resolve("tmp/counter");
    await("the counter reaches 10", Duration.ofSeconds(20), () -> written(counter) >= 10);

    Path images = host.runDir().resolve("images-resume");
    try (Ticks ticks = new Ticks(counter)) {
      long t0 = System.nanoTime();
      HeldCheckpoint held = a.checkpointHeld(id, images, Duration.ofSeconds(60));
      assertTrue(held.dumpStartedNanos() >= t0 && held.heldAtNanos() > held.dumpStartedNanos(), "launch and hold times in order");
      assertTrue(Files.isRegularFile(images.resolve("inventory.img")), "the images are complete at the hold");
      assertTrue(held.imageBytes() > 0, "image bytes counted: " + held.imageBytes());
      assertTrue(held.isWaiting());
      assertEquals("t", state(init), "the init is stopped under CRIU's ptrace while held");
      long frozen = written(counter);
      Thread.sleep(400);
      assertEquals(frozen, written(counter), "nothing counts while held");
      // Nothing else may act on a frozen container.
      assertThrows(ContainerStateException.class, () -> a.exec(id, List.of("true"), T), "exec while held");
      assertThrows(ContainerStateException.class, () -> a.stop(id, T), "stop while held");
      assertThrows(ContainerStateException.class, () -> a.checkpoint(id, host.runDir().resolve("other"), true), "checkpoint while held");
      long holdEnds = System.nanoTime();
      held.resume(T);
      long resumed = System.nanoTime();

      assertEquals(init, a.inspect(id).initPid(), "the same init runs after the resume");
      assertEquals(started, Procs.startTime(init), "the same process (start time), not a restored one");
      assertEquals(ContainerStatus.RUNNING, a.inspect(id).status());
      await("the counter goes on after the resume", T, () -> written(counter) > frozen + 5);
      // The first tick after the hold is the next value: the counter in memory went on, from where it was.
      Ticks.Tick first = ticks.firstAfter(frozen);
      assertEquals(frozen + 1, first.value(), "the first value after the resume follows the frozen one " + frozen);
      long gapMs = (first.nanos() - ticks.firstAt(frozen)) / 1_000_000;
      long holdMs = (resumed - t0) / 1_000_000;
      assertTrue(gapMs <= holdMs + 300, "the gap in counting (" + gapMs + " ms) is at most the hold (" + holdMs + " ms) plus 300 ms");
      assertTrue(gapMs >= (holdEnds - held.heldAtNanos()) / 1_000_000, "it stopped for the hold at least (" + gapMs + " ms)");
      assertEquals(List.of(), processesNaming(images.toString()), "no criu or hook process is left");
      assertFalse(Files.exists(HeldDump.controlDir(images)), "the control directory is gone");
      assertEquals(List.of(), exits, "no exit was reported");
      // Settled: the same decision again is a no-op, the other one refused; the container is free again.
      held.resume(T);
      assertThrows(ContainerStateException.class, () -> held.commit(T));
      assertEquals(0, a.exec(id, List.of("true"), T).exitCode(), "exec works again");
    }
    assertTrue(a.exec(id, List.of("ip", "-4", "-o", "addr"), T).stdout().contains(net.address() + "/24"), "eth0 kept its address");
  }

  @Test
  void aCommittedHoldEndsTheSourceAndItsImagesAndDiskCopyRestoreElsewhere() throws Exception {
    IsolationLayer a = host.layer("a");
    ContainerId id = host.newId("hc");
    NetworkAttachment net = host.bridged(41);
    ContainerSpec spec = TestHost.spec(id, Limits.DEFAULT.withDiskBytes(256L << 20), "/bin/sh", "-c", COUNTER);
    List<ContainerExit> exits = new CopyOnWriteArrayList<>();
    a.onExit(exits::add);
    a.prepare(spec, net);
    int init = a.start(id);
    Path counter = a.upperDir(id).resolve("tmp/counter");
    await("the counter reaches 10", Duration.ofSeconds(20), () -> written(counter) >= 10);

    // The migration's source side: hold, sync the disk, copy it while frozen, then commit.
    Path images = host.runDir().resolve("images-commit");
    HeldCheckpoint held = a.checkpointHeld(id, images, Duration.ofSeconds(60));
    long frozen = written(counter);
    a.syncDisk(id);
    IsolationLayer b = host.layer("b");
    Path incoming = b.config().imagesRoot().resolve("incoming.img");
    Files.createDirectories(incoming.getParent());
    Commands.Result cp = Commands.run(List.of("cp", "--sparse=always", a.diskImage(id).toString(), incoming.toString()), null, Duration.ofSeconds(60));
    assertTrue(cp.ok(), cp.describe());
    held.commit(T);

    assertFalse(Files.exists(Path.of("/proc", Integer.toString(init))), "the init is gone after the commit");
    assertEquals(ContainerStatus.STOPPED, a.inspect(id).status(), "the source stays prepared, stopped");
    assertEquals(List.of(), processesNaming(images.toString()), "no criu or hook process is left");
    await("the init's exit is reported", T, () -> !exits.isEmpty());
    assertTrue(exits.stream().allMatch(ContainerExit::requested), "no exit reported as unexpected: " + exits);
    assertTrue(Files.isRegularFile(images.resolve("inventory.img")), "inventory.img");
    try (var s = Files.list(images)) {
      assertTrue(s.anyMatch(p -> p.getFileName().toString().matches("pages-\\d+\\.img")), "pages images");
    }
    assertEquals(frozen, written(counter), "nothing counted after the hold");

    // The target: another data root adopts the disk copy and restores the images.
    a.destroy(id);
    b.prepare(spec, net, incoming);
    int restored = b.restore(id, images);
    assertTrue(restored > 0);
    Path counterB = b.upperDir(id).resolve("tmp/counter");
    await("the restored counter goes on from " + frozen, Duration.ofSeconds(20), () -> written(counterB) > frozen + 5);
    assertTrue(Long.parseLong(b.exec(id, List.of("cat", "/tmp/counter"), T).stdout().strip()) > frozen, "counting went on, not from 1");
  }

  @Test
  void aHoldWithoutADecisionEndsTheSourceAtItsBound() throws Exception {
    IsolationLayer a = host.layer("a");
    ContainerId id = host.newId("hb");
    List<ContainerExit> exits = new CopyOnWriteArrayList<>();
    a.onExit(exits::add);
    a.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sh", "-c", COUNTER), null);
    int init = a.start(id);
    await("the counter reaches 5", Duration.ofSeconds(20), () -> written(a.upperDir(id).resolve("tmp/counter")) >= 5);
    Path images = host.runDir().resolve("images-bound");
    HeldCheckpoint held = a.checkpointHeld(id, images, Duration.ofSeconds(2));
    await("the bound of 2 s ends the source and CRIU", Duration.ofSeconds(15),
        () -> !Files.exists(Path.of("/proc", Integer.toString(init))) && processesNaming(images.toString()).isEmpty());
    long endedMs = (System.nanoTime() - held.heldAtNanos()) / 1_000_000;
    assertTrue(endedMs >= 1900, "not before the bound: ended " + endedMs + " ms after the hold");
    assertFalse(held.isWaiting());
    IsolationException late = assertThrows(IsolationException.class, () -> held.resume(T), "a resume after the bound");
    assertTrue(late.getMessage().contains("reached its bound"), late.getMessage());
    assertEquals(ContainerStatus.STOPPED, a.inspect(id).status());
    await("the init's exit is reported", T, () -> !exits.isEmpty());
    assertTrue(exits.stream().allMatch(ContainerExit::requested), "the bound's kill is Berth's doing: " + exits);
    assertTrue(Files.isRegularFile(images.resolve("inventory.img")), "the images stay");
    held.close(); // settled: nothing to do
  }

  @Test
  void aNewOwnerTakesBackAHoldWhoseOwnerDied() throws Exception {
    IsolationLayer first = host.layer("a"); // registered for cleanup; the fixture's data root
    ContainerId id = host.newId("ha");
    Path images = host.runDir().resolve("images-attach");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process owner = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), HoldFixture.class.getName(),
        first.config().dataRoot().toString(), host.bridge, first.config().cgroupRoot(), id.value(), images.toString(), "60")
        .redirectErrorStream(true).start();
    int init;
    try {
      init = awaitHeldLine(owner);
    } finally {
      owner.destroyForcibly(); // SIGKILL: the owner dies as in a crash
      assertTrue(owner.waitFor(10, TimeUnit.SECONDS), "the owner JVM died");
    }
    Path counter = first.upperDir(id).resolve("tmp/counter");
    long frozen = written(counter);
    Thread.sleep(300);
    assertEquals(frozen, written(counter), "still held after its owner died");
    assertEquals("t", state(init), "the init is still stopped under CRIU's ptrace");
    assertFalse(processesNaming(images.toString()).isEmpty(), "CRIU and its hook outlived the JVM that started them");

    IsolationLayer next = host.layer("a"); // a new owner over the same data root
    next.adopt();
    List<ContainerExit> exits = new CopyOnWriteArrayList<>();
    next.onExit(exits::add);
    assertThrows(ContainerStateException.class, () -> next.stop(id, T), "the new owner sees the hold too");
    HeldCheckpoint held = next.attachHeld(id, images).orElseThrow(() -> new AssertionError("attachHeld found no hold"));
    assertTrue(held.isWaiting());
    assertEquals(init, held.initPid());
    held.resume(T);
    assertEquals(init, next.inspect(id).initPid(), "the same init runs after the resume");
    await("the counter goes on after the resume", T, () -> written(counter) > frozen + 5);
    assertEquals(List.of(), processesNaming(images.toString()), "no criu or hook process is left");
    assertTrue(next.attachHeld(id, images).isEmpty(), "no hold left to attach");
    assertEquals(List.of(), exits, "no exit was reported");
    assertEquals("holdBound", assertThrows(InvalidFieldException.class,
        () -> next.checkpointHeld(id, host.runDir().resolve("images-zero"), Duration.ZERO)).field(), "a zero bound is refused");
    assertFalse(Files.exists(host.runDir().resolve("images-zero")), "and nothing was made for it");
  }

  @Test
  void syncDiskPutsWhatWasWrittenIntoTheImageFile() throws Exception {
    IsolationLayer a = host.layer("a");
    ContainerId id = host.newId("sync");
    a.prepare(TestHost.spec(id, Limits.DEFAULT.withDiskBytes(64L << 20), "/bin/sleep", "1000"), null);
    a.start(id);
    // The control: a copy taken without syncDisk lacks a file just written (it sits in the page cache; ext4
    // allocates it at writeback, 30 s later). A sync(2) by anyone else on the machine would flush it, so up to
    // three files are tried until one copy shows it missing.
    String file = null;
    String content = null;
    List<String> controls = new ArrayList<>();
    for (int i = 0; i < 3 && file == null; i++) {
      String f = "synced-" + i;
      String c = "content-" + host.run + "-" + i + "-" + System.nanoTime();
      ExecResult w = a.exec(id, List.of("sh", "-c", "echo " + c + " > /" + f), T);
      assertEquals(0, w.exitCode(), w.toString());
      String seen = readFromCopy(a.diskImage(id), host.runDir().resolve("control-" + i + ".img"), "/upper/" + f);
      controls.add(seen);
      if (!seen.equals(c)) {
        file = f;
        content = c;
      }
    }
    assertTrue(file != null, "a copy taken without syncDisk lacked a file just written (three tries saw " + controls + ")");

    a.syncDisk(id);
    assertEquals(content, readFromCopy(a.diskImage(id), host.runDir().resolve("synced.img"), "/upper/" + file),
        "after syncDisk a copy holds the file's content");
    assertEquals(ContainerStatus.RUNNING, a.inspect(id).status(), "copied while the container runs");

    a.stop(id, Duration.ofMillis(100)); // sleep as pid 1 ignores SIGTERM: killed
    a.release(id);
    assertThrows(ContainerStateException.class, () -> a.syncDisk(id), "no sync of a released (unmounted) disk");
  }

  /**
   * Copies the disk image sparsely, as a migration sends it, replays the copy's journal as the target's
   * mount would (e2fsck -y), checks it is a consistent filesystem, and reads {@code file} from it (debugfs).
   */
  private static String readFromCopy(Path image, Path copy, String file) {
    Commands.Result cp = Commands.run(List.of("cp", "--sparse=always", image.toString(), copy.toString()), null, Duration.ofSeconds(60));
    assertTrue(cp.ok(), cp.describe());
    Commands.Result fsck = Commands.run(List.of("e2fsck", "-f", "-y", copy.toString()), null, Duration.ofSeconds(60));
    assertTrue(fsck.exitCode() == 0 || fsck.exitCode() == 1, "the copy replays and checks: " + fsck.describe());
    Commands.Result clean = Commands.run(List.of("e2fsck", "-f", "-n", copy.toString()), null, Duration.ofSeconds(60));
    assertEquals(0, clean.exitCode(), "the copy is a consistent filesystem: " + clean.describe());
    Commands.Result cat = Commands.run(List.of("debugfs", "-R", "cat " + file, copy.toString()), null, Duration.ofSeconds(30));
    return cat.stdout().strip();
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static int awaitHeldLine(Process owner) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    List<String> seen = new ArrayList<>();
    String line;
    while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
      if (line.startsWith("held ")) return Integer.parseInt(line.substring(5).strip());
      seen.add(line);
    }
    throw new AssertionError("the owner JVM did not hold the container; it said:\n" + String.join("\n", seen));
  }

  /** The state letter of /proc/PID/stat ("t": stopped under ptrace). */
  private static String state(int pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[0];
  }

  /** Live processes whose command line names {@code s} (CRIU names its images, the hook its control directory). */
  static List<Integer> processesNaming(String s) {
    List<Integer> pids = new ArrayList<>();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) continue;
        try {
          String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          if (cmd.contains(s)) pids.add(Integer.parseInt(name));
        } catch (IOException e) {
          // gone meanwhile
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return pids;
  }

  /** The counter as the container's layer holds it; 0 when read between the shell's truncate and its write. */
  static long written(Path counter) {
    try {
      String s = Files.readString(counter).strip();
      return s.isEmpty() ? 0 : Long.parseLong(s);
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  /** A host thread reading the counter file every 2 ms, recording when each value was first and last seen. */
  private static final class Ticks implements AutoCloseable {
    record Tick(long value, long nanos) {}

    private final List<Tick> seen = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean stop;

    Ticks(Path counter) {
      thread = new Thread(() -> {
        while (!stop) {
          long v = written(counter);
          if (v > 0) seen.add(new Tick(v, System.nanoTime()));
          try {
            Thread.sleep(2);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "counter-ticks");
      thread.setDaemon(true);
      thread.start();
    }

    /** The first reading of a value above {@code v}. */
    Tick firstAfter(long v) {
      return seen.stream().filter(t -> t.value() > v).findFirst().orElseThrow(() -> new AssertionError("no value after " + v + " seen"));
    }

    /** When {@code v} was first read (about when the container wrote it). */
    long firstAt(long v) {
      return seen.stream().filter(t -> t.value() == v).mapToLong(Tick::nanos).min().orElseThrow(() -> new AssertionError(v + " never seen"));
    }

    @Override
    public void close() throws InterruptedException {
      stop = true;
      thread.join(1000);
    }
  }
}
