package io.berth.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migration as an operator meets it, on a local cluster of three hosts from {@code bin/berth up}: a live move that
 * keeps a client's TCP connection and the server's memory, and leaves nothing of the container on the source's
 * kernel; 256 MiB of memory moved intact; a cold move; the refusals; the source's node killed while CRIU holds the
 * container frozen (it resumes where it was); a drain of 20 containers with a node killed part-way; a post-copy cut
 * short by the source's death (the target's copy killed and started again from its disk, the loss recorded); the
 * target's node killed during the restore, and Cassandra killed during a move (one copy, where the log says).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalClusterMigrationTest {
  private static final int MIB_256 = 256 << 20;
  private static Berth berth;

  @BeforeAll
  static void up() {
    berth = Berth.fresh("e2e-migration", "btmig");
    berth.up();
  }

  @AfterAll
  static void down() {
    if (berth != null) berth.down();
  }

  @Test
  @Order(1)
  void aLiveMoveKeepsTheClientsConnectionAndTheServersMemoryAndLeavesNothingOnTheSource() throws Exception {
    String ct = "mig-tcp";
    Berth.Run created = berth.berth("ct", "create", ct, "--template", "busybox", "--memory", "64M", "--cpus", "0.2", "--start", "--",
        "sh", "-c", "printf '%s\\n' 'i=0' 'while read x; do i=$((i+1)); echo $i; done' > /counter; exec nc -ll -p 7000 -e sh /counter");
    assertEquals(0, created.exit(), created.toString());
    JsonNode before = show(ct);
    String source = before.path("host").asText();
    long pid = before.path("pid").asLong();
    String address = before.path("address").asText().split("/")[0];
    String mac = exec(ct, "cat", "/sys/class/net/eth0/address");
    Path sourceRoot = berth.local.resolve("cluster").resolve(source).resolve("isolation");
    Path image = sourceRoot.resolve("disks").resolve(ct + ".img");
    assertTrue(Files.exists(image), "the disk image on the source, so the test can fail: " + image);
    assertTrue(Files.isDirectory(berth.cgroupFile("memory", source, ct, "x").getParent()), "its cgroup on the source");
    String veths = sh("ip", "netns", "exec", berth.netns(source), "ip", "-o", "link", "show", "master", "berth0");
    assertTrue(veths.contains(": bv"), "its veth on the source's bridge: " + veths);

    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(address, 7000), 5000);
      socket.setSoTimeout(15_000);
      Writer out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.US_ASCII);
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
      for (int i = 1; i <= 5; i++) assertEquals(Integer.toString(i), ask(out, in), "the counter before the move");

      Berth.Run moved = berth.berth("ct", "migrate", ct);
      assertEquals(0, moved.exit(), moved.toString());
      assertTrue(moved.stdout().contains("migrated live " + source + " -> "), moved.toString());

      for (int i = 6; i <= 10; i++) assertEquals(Integer.toString(i), ask(out, in), "the same connection, the counter goes on");
    }
    JsonNode after = show(ct);
    String target = after.path("host").asText();
    assertNotEquals(source, target, "placement never picks the source");
    assertEquals(before.path("address").asText(), after.path("address").asText(), "the address stays");
    assertEquals(mac, exec(ct, "cat", "/sys/class/net/eth0/address"), "the MAC stays");
    assertEquals(ct, exec(ct, "hostname"), "the hostname stays");
    JsonNode last = after.path("lastMigration");
    assertEquals("completed", last.path("outcome").asText(), last.toString());
    assertEquals("live", last.path("mode").asText());
    assertTrue(last.path("frozenMs").asLong() > 0 && last.path("bytes").asLong() > 0, last.toString());

    // Exactly one copy, and nothing of it on the source's kernel.
    assertFalse(Files.exists(Path.of("/proc/" + pid)), "the source's init " + pid + " is gone");
    assertTrue(Files.exists(Path.of("/proc/" + after.path("pid").asLong())), "the restored init runs");
    assertFalse(Files.exists(berth.cgroupFile("memory", source, ct, "x").getParent()), "no cgroup of it on the source");
    assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(sourceRoot + "/containers/" + ct), "no mount of it on the source");
    assertFalse(sh("losetup", "-a").contains(image.toString()), "no loop device on the source's image");
    assertFalse(Files.exists(image) || Files.exists(sourceRoot.resolve("containers").resolve(ct)), "no directory or image left on the source");
    assertFalse(sh("ip", "netns", "exec", berth.netns(source), "ip", "-o", "link", "show", "master", "berth0").contains(": bv"),
        "no veth of it on the source's bridge");
    assertFalse(sh("ip", "netns", "exec", berth.netns(source), "nft", "list", "ruleset").contains("bv"), "no filter rule of it on the source");
    List<String> steps = eventTypes(ct);
    int from = steps.indexOf("MigrationRequested");
    assertEquals(List.of("MigrationRequested", "MigrationPreflightPassed", "RootfsPreCopied", "CheckpointTaken", "ImageTransferred",
        "ContainerRestored", "ContainerMoved", "MigrationCompleted"), steps.subList(from, from + 8), "the saga's steps in the log: " + steps);
    assertEquals(0, berth.berth("ct", "destroy", ct).exit());
  }

  @Test
  @Order(2)
  void twoHundredFiftySixMiBOfMemoryMoveIntactAndTheRefusalsNameWhy() throws Exception {
    String ct = "mig-mem";
    createWithMemory(ct, "400M");
    JsonNode before = show(ct);
    String source = before.path("host").asText();
    String other = otherHost(source);

    // Refusals, each with nothing changed.
    Berth.Run same = berth.berth("ct", "migrate", ct, "--to", source);
    assertEquals(2, same.exit(), same.toString());
    assertTrue(same.stderr().contains("already"), same.toString());
    assertEquals(3, berth.berth("ct", "migrate", ct, "--to", "node-9").exit());
    assertEquals(3, berth.berth("ct", "migrate", "mig-nobody", "--to", other).exit());
    assertEquals(0, berth.berth("host", "cordon", other).exit());
    Berth.Run cordoned = berth.berth("ct", "migrate", ct, "--to", other);
    assertEquals(5, cordoned.exit(), cordoned.toString());
    assertTrue(cordoned.stderr().contains("cordoned") && cordoned.stderr().contains("--to"), cordoned.toString());
    assertEquals(0, berth.berth("host", "uncordon", other).exit());
    // Reserve the other host's memory but 100M: the 400M the container guarantees no longer fits there (caps are
    // overcommitted, guarantees never are).
    JsonNode o = host(other);
    long fillMiB = mib(o.path("capacity").path("memory").asText()) - mib(o.path("reserved").path("memory").asText()) - 100;
    Berth.Run tooSmall = berth.berth("ct", "create", "mig-filler", "--template", "busybox", "--memory", fillMiB + "M",
        "--memory-guarantee", fillMiB + "M", "--cpus", "0.1", "--host", other, "--", "sleep", "100000");
    assertEquals(0, tooSmall.exit(), tooSmall.toString());
    Berth.Run full = berth.berth("ct", "migrate", ct, "--to", other);
    assertEquals(5, full.exit(), full.toString());
    assertTrue(full.stderr().contains("memory"), full.toString());
    assertEquals(0, berth.berth("ct", "destroy", "mig-filler").exit());
    assertEquals(before.path("pid").asLong(), show(ct).path("pid").asLong(), "the refusals changed nothing");

    // One operation at a time.
    Berth.Run started = berth.berth("ct", "migrate", ct, "--to", other, "--detach");
    assertEquals(0, started.exit(), started.toString());
    Berth.Run busy = berth.berth("ct", "migrate", ct, "--to", otherHost(other));
    assertEquals(4, busy.exit(), busy.toString());
    assertTrue(busy.stderr().contains("one operation at a time"), busy.toString());
    awaitMigrationEnd(ct);
    JsonNode after = show(ct);
    assertEquals(other, after.path("host").asText());
    assertEquals("completed", after.path("lastMigration").path("outcome").asText(), after.toString());
    assertTrue(after.path("lastMigration").path("bytes").asLong() > MIB_256, "its memory crossed: " + after.path("lastMigration"));
    assertMemoryIntact(ct, "256 MiB of memory arrived intact");

    // Cold: stopped, moved with its disk, started on the target.
    Berth.Run cold = berth.berth(Duration.ofMinutes(2), "ct", "migrate", ct, "--cold");
    assertEquals(0, cold.exit(), cold.toString());
    JsonNode colder = show(ct);
    assertEquals("running", colder.path("phase").asText());
    assertEquals("cold", colder.path("lastMigration").path("mode").asText());
    assertNotEquals(after.path("pid").asLong(), colder.path("pid").asLong(), "a cold move starts a new init");
    assertEquals(0, berth.berth("ct", "destroy", ct).exit());
  }

  @Test
  @Order(3)
  void theSourcesNodeKilledWhileCriuHoldsTheContainerFrozenResumesItWhereItWas() throws Exception {
    String ct = "mig-crash";
    createWithMemory(ct, "400M");
    JsonNode before = show(ct);
    String source = before.path("host").asText();
    long pid = before.path("pid").asLong();
    long node = berth.nodePid(source);
    // Pre-copy: a killed source node takes a post-copy's relay with it, which may end the move either way (case 5).
    Berth.Run started = berth.berth("ct", "migrate", ct, "--post-copy", "off", "--detach");
    assertEquals(0, started.exit(), started.toString());
    await("CRIU holds the init " + pid + " frozen", Duration.ofSeconds(30), () -> state(pid).startsWith("t"));
    killAndRestart(node, "the source's node JVM", Duration.ZERO);
    awaitMigrationEnd(ct);
    JsonNode after = show(ct);
    assertEquals(source, after.path("host").asText(), "the move was undone: " + after);
    assertEquals("aborted", after.path("lastMigration").path("outcome").asText(), after.toString());
    assertEquals(pid, after.path("pid").asLong(), "resumed where it was, not restarted: " + after.path("lastMigration"));
    assertTrue(state(pid).startsWith("S") || state(pid).startsWith("R"), "running again, not frozen: " + state(pid));
    assertMemoryIntact(ct, "its memory is intact");
    for (String h : List.of("node-1", "node-2", "node-3")) {
      if (h.equals(source)) continue;
      assertFalse(Files.exists(berth.cgroupFile("memory", h, ct, "x").getParent()), "nothing of it on " + h);
    }
    assertEquals(0, berth.berth("ct", "destroy", ct).exit());
  }

  @Test
  @Order(4)
  void aDrainOfTwentyContainersSurvivesANodeKilledPartWay() throws Exception {
    // Everything on node-1: the others take nothing while the containers are made.
    assertEquals(0, berth.berth("host", "cordon", "node-2").exit());
    assertEquals(0, berth.berth("host", "cordon", "node-3").exit());
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      String ct = "drain-" + i;
      names.add(ct);
      List<String> argv = new ArrayList<>(List.of("ct", "create", ct, "--template", "busybox", "--memory", "16M", "--cpus", "0.05"));
      if (i % 2 == 0) argv.add("--start");
      argv.addAll(List.of("--", "sleep", "100000"));
      Berth.Run r = berth.berth(argv.toArray(String[]::new));
      assertEquals(0, r.exit(), r.toString());
    }
    for (int i = 1; i <= 20; i += 2) {
      // half of them stopped (started once, so they have a disk to move)
      assertEquals(0, berth.berth("ct", "start", "drain-" + i).exit());
      assertEquals(0, berth.berth("ct", "stop", "drain-" + i, "--timeout", "1s").exit());
    }
    assertEquals(0, berth.berth("host", "uncordon", "node-2").exit());
    assertEquals(0, berth.berth("host", "uncordon", "node-3").exit());
    Berth.Run drain = berth.berth("host", "drain", "node-1", "--parallel", "4", "--detach");
    assertEquals(0, drain.exit(), drain.toString());
    await("a few containers left node-1", Duration.ofSeconds(60), () -> onHost(names, "node-1") <= 16);
    long node2 = berth.nodePid("node-2");
    killAndRestart(node2, "node-2's JVM", Duration.ZERO);
    await("the drain of node-1 ended", Duration.ofMinutes(5), () -> !"draining".equals(host("node-1").path("phase").asText()));
    JsonNode h = host("node-1");
    assertEquals(0, h.path("lastDrainLeft").size(), "every container moved: " + h);
    assertEquals("cordoned", h.path("phase").asText(), "a drained host stays cordoned");
    for (int i = 1; i <= 20; i++) {
      JsonNode c = show("drain-" + i);
      assertNotEquals("node-1", c.path("host").asText(), c.toString());
      assertEquals(i % 2 == 0 ? "running" : "stopped", c.path("phase").asText(), c.toString());
    }
    assertEquals(0, berth.berth("host", "uncordon", "node-1").exit());
    for (String ct : names) assertEquals(0, berth.berth("ct", "destroy", ct).exit());
  }

  /**
   * Post-copy, and its failure: the container runs on the target while its memory still comes from the source, and
   * the source's node JVM is killed then (its relay goes with it). The target must not let the copy run on pages it
   * never got: it kills it and starts it again from its disk, and the log records the loss. Exactly one copy.
   */
  @Test
  @Order(5)
  void aPostCopyCutShortByTheSourcesDeathStartsTheTargetsCopyFromItsDiskAndRecordsTheLoss() throws Exception {
    String ct = "mig-lazy";
    createWithMemory(ct, "400M");
    JsonNode before = show(ct);
    String source = before.path("host").asText();
    String target = otherHost(source);
    long node = berth.nodePid(source);
    Berth.Run started = berth.berth("ct", "migrate", ct, "--to", target, "--post-copy", "on", "--detach");
    assertEquals(0, started.exit(), started.toString());
    // The kill must come after the commit: the target's daemon reached the source's relay, so the copy there is the
    // container (a kill before it undoes the move, as in case 3). The source's hold says so in its outcome file.
    await("the source's lazy hold was committed (the target's daemon took the pages)", Duration.ofSeconds(60),
        () -> holdOutcome(source, ct).equals("commit"));
    // And the target's restore has finished (CRIU wrote its pidfile): the copy runs there on pages still coming. A kill
    // during the restore itself is another case, not handled yet: CI once saw the target's CRIU restore hang then,
    // the source killed 3 s into it (closing note of 2026-12-03).
    await("the target's restore finished (its CRIU pidfile)", Duration.ofSeconds(60), () -> restorePidfile(target, ct));
    killAndRestart(node, "the source's node JVM", Duration.ZERO);
    awaitMigrationEnd(ct);
    JsonNode after = show(ct);
    JsonNode last = after.path("lastMigration");
    assertEquals(target, after.path("host").asText(), after.toString());
    assertEquals("running", after.path("phase").asText(), after.toString());
    assertTrue(last.path("postCopied").asBoolean(), last.toString());
    if (last.path("memoryLost").isNull()) {
      // Every page had arrived before the kill (a fast machine): then the memory is whole.
      assertMemoryIntact(ct, "its memory arrived whole");
    } else {
      assertTrue(last.path("memoryLost").asText().contains("before every page arrived"), last.toString());
      assertTrue(eventTypes(ct).contains("MemoryPostCopied"), eventTypes(ct).toString());
      // Started again from its disk: it makes its memory anew, and it is whole.
      awaitMemory(ct, target);
      assertMemoryIntact(ct, "the copy started again from its disk runs whole");
    }
    assertEquals(List.of(target), hostsRunning(ct), "exactly one copy, on " + target);
    assertEquals(0, berth.berth("ct", "destroy", ct).exit());
  }

  /**
   * The target's node JVM is killed while the source is held and the target restores (or is about to): the saga
   * never undoes the move on a timeout alone; it asks the target, once its node is back, what it holds, and that
   * decides. Whatever the answer, exactly one copy runs, where the log says it does.
   */
  @Order(6)
  @ParameterizedTest(name = "post-copy {0}")
  @ValueSource(strings = {"off", "on"})
  void theTargetsNodeKilledDuringTheRestoreEndsWithOneCopyWhereTheLogSays(String postCopy) throws Exception {
    // With post-copy on, an undone move resumes a lazy hold (which stock CRIU would keep frozen: bin/criu-patches/03).
    String ct = "mig-tkill-" + postCopy;
    createWithMemory(ct, "400M");
    JsonNode before = show(ct);
    String source = before.path("host").asText();
    String target = otherHost(source);
    long pid = before.path("pid").asLong();
    long targetNode = berth.nodePid(target);
    Berth.Run started = berth.berth("ct", "migrate", ct, "--to", target, "--post-copy", postCopy, "--detach");
    assertEquals(0, started.exit(), started.toString());
    await("CRIU holds the init " + pid + " frozen", Duration.ofSeconds(30), () -> state(pid).startsWith("t"));
    killAndRestart(targetNode, "the target's node JVM", Duration.ZERO);
    awaitMigrationEnd(ct);
    JsonNode after = show(ct);
    String at = after.path("host").asText();
    String outcome = after.path("lastMigration").path("outcome").asText();
    assertEquals("running", after.path("phase").asText(), after.toString());
    assertEquals(outcome.equals("completed") ? target : source, at, "the log's host follows the outcome: " + after);
    assertEquals(List.of(at), hostsRunning(ct), "exactly one copy, where the log says");
    if (outcome.equals("aborted")) assertEquals(pid, after.path("pid").asLong(), "undone: the source resumed where it was");
    assertMemoryIntact(ct, "its memory is intact");
    assertEquals(0, berth.berth("ct", "destroy", ct).exit());
  }

  /**
   * Cassandra is killed while the source is held: the saga's next events cannot be written. Once Cassandra is back
   * the container's entity recovers from its log and asks the target what it holds; one copy, where the log says.
   */
  @Test
  @Order(7)
  void cassandraKilledDuringAMoveEndsWithOneCopyWhereTheLogSays() throws Exception {
    String ct = "mig-ckill";
    createWithMemory(ct, "400M");
    JsonNode before = show(ct);
    String source = before.path("host").asText();
    String target = otherHost(source);
    long pid = before.path("pid").asLong();
    long cassandra = berth.cassandraPid();
    Berth.Run started = berth.berth("ct", "migrate", ct, "--to", target, "--post-copy", "off", "--detach");
    assertEquals(0, started.exit(), started.toString());
    await("CRIU holds the init " + pid + " frozen", Duration.ofSeconds(30), () -> state(pid).startsWith("t"));
    killAndRestart(cassandra, "Cassandra", Duration.ofSeconds(3));
    awaitMigrationEnd(ct);
    JsonNode after = show(ct);
    String at = after.path("host").asText();
    String outcome = after.path("lastMigration").path("outcome").asText();
    assertEquals("running", after.path("phase").asText(), after.toString());
    assertEquals(outcome.equals("completed") ? target : source, at, "the log's host follows the outcome: " + after);
    assertEquals(List.of(at), hostsRunning(ct), "exactly one copy, where the log says");
    assertMemoryIntact(ct, "its memory is intact");
    assertEquals(0, berth.berth("ct", "destroy", ct).exit());
  }

  /**
   * A whole server moves live (issue 14): a Debian 12 container booted by systemd, with journald, dbus and nginx from
   * a template built by {@code berth template build}, migrates while a client holds a keep-alive HTTP connection to
   * nginx. The client's next request on the same connection is answered; systemd still says running, with the same
   * units active and the same nginx and journald processes (not a new boot), and it still manages its services there.
   */
  @Test
  @Order(8)
  void aBootedDebianServerWithNginxMovesLiveKeepingItsUnitsAndAKeepAliveConnection() throws Exception {
    Berth.Run built = berth.berth(Duration.ofMinutes(6), "template", "build", "web-nginx", "--include", "nginx");
    assertEquals(0, built.exit(), built.toString());
    String ct = "mig-server";
    Berth.Run created = berth.berth(Duration.ofMinutes(2), "ct", "create", ct, "--template", "web-nginx", "--memory", "512M", "--start");
    assertEquals(0, created.exit(), created.toString());
    awaitRunning(ct);
    assertEquals("active", exec(ct, "systemctl", "is-active", "nginx"));
    String units = exec(ct, "systemctl", "list-units", "--state=active", "--no-legend", "--plain", "--no-pager");
    String nginx = exec(ct, "systemctl", "show", "-p", "MainPID", "--value", "nginx");
    String journald = exec(ct, "systemctl", "show", "-p", "MainPID", "--value", "systemd-journald");
    JsonNode before = show(ct);
    String source = before.path("host").asText();
    String address = before.path("address").asText().split("/")[0];

    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(address, 80), 5000);
      socket.setSoTimeout(15_000);
      assertTrue(get(socket, "/").contains("nginx"), "nginx serves its page from the template");
      Berth.Run moved = berth.berth(Duration.ofMinutes(3), "ct", "migrate", ct, "--live");
      assertEquals(0, moved.exit(), moved.toString());
      assertTrue(moved.stdout().contains("migrated live " + source + " -> "), moved.toString());
      // A new connection first, before the kept one makes the container answer: the segment's bridges learn its new
      // port from its announcement (they would forward to the source host for minutes otherwise).
      try (Socket fresh = new Socket()) {
        fresh.connect(new InetSocketAddress(address, 80), 5000);
        fresh.setSoTimeout(15_000);
        assertTrue(get(fresh, "/").contains("nginx"), "a new connection is answered at once after the move");
      }
      assertTrue(get(socket, "/").contains("nginx"), "the same keep-alive connection is answered after the move");
    }
    JsonNode after = show(ct);
    assertNotEquals(source, after.path("host").asText());
    assertEquals("live", after.path("lastMigration").path("mode").asText(), after.toString());
    assertEquals("running", execAnyExit(ct, "systemctl", "is-system-running"), "systemd still says running");
    assertEquals(units, exec(ct, "systemctl", "list-units", "--state=active", "--no-legend", "--plain", "--no-pager"), "the same units active");
    assertEquals(nginx, exec(ct, "systemctl", "show", "-p", "MainPID", "--value", "nginx"), "the same nginx, not a restarted one");
    assertEquals(journald, exec(ct, "systemctl", "show", "-p", "MainPID", "--value", "systemd-journald"), "the same journald: no new boot");
    // systemd still manages its cgroups on the new host: a restart of nginx makes new ones there.
    exec(ct, "systemctl", "restart", "nginx");
    assertEquals("active", exec(ct, "systemctl", "is-active", "nginx"));
    assertEquals(0, berth.berth("ct", "destroy", ct).exit());
  }

  private static void awaitRunning(String ct) {
    await("systemd in " + ct + " says running", Duration.ofSeconds(60), () -> "running".equals(execAnyExit(ct, "systemctl", "is-system-running")));
  }

  /** One HTTP/1.1 GET of {@code path} on {@code socket}, kept alive; returns the body (Content-Length bytes). */
  private static String get(Socket socket, String path) throws IOException {
    socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: keep-alive\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    var in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) throw new IOException("the connection closed before the response's headers ended: " + head);
      head.append((char) b);
    }
    assertTrue(head.toString().startsWith("HTTP/1.1 200"), head.toString());
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
    }
    byte[] body = in.readNBytes(length);
    if (body.length < length) throw new IOException("the body ended after " + body.length + " of " + length + " bytes");
    return new String(body, StandardCharsets.UTF_8);
  }

  /** {@code ct exec}'s output whatever its exit code (systemctl is-system-running exits 1 while starting). */
  private static String execAnyExit(String ct, String... argv) {
    List<String> a = new ArrayList<>(List.of("ct", "exec", ct, "--"));
    a.addAll(List.of(argv));
    return berth.berth(a.toArray(String[]::new)).stdout().trim();
  }

  /**
   * What the hook of the container's held dump on {@code host} decided ("commit", "resume", "expired"), or "" (no
   * hold, or no decision yet): the hold's control directory beside the images, under the node's migration work
   * directory on /dev/shm ({@code berth/CLUSTER/migrations/HOST/MIGRATION/images.hold}).
   */
  /** CRIU's restore on {@code host} wrote its pidfile: the restore is complete (the tasks run, pages may still come). */
  private static boolean restorePidfile(String host, String ct) {
    Path migrations = Path.of("/dev/shm/berth", berth.name, "migrations", host);
    if (!Files.isDirectory(migrations)) return false;
    try (var dirs = Files.newDirectoryStream(migrations, ct + "-m*")) {
      for (Path d : dirs) {
        if (Files.exists(d.resolve("images/restore.pid"))) return true;
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  private static String holdOutcome(String host, String ct) {
    Path migrations = Path.of("/dev/shm/berth", berth.name, "migrations", host);
    if (!Files.isDirectory(migrations)) return "";
    try (var dirs = Files.newDirectoryStream(migrations, ct + "-m*")) {
      for (Path d : dirs) {
        Path outcome = d.resolve("images.hold/outcome");
        if (Files.exists(outcome)) return Files.readString(outcome).strip();
      }
    } catch (IOException e) {
      return "";
    }
    return "";
  }

  /**
   * The fault of the crash cases: SIGKILL of {@code pid} ({@code what}: a node's JVM, Cassandra), then, after
   * {@code down} more, {@code bin/berth up} as an operator would run it to bring back what is missing.
   */
  private static void killAndRestart(long pid, String what, Duration down) throws Exception {
    sh("kill", "-9", Long.toString(pid));
    await(what + " (" + pid + ") is gone", Duration.ofSeconds(10), () -> !Files.exists(Path.of("/proc/" + pid)));
    if (!down.isZero()) sleep(down.toMillis());
    berth.up();
  }

  private static List<String> hostsRunning(String ct) {
    return berth.hostsRunning(ct);
  }

  /** Waits until the container on {@code host} holds its 256 MiB (made at its start, or again after a start from its disk). */
  private static void awaitMemory(String ct, String host) {
    Path usage = berth.cgroupFile("memory", host, ct, "memory.usage_in_bytes");
    await(ct + " holds 256 MiB on " + host, Duration.ofSeconds(60), () -> {
      try {
        return Long.parseLong(Files.readString(usage).trim()) >= MIB_256;
      } catch (IOException | NumberFormatException e) {
        return false;
      }
    });
  }

  // --- helpers -------------------------------------------------------------------------------------

  private static void createWithMemory(String ct, String limit) {
    Berth.Run created = berth.berth("ct", "create", ct, "--template", "busybox", "--memory", limit, "--memory-guarantee", limit, "--cpus", "0.2", "--start", "--",
        "sh", "-c", "mkfifo /gate; yes abcdefgh | head -c " + MIB_256 + " | tail -c " + MIB_256
            + " | (read g < /gate; sha256sum > /result); sleep 100000");
    assertEquals(0, created.exit(), created.toString());
    awaitMemory(ct, show(ct).path("host").asText());
  }

  /** A size as the API writes it ("64M", "24151M", "2G", "0") in MiB. */
  private static long mib(String size) {
    if (size.equals("0")) return 0;
    char unit = size.charAt(size.length() - 1);
    long n = Long.parseLong(size.substring(0, size.length() - 1));
    return switch (unit) {
      case 'M' -> n;
      case 'G' -> n << 10;
      case 'T' -> n << 20;
      default -> throw new AssertionError("unexpected size " + size);
    };
  }

  private static String expectedSum() throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    byte[] line = "abcdefgh\n".getBytes(StandardCharsets.US_ASCII);
    byte[] block = new byte[line.length * 4096];
    for (int i = 0; i < 4096; i++) System.arraycopy(line, 0, block, i * line.length, line.length);
    long left = MIB_256;
    while (left > 0) {
      int n = (int) Math.min(block.length, left);
      sha.update(block, 0, n);
      left -= n;
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * The container's 256 MiB checksum is the expected one; when not, the message carries what the next reader needs
   * (the cluster's logs go with the run): its processes and memory cgroup on the host the log names, and the nodes'
   * log lines about it.
   */
  private static void assertMemoryIntact(String ct, String what) throws Exception {
    String host = show(ct).path("host").asText();
    String sum = openGateAndRead(ct);
    if (sum.equals(expectedSum())) return;
    StringBuilder why = new StringBuilder(what + ": sha256 " + sum + " on " + host + "\nprocesses:");
    Path procs = berth.cgroupFile("pids", host, ct, "cgroup.procs");
    for (String pid : Files.exists(procs) ? Files.readAllLines(procs) : List.<String>of()) {
      Path stat = Path.of("/proc", pid.strip(), "stat");
      why.append("\n  ").append(Files.exists(stat) ? Files.readString(stat).strip() : pid + " gone");
    }
    for (String f : List.of("memory.failcnt", "memory.max_usage_in_bytes", "memory.oom_control")) {
      Path file = berth.cgroupFile("memory", host, ct, f);
      if (Files.exists(file)) why.append("\n").append(f).append(": ").append(Files.readString(file).strip().replace('\n', ' '));
    }
    why.append("\nnode logs:");
    try (var logs = Files.newDirectoryStream(berth.local.resolve("cluster"), "node-*.log")) {
      List<String> lines = new ArrayList<>();
      for (Path log : logs) {
        for (String line : Files.readAllLines(log)) if (line.contains(ct)) lines.add(log.getFileName() + " " + line);
      }
      java.util.Collections.sort(lines, java.util.Comparator.comparing(l -> l.substring(l.indexOf(' ') + 1)));
      for (String line : lines.subList(Math.max(0, lines.size() - 80), lines.size())) why.append("\n  ").append(line);
    }
    throw new AssertionError(why.toString());
  }

  private static String openGateAndRead(String ct) {
    Berth.Run r = berth.berth("ct", "exec", ct, "--", "sh", "-c", "echo go > /gate; i=0; while [ ! -s /result ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done; cat /result");
    assertEquals(0, r.exit(), r.toString());
    return r.stdout().trim().split("\\s+")[0];
  }

  private static String ask(Writer out, BufferedReader in) throws IOException {
    out.write("x\n");
    out.flush();
    return in.readLine();
  }

  private static String exec(String ct, String... argv) {
    List<String> a = new ArrayList<>(List.of("ct", "exec", ct, "--"));
    a.addAll(List.of(argv));
    Berth.Run r = berth.berth(a.toArray(String[]::new));
    assertEquals(0, r.exit(), r.toString());
    return r.stdout().trim();
  }

  private static String otherHost(String host) {
    return host.equals("node-1") ? "node-2" : host.equals("node-2") ? "node-3" : "node-1";
  }

  private static int onHost(List<String> names, String host) {
    int n = 0;
    for (String ct : names) if (host.equals(show(ct).path("host").asText())) n++;
    return n;
  }

  /** The process state letter of {@code pid} ({@code t}: stopped by CRIU's ptrace), or "" when it is gone. */
  private static String state(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("State:")) return line.substring(6).trim();
      }
    } catch (IOException e) {
      return "";
    }
    return "";
  }

  private static void awaitMigrationEnd(String ct) {
    await(ct + "'s migration ended", Duration.ofMinutes(3), () -> !"migrating".equals(show(ct).path("phase").asText()));
  }

  private static JsonNode show(String ct) {
    return berth.show(ct);
  }

  private static JsonNode host(String h) {
    return berth.host(h);
  }

  private static List<String> eventTypes(String ct) {
    return berth.eventTypes(ct);
  }

  private static String sh(String... argv) {
    return berth.sh(argv);
  }

  private static void sleep(long millis) {
    Berth.sleep(millis);
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition) {
    Berth.await(what, timeout, condition);
  }
}
