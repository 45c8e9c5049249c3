package io.berth.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The product as an operator meets it: {@code bin/berth up} starts a local cluster of three hosts (node JVMs in
 * their own network namespaces, the embedded Cassandra), the CLI drives a container through its life, and after
 * each step the host's kernel is asked whether it really happened. Then the faults this issue promises to
 * survive: a node JVM killed (its containers are adopted, not restarted) and {@code down} / {@code up} (nothing
 * is left behind, and what the log says runs, runs again).
 */
class LocalClusterEndToEndTest {
  private static Berth berth;

  @BeforeAll
  static void up() {
    berth = Berth.fresh("e2e-local", "bte2e");
    Berth.Run up = berth.up();
    assertTrue(up.stdout().contains("Berth is up: 3 hosts"), up.toString());
  }

  @AfterAll
  static void down() {
    if (berth != null) berth.down();
  }

  @Test
  void aContainerThroughItsLifeThroughNodeDeathAndThroughDownAndUp() throws Exception {
    Berth.Run hosts = berth.berth("host", "list", "--output", "json");
    assertEquals(0, hosts.exit(), hosts.toString());
    assertEquals(3, hosts.json().path("items").size(), hosts.stdout());
    hosts.json().path("items").forEach(h -> assertTrue(h.path("reachable").asBoolean(), "reachable: " + h));

    // create + start
    String ct = "e2e-web";
    Berth.Run created = berth.berth("ct", "create", ct, "--template", "busybox", "--memory", "64M", "--cpus", "0.5",
        "--pids", "64", "--start", "--", "httpd", "-f", "-p", "80");
    assertEquals(0, created.exit(), created.toString());
    JsonNode shown = show(ct);
    assertEquals("running", shown.path("phase").asText(), shown.toString());
    long pid = shown.path("pid").asLong();
    String host = shown.path("host").asText();
    String address = shown.path("address").asText().split("/")[0];
    assertTrue(Files.exists(Path.of("/proc/" + pid)), "init " + pid + " runs");
    assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")), Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/pid")));
    assertEquals(64L << 20, readLong(berth.cgroupFile("memory", host, ct, "memory.limit_in_bytes")));
    assertEquals("64", Files.readString(berth.cgroupFile("pids", host, ct, "pids.max")).trim());
    String bridged = sh("ip", "netns", "exec", berth.netns(host), "ip", "-o", "link", "show", "master", "berth0");
    assertTrue(bridged.contains(": bv"), "a veth of the container on " + host + "'s bridge: " + bridged);
    assertTrue(sh("busybox", "ping", "-c", "1", "-W", "3", address).contains("1 packets received"),
        "the machine reaches the container at " + address);

    // no route to the control plane: the machine reaches each door, the container none (bounded, 2 s each)
    int h = Integer.parseInt(host.substring(host.lastIndexOf('-') + 1));
    List<String> doors = List.of(Berth.MGMT + "." + (10 + h) + ":7480", Berth.MGMT + "." + (10 + h) + ":2552", Berth.MGMT + ".1:19042",
        "198.19.0." + (10 + h) + ":7480", "198.19.0.1:19042", "198.19.0." + (10 + h) + ":2552");
    for (String door : doors.subList(0, 3)) assertTrue(connects(door), "the machine reaches " + door + " (so the test can fail)");
    for (String door : doors) {
      Berth.Run nc = berth.berth("ct", "exec", ct, "--", "sh", "-c", "echo x | nc -w 2 " + door.replace(':', ' '));
      assertNotEquals(0, nc.exit(), "the container must not connect to " + door + ": " + nc);
    }

    // exec: output and exit code pass through
    Berth.Run hostname = berth.berth("ct", "exec", ct, "--", "hostname");
    assertEquals(0, hostname.exit(), hostname.toString());
    assertEquals(ct, hostname.stdout().trim());
    assertEquals(3, berth.berth("ct", "exec", ct, "--", "sh", "-c", "exit 3").exit());

    // set limits: the cgroup follows; bad input changes nothing and says why in one line
    Berth.Run set = berth.berth("ct", "set", ct, "--memory", "96M");
    assertEquals(0, set.exit(), set.toString());
    assertEquals(96L << 20, readLong(berth.cgroupFile("memory", host, ct, "memory.limit_in_bytes")));
    Berth.Run bad = berth.berth("ct", "set", ct, "--memory", "1M");
    assertEquals(2, bad.exit(), bad.toString());
    assertTrue(bad.stderr().contains("limits.memory") && bad.stderr().strip().lines().count() == 1, bad.toString());
    assertEquals(96L << 20, readLong(berth.cgroupFile("memory", host, ct, "memory.limit_in_bytes")));

    // stop, start
    Berth.Run stop = berth.berth("ct", "stop", ct);
    assertEquals(0, stop.exit(), stop.toString());
    await("init " + pid + " is gone after stop", Duration.ofSeconds(10), () -> !Files.exists(Path.of("/proc/" + pid)));
    assertEquals("stopped", show(ct).path("phase").asText());
    Berth.Run start = berth.berth("ct", "start", ct);
    assertEquals(0, start.exit(), start.toString());
    long pid2 = show(ct).path("pid").asLong();
    assertNotEquals(pid, pid2);
    assertTrue(Files.exists(Path.of("/proc/" + pid2)));

    // the node JVM dies (not the container): the restarted node adopts it, same process, not restarted
    long nodePid = berth.nodePid(host);
    sh("kill", "-9", Long.toString(nodePid));
    await("node JVM " + nodePid + " is gone", Duration.ofSeconds(10), () -> !Files.exists(Path.of("/proc/" + nodePid)));
    assertTrue(Files.exists(Path.of("/proc/" + pid2)), "the container outlives its node JVM");
    Berth.Run again = berth.berth(Berth.UP, "up", "--hosts", "3");
    assertEquals(0, again.exit(), again.toString());
    await("the restarted " + host + " adopts " + ct, Duration.ofSeconds(60), () -> eventTypes(ct).contains("ContainerAdopted"));
    assertEquals(pid2, show(ct).path("pid").asLong(), "adopted, not restarted");
    List<String> events = eventTypes(ct);
    assertEquals(2, events.stream().filter("ContainerStarted"::equals).count(), "no start after the adoption: " + events);

    // down leaves nothing behind; up runs again what the log says runs
    Berth.Run down = berth.berth(Duration.ofMinutes(3), "down");
    assertEquals(0, down.exit(), down.toString());
    assertFalse(Files.exists(Path.of("/proc/" + pid2)), "down stopped the container's processes");
    assertNothingOfTheClusterLeft();
    Berth.Run upAgain = berth.berth(Berth.UP, "up", "--hosts", "3");
    assertEquals(0, upAgain.exit(), upAgain.toString());
    await(ct + " runs again after down and up", Duration.ofSeconds(60), () -> "running".equals(show(ct).path("phase").asText()));
    long pid3 = show(ct).path("pid").asLong();
    assertTrue(Files.exists(Path.of("/proc/" + pid3)));
    assertEquals(96L << 20, readLong(berth.cgroupFile("memory", show(ct).path("host").asText(), ct, "memory.limit_in_bytes")),
        "its limits came back with it");

    // destroy: nothing of it is left; the audit trail has every step and its chain holds
    String host3 = show(ct).path("host").asText();
    Berth.Run destroy = berth.berth("ct", "destroy", ct);
    assertEquals(0, destroy.exit(), destroy.toString());
    await("init " + pid3 + " is gone after destroy", Duration.ofSeconds(10), () -> !Files.exists(Path.of("/proc/" + pid3)));
    assertFalse(Files.exists(berth.cgroupFile("memory", host3, ct, "memory.limit_in_bytes").getParent()), "cgroup removed");
    assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains("/" + ct + "/"), "no mount of " + ct + " left");
    List<String> trail = eventTypes(ct);
    for (String type : List.of("ContainerDefined", "ContainerPlaced", "ContainerStarted", "LimitsChanged", "ContainerStopped",
        "ContainerAdopted", "ContainerDestroyed")) {
      assertTrue(trail.contains(type), type + " in the audit trail " + trail);
    }
    Berth.Run verify = berth.berth("audit", "verify");
    assertEquals(0, verify.exit(), verify.toString());
  }

  /**
   * Cassandra killed: a change fails within 3 s with a problem that names the journal and carries Retry-After (it
   * waited 20 s for pekko-http's plain-text 503 before); reads answer from what the nodes hold, marked possibly stale;
   * once Cassandra is back everything converges (the change that was refused leaves nothing half-done).
   */
  @Test
  void whileCassandraIsDownAChangeFailsFastAndReadsAnswerMarkedStale() throws Exception {
    String ct = "e2e-outage";
    Berth.Run created = berth.berth("ct", "create", ct, "--template", "busybox", "--start", "--", "sleep", "100000");
    assertEquals(0, created.exit(), created.toString());
    long pid = show(ct).path("pid").asLong();
    sleep(6000); // every node reads the directory every 5 s: each holds a view of it now
    long cassandra = berth.cassandraPid();
    sh("kill", "-9", Long.toString(cassandra));
    await("Cassandra " + cassandra + " is gone", Duration.ofSeconds(10), () -> !Files.exists(Path.of("/proc/" + cassandra)));
    try {
      String api = Files.readString(berth.local.resolve("run/api")).strip();
      // As the CLI: the cluster CA's trust and the admin token bin/berth up wrote.
      var http = java.net.http.HttpClient.newBuilder()
          .sslContext(io.berth.persistence.PemTrust.trusting(berth.local.resolve("run/ca.pem"), "run/ca.pem")).build();
      String token = Files.readString(berth.local.resolve("run/admin.token")).strip();
      long t0 = System.nanoTime();
      var answer = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(api + "/v1/containers"))
          .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"name\":\"e2e-outage-2\",\"template\":\"busybox\"}")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      long millis = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(503, answer.statusCode(), answer.body());
      assertTrue(millis < 3000, "the create failed after " + millis + " ms, not within 3 s: " + answer.body());
      assertTrue(answer.headers().firstValue("Retry-After").isPresent(), "Retry-After: " + answer.headers().map());
      assertTrue(answer.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"), answer.headers().map().toString());
      JsonNode problem = new com.fasterxml.jackson.databind.ObjectMapper().readTree(answer.body());
      assertEquals("urn:berth:problem:journal-unavailable", problem.path("type").asText(), answer.body());
      assertEquals("journal", problem.path("field").asText(), answer.body());

      Berth.Run stop = berth.berth("ct", "stop", ct);
      assertEquals(69, stop.exit(), stop.toString());
      assertTrue(stop.stderr().contains("Cassandra"), stop.toString());
      for (String[] read : List.of(new String[] {"ct", "list"}, new String[] {"status"}, new String[] {"host", "list"},
          new String[] {"ct", "show", ct})) {
        long r0 = System.nanoTime();
        Berth.Run r = berth.berth(read);
        long readMillis = (System.nanoTime() - r0) / 1_000_000;
        assertEquals(0, r.exit(), String.join(" ", read) + " while Cassandra is down: " + r);
        assertTrue(r.stderr().contains("possibly stale"), String.join(" ", read) + " says it may be stale: " + r);
        assertTrue(readMillis < 5000, String.join(" ", read) + " took " + readMillis + " ms");
      }
      assertTrue(berth.berth("ct", "list").stdout().contains(ct), "the list still shows " + ct);
      assertTrue(Files.exists(Path.of("/proc/" + pid)), "the container runs on through the outage");
    } finally {
      Berth.Run back = berth.berth(Berth.UP, "up", "--hosts", "3");
      assertEquals(0, back.exit(), "up brings Cassandra back: " + back);
    }
    // Converged: changes go through again; the refused create left nothing half-done.
    await("a stop goes through once Cassandra is back", Duration.ofSeconds(60), () -> berth.berth("ct", "stop", ct).exit() == 0);
    assertEquals("stopped", show(ct).path("phase").asText());
    Berth.Run refused = berth.berth("ct", "show", "e2e-outage-2");
    assertEquals(3, refused.exit(), "the create refused while Cassandra was down did not happen: " + refused);
    Berth.Run stale = berth.berth("ct", "list");
    assertFalse(stale.stderr().contains("possibly stale"), stale.toString());
    assertEquals(0, berth.berth("ct", "destroy", ct).exit());
    assertEquals(0, berth.berth("audit", "verify").exit());
  }

  private static JsonNode show(String ct) {
    return berth.show(ct);
  }

  private static void sleep(long millis) {
    Berth.sleep(millis);
  }

  private static List<String> eventTypes(String ct) {
    return berth.eventTypes(ct);
  }

  private static void assertNothingOfTheClusterLeft() throws IOException {
    String netns = sh("ip", "netns", "list");
    assertFalse(netns.contains(berth.name + "-node-"), "no network namespace left: " + netns);
    String links = sh("ip", "-o", "link", "show");
    assertFalse(links.contains(berth.name + "-seg") || links.contains(berth.name + "s1"), "no bridge or uplink left: " + links);
    assertFalse(links.contains(berth.name + "-mgmt") || links.contains(berth.name + "m1"), "no management bridge or uplink left: " + links);
    String tables = sh("nft", "list", "tables");
    assertFalse(tables.contains("berth_lc_" + berth.name), "no nft table of the cluster left: " + tables);
    try (var hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path h : hierarchies.toList()) {
        for (int i = 1; i <= 3; i++) {
          assertFalse(Files.exists(h.resolve(berth.name + "-node-" + i)), "cgroup " + h.resolve(berth.name + "-node-" + i) + " left");
        }
      }
    }
    assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(berth.local.toString()), "no mount under " + berth.local);
  }

  /** Whether a TCP connection from this machine to {@code ADDRESS:PORT} opens within 2 s. */
  private static boolean connects(String door) {
    String[] hp = door.split(":");
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress(hp[0], Integer.parseInt(hp[1])), 2000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static long readLong(Path file) throws IOException {
    return Long.parseLong(Files.readString(file).trim());
  }

  private static String sh(String... argv) {
    return berth.sh(argv);
  }

  private static void await(String what, Duration timeout, BooleanSupplier condition) {
    Berth.await(what, timeout, condition);
  }
}
