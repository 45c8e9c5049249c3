package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.fence.FenceRecord;
import io.berth.isolation.fence.Watchdog;
import io.berth.isolation.process.Commands;
import io.berth.isolation.process.Helper;
import io.berth.isolation.process.Procs;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fencing watchdog (src/main/c/watchdog) against real containers of the layer, asserted on the kernel's
 * view: /proc and the containers' cgroup.procs. A test "is" the node: it starts the watchdog and feeds it;
 * stopping the feeding (and closing its connection) is what a hung or dead JVM does.
 */
class WatchdogIT {
  /** How long the fence may take after the deadline: scheduling on a shared 2-core machine plus the kills. */
  private static final Duration FENCE_BOUND = Duration.ofSeconds(2);

  private TestHost host;
  private IsolationLayer layer;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("a");
  }

  @AfterEach
  void tearDown() {
    try {
      if (layer != null) killWatchdog(layer.config().dataRoot());
    } finally {
      if (host != null) host.close();
    }
  }

  @Test
  void notFedItFreezesAndKillsEveryProcessOfEveryContainerOutsideTheJvm() throws Exception {
    ContainerId a = host.newId("wa");
    ContainerId b = host.newId("wb");
    // A container whose init has children (the fence must not rely on the pid namespace's init alone).
    layer.prepare(TestHost.spec(a, Limits.DEFAULT, "/bin/sh", "-c", "sleep 1000 & sleep 1000 & while true; do sleep 1; done"), null);
    layer.prepare(TestHost.spec(b, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    int initA = layer.start(a);
    int initB = layer.start(b);
    await("container " + a + " runs its init and two sleeps", Duration.ofSeconds(10), () -> procs(a).size() >= 4);
    Map<Integer, Long> before = new HashMap<>();
    for (ContainerId id : List.of(a, b)) for (int p : procs(id)) before.put(p, Procs.startTime(p));
    // The loop's own `sleep 1`s come and go (they keep the container forking during the fence): keep the
    // processes that live on, the init and its two sleeps.
    Thread.sleep(1100);
    before.entrySet().removeIf(e -> !Procs.isAlive(e.getKey(), e.getValue()));
    assertEquals(4, before.size(), "the two inits and the two background sleeps live on: " + before);
    assertTrue(before.containsKey(initA) && before.containsKey(initB), "the inits are in their cgroups: " + before);

    Duration deadline = Duration.ofMillis(1500);
    long lastFeed;
    try (Watchdog w = Watchdog.start(layer.config(), deadline)) {
      assertFalse(w.attached(), "none ran before: this one was started");
      // Outside the JVM: not its child, another session.
      String[] stat = statFields(w.pid());
      assertNotEquals(Long.toString(ProcessHandle.current().pid()), stat[1], "the watchdog's parent is not the JVM");
      assertNotEquals(statFields((int) ProcessHandle.current().pid())[3], stat[3], "the watchdog has its own session");
      assertEquals(Integer.toString(w.pid()), stat[3], "the watchdog leads its session");
      for (int i = 0; i < 5; i++) {
        w.feed(deadline);
        Thread.sleep(200);
      }
      w.feed(deadline);
      lastFeed = System.nanoTime();
      // The "JVM" stops feeding and its connection goes, as when it is killed.
    }
    int watchdogPid = Integer.parseInt(Files.readString(Watchdog.dir(layer.config().dataRoot()).resolve("lock")).strip());
    Thread.sleep(Math.max(0, deadline.toMillis() - 300 - (System.nanoTime() - lastFeed) / 1_000_000));
    for (var e : before.entrySet()) {
      assertTrue(Procs.isAlive(e.getKey(), e.getValue()), "nothing is fenced before the deadline: pid " + e.getKey() + " is gone");
    }
    Duration bound = deadline.plus(FENCE_BOUND);
    await("every process of both containers is gone and their cgroup.procs are empty, " + bound.toMillis() + " ms after the last feed",
        bound.minusNanos(System.nanoTime() - lastFeed),
        () -> before.entrySet().stream().noneMatch(e -> Procs.isAlive(e.getKey(), e.getValue())) && procs(a).isEmpty() && procs(b).isEmpty());
    long goneMs = (System.nanoTime() - lastFeed) / 1_000_000;
    for (int p : before.keySet()) {
      assertTrue(Procs.startTime(p) < 0 || Procs.startTime(p) != before.get(p), "pid " + p + " has no /proc entry left (or only a zombie's)");
    }
    await("the watchdog exits after fencing", Duration.ofSeconds(5), () -> Procs.startTime(watchdogPid) < 0);
    assertFalse(Files.exists(Watchdog.socket(layer.config().dataRoot())), "its socket is removed");
    Path freezer = Path.of("/sys/fs/cgroup/freezer", layer.config().cgroupRoot());
    assertFalse(Files.exists(freezer.resolve(a.value())), "the freezer cgroup it made is removed: " + freezer.resolve(a.value()));

    List<FenceRecord> records = Watchdog.fencedRecords(layer.config().dataRoot());
    assertEquals(1, records.size(), "one fence record: " + records);
    FenceRecord r = records.get(0);
    assertTrue(r.complete(), "nothing remained: " + r);
    assertEquals(deadline, r.deadline());
    assertEquals(watchdogPid, r.watchdogPid());
    assertTrue(!r.fencedAt().isBefore(r.lastFedAt().plus(deadline)), "fenced at or after the last feed's deadline: " + r);
    Map<String, FenceRecord.Fenced> byId = new HashMap<>();
    for (FenceRecord.Fenced f : r.containers()) byId.put(f.container(), f);
    assertEquals(java.util.Set.of(a.value(), b.value()), byId.keySet(), "both containers fenced: " + r);
    for (FenceRecord.Fenced f : byId.values()) assertTrue(f.frozen(), f.container() + " was FROZEN before the kill: " + r);
    List<Integer> killed = new ArrayList<>(byId.get(a.value()).pids());
    killed.addAll(byId.get(b.value()).pids());
    assertTrue(killed.containsAll(before.keySet()), "the record names every pid it killed " + killed + " ⊇ " + before.keySet());
    // The layer sees the init killed by SIGKILL (its shim, outside the cgroups, recorded it), the container stopped.
    await("the layer reports " + a + " stopped", Duration.ofSeconds(5), () -> layer.inspect(a).status() == ContainerStatus.STOPPED);
    assertEquals(9, layer.lastExit(a).orElseThrow().signal().orElse(-1), "the init ended by SIGKILL: " + layer.lastExit(a));
    System.out.printf("watchdog fence: deadline %d ms, all gone %d ms after the last feed, the fence itself took %d ms%n",
        deadline.toMillis(), goneMs, r.took().toMillis());

    Watchdog.acknowledge(r);
    assertEquals(List.of(), Watchdog.fencedRecords(layer.config().dataRoot()), "an acknowledged record is gone");
  }

  @Test
  void fedItNeverFencesAndDisarmStopsItWithoutFencing() throws Exception {
    ContainerId id = host.newId("wf");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    int init = layer.start(id);
    long started = Procs.startTime(init);
    Duration deadline = Duration.ofMillis(400);
    Watchdog w = Watchdog.start(layer.config(), deadline);
    int pid = w.pid();
    long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    while (System.nanoTime() < until) {
      w.feed(deadline);
      Thread.sleep(100);
    }
    assertTrue(Procs.isAlive(init, started), "fed for 3 s with a 400 ms deadline: the init " + init + " still runs, same start time");
    assertEquals(List.of(init), procs(id), "the container's cgroup holds its init only");
    assertTrue(w.remaining().toMillis() <= deadline.toMillis(), "status counts down from the last feed");
    w.disarm();
    assertTrue(Procs.startTime(pid) < 0, "disarmed: the watchdog process " + pid + " is gone");
    assertFalse(Files.exists(Watchdog.socket(layer.config().dataRoot())), "disarmed: its socket is removed");
    Thread.sleep(deadline.toMillis() + 500);
    assertTrue(Procs.isAlive(init, started), "disarmed, its deadline long past: the init still runs");
    assertEquals(List.of(), Watchdog.fencedRecords(layer.config().dataRoot()), "no fence record");
    assertTrue(Watchdog.attach(layer.config().dataRoot()).isEmpty(), "nothing to attach to after disarm");
  }

  @Test
  void aNewOwnerReattachesAndASecondWatchdogIsRefused() throws Exception {
    ContainerId id = host.newId("wr");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    int init = layer.start(id);
    long started = Procs.startTime(init);
    Path root = layer.config().dataRoot();
    Duration deadline = Duration.ofMillis(1500);
    int pid;
    try (Watchdog first = Watchdog.start(layer.config(), deadline)) {
      pid = first.pid();
    } // the first owner is gone; its deadline runs on
    // A new owner (a restarted JVM) within the deadline: it attaches to the same process and feeds it.
    long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    try (Watchdog again = Watchdog.start(layer.config(), deadline)) {
      assertTrue(again.attached(), "start finds the running watchdog and attaches");
      assertEquals(pid, again.pid(), "the same watchdog process");
      while (System.nanoTime() < until) {
        again.feed(deadline);
        Thread.sleep(200);
      }
      assertTrue(Procs.isAlive(init, started), "re-attached and fed past the first deadline: the init still runs");
      // The program itself refuses a second instance on the data root (the lock), naming the one that runs.
      Path binary = Helper.install(Watchdog.RESOURCE, "berth-watchdog", root.resolve("bin"));
      Commands.Result r = Commands.run(List.of(binary.toString(), root.toString(), "/sys/fs/cgroup", layer.config().cgroupRoot(), "v1", "1000"),
          null, Duration.ofSeconds(10));
      assertEquals(3, r.exitCode(), "a second watchdog is refused: " + r.describe());
      assertTrue(r.stdout().startsWith("error already-running " + pid), r.stdout());
      again.feed(deadline);
      assertEquals(pid, Watchdog.attach(root).orElseThrow().pid(), "the first one still answers");
      again.disarm();
    }
    assertTrue(Procs.isAlive(init, started), "disarmed: the init still runs");
  }

  @Test
  void badInputIsRefusedLoggedAndFencesNothing() throws Exception {
    ContainerId id = host.newId("wb");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    int init = layer.start(id);
    long started = Procs.startTime(init);
    Path root = layer.config().dataRoot();
    assertEquals("deadline", assertThrows(InvalidFieldException.class, () -> Watchdog.start(layer.config(), Duration.ZERO)).field());
    assertTrue(Watchdog.attach(root).isEmpty(), "a refused start starts nothing");
    Path binary = Helper.install(Watchdog.RESOURCE, "berth-watchdog", root.resolve("bin"));
    Commands.Result zero = Commands.run(List.of(binary.toString(), root.toString(), "/sys/fs/cgroup", layer.config().cgroupRoot(), "v1", "0"),
        null, Duration.ofSeconds(10));
    assertEquals(125, zero.exitCode(), "a first deadline of 0 is refused by the program too: " + zero.describe());
    assertTrue(zero.stdout().startsWith("error args"), zero.stdout());

    Duration deadline = Duration.ofMillis(1500);
    try (Watchdog w = Watchdog.start(layer.config(), deadline)) {
      assertThrows(InvalidFieldException.class, () -> w.feed(Duration.ZERO), "feed(0) is refused before anything is sent");
      assertThrows(InvalidFieldException.class, () -> w.feed(Duration.ofHours(1)));
      try (SocketChannel raw = SocketChannel.open(UnixDomainSocketAddress.of(Watchdog.socket(root)))) {
        for (String bad : List.of("feed 0", "feed -5", "feed 99", "feed 600001", "feed 12abc", "feed ", "FEED 1000", "hello", "\u0001\u0002garbage")) {
          long before = w.remaining().toMillis();
          String reply = send(raw, bad + "\n");
          assertTrue(reply.startsWith("error "), "\"" + bad + "\" is refused: " + reply);
          assertTrue(w.remaining().toMillis() <= before, "\"" + bad + "\" did not re-arm it");
        }
        // A NUL inside a line, then a line too long: refused, and the long one closes that connection.
        assertTrue(send(raw, "feed 1\u0000000\n").startsWith("error "), "a line holding NUL is refused");
        String tooLong = send(raw, "x".repeat(300));
        assertTrue(tooLong.startsWith("error line longer"), tooLong);
      }
      w.feed(deadline);
      assertTrue(Procs.isAlive(init, started), "refused input fenced nothing: the init still runs");
      assertEquals(List.of(), Watchdog.fencedRecords(root), "no fence record");
      String log = Files.readString(Watchdog.dir(root).resolve("watchdog.log"));
      for (String bad : List.of("\"feed 0\"", "\"feed -5\"", "\"feed 12abc\"", "\"hello\"", "\"??garbage\"", "NUL", "longer than")) {
        assertTrue(log.contains("refused") && log.contains(bad), "the log names the refusal of " + bad + ":\n" + log);
      }
      w.disarm();
    }
    assertTrue(Procs.isAlive(init, started), "the init still runs after disarm");
  }

  /** Writes {@code text} and reads one reply line (bounded). */
  private static String send(SocketChannel ch, String text) throws IOException {
    ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1)));
    ByteBuffer in = ByteBuffer.allocate(512);
    long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    ch.configureBlocking(true);
    while (System.nanoTime() < until) {
      if (ch.read(in) < 0) break;
      String s = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
      int nl = s.indexOf('\n');
      if (nl >= 0) return s.substring(0, nl);
    }
    return new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
  }

  /** The container's pids as its pids cgroup lists them (every container joins pids; Cgroups.procs reads it). */
  private List<Integer> procs(ContainerId id) {
    Path f = Path.of("/sys/fs/cgroup/pids", layer.config().cgroupRoot(), id.value(), "cgroup.procs");
    try {
      return Files.readAllLines(f).stream().filter(l -> !l.isBlank()).map(l -> Integer.parseInt(l.strip())).toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  /** /proc/PID/stat after the command name: [state, ppid, pgrp, session, ...]. */
  private static String[] statFields(int pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
  }

  /** SIGKILL to the data root's watchdog, if one still runs (a failed test's; SIGKILL does not fence). */
  static void killWatchdog(Path dataRoot) {
    Optional<String> pid = TestHost.readIfExists(Watchdog.dir(dataRoot).resolve("lock")).map(String::strip).filter(s -> s.matches("[0-9]+"));
    pid.flatMap(p -> ProcessHandle.of(Long.parseLong(p)))
        .filter(h -> h.info().command().map(c -> c.contains("berth-watchdog")).orElse(false))
        .ifPresent(ProcessHandle::destroyForcibly);
  }
}
