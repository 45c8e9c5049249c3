package io.berth.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI keeps working when a host's API is gone, over real sockets on 127.0.0.1: a refused address is skipped with
 * one line on stderr, a read may be retried elsewhere, a change that may have been delivered never is.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ApiFailoverTest {
  private static final String LIST = "{\"items\":[]}";

  static CliRun berth(Map<String, String> env, String... args) {
    return CliRun.of(env, args);
  }

  @Test
  void aRefusedFirstHostIsSkippedWithOneLineOnStderrAndTheAnswerComesFromTheNext(@TempDir Path local) throws Exception {
    String dead = LoopbackApis.closedUrl();
    try (LoopbackApis.Answering live = new LoopbackApis.Answering(LIST)) {
      Files.createDirectories(local.resolve("run"));
      Files.writeString(local.resolve("run/apis"), dead + " node-1\n" + live.url + " node-2\n");
      CliRun r = berth(Map.of("BERTH_LOCAL", local.toString()), "ct", "list", "--output", "json");
      assertEquals(0, r.code(), r.toString());
      assertEquals(LIST + "\n", r.out(), "stdout holds the answer only");
      assertEquals("berth: node-1's API at " + dead + " did not answer (connection refused); using " + live.url + "\n", r.err());
      assertEquals(List.of("GET /v1/containers"), live.requests);
    }
  }

  @Test
  void withinOneRunTheHostThatAnsweredIsAskedFirstAndTheMoveIsToldOnce() throws Exception {
    String dead = LoopbackApis.closedUrl();
    try (LoopbackApis.Answering live = new LoopbackApis.Answering(LIST)) {
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      ApiClient client = new ApiClient(Endpoints.commaSeparated("--api", dead + "," + live.url), null,
          new PrintStream(err, true, StandardCharsets.UTF_8));
      client.get("/v1/containers", "containers");
      client.get("/v1/hosts", "hosts");
      assertEquals(live.url, client.base());
      assertEquals(List.of("GET /v1/containers", "GET /v1/hosts"), live.requests);
      String lines = err.toString(StandardCharsets.UTF_8);
      assertEquals(1, lines.lines().count(), lines);
      assertTrue(lines.startsWith("berth: the API at " + dead + " did not answer (connection refused); using " + live.url), lines);
    }
  }

  @Test
  void aChangeThatNeverLeftGoesToTheNextHost() throws Exception {
    String dead = LoopbackApis.closedUrl();
    try (LoopbackApis.Answering live = new LoopbackApis.Answering("{\"id\":\"web-1\"}")) {
      CliRun r = berth(Map.of("BERTH_API", dead + "," + live.url), "ct", "create", "web-1", "--template", "busybox", "--output", "json");
      assertEquals(0, r.code(), r.toString());
      assertEquals("{\"id\":\"web-1\"}\n", r.out());
      assertEquals("berth: the API at " + dead + " did not answer (connection refused); using " + live.url + "\n", r.err());
      assertEquals(List.of("POST /v1/containers"), live.requests);
    }
  }

  @Test
  void aChangeSentToAHostThatNeverAnswersIsNotSentToTheNextAndItsOutcomeIsUnknown() throws Exception {
    try (LoopbackApis.Mute mute = new LoopbackApis.Mute(false); LoopbackApis.Answering next = new LoopbackApis.Answering("{}")) {
      ApiClient client = new ApiClient(Endpoints.commaSeparated("--api", mute.url + "," + next.url), null,
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      CliFailure f = assertThrows(CliFailure.class, () -> client.call("POST", "/v1/containers/web-1/migrations", Map.of("mode", "live"),
          "container web-1", Duration.ofMillis(300)));
      assertEquals(ExitCodes.OUTCOME_UNKNOWN, f.exitCode);
      assertEquals("container web-1: POST /v1/containers/web-1/migrations reached the API at " + mute.url + ", which did not answer "
          + "(no answer within 300 ms): it may have been carried out, so it was not sent to another host; check with "
          + "'berth ct show web-1' before repeating it", f.getMessage());
      assertEquals(List.of("POST /v1/containers/web-1/migrations HTTP/1.1"), mute.requests);
      assertEquals(List.of(), next.requests, "the second host must not get the POST");
    }
  }

  @Test
  void aCreateWhoseConnectionIsResetAfterSendingExitsSixAndTheNextHostNeverSeesIt() throws Exception {
    try (LoopbackApis.Mute reset = new LoopbackApis.Mute(true); LoopbackApis.Answering next = new LoopbackApis.Answering("{}")) {
      CliRun r = berth(Map.of("BERTH_API", reset.url + "," + next.url), "ct", "create", "web-1", "--template", "busybox");
      assertEquals(6, r.code(), r.toString());
      assertEquals("", r.out());
      assertTrue(r.err().startsWith("berth: container web-1: POST /v1/containers reached the API at " + reset.url + ", which did not answer ("),
          r.err());
      assertTrue(r.err().endsWith("check with 'berth ct show web-1' before repeating it\n"), r.err());
      assertEquals(1, r.err().lines().count(), r.err());
      assertEquals(List.of("POST /v1/containers HTTP/1.1"), reset.requests);
      assertEquals(List.of(), next.requests, "the second host must not get the POST");
    }
  }

  @Test
  void aReadThatBrokeOffMovesOnToTheNextHost() throws Exception {
    try (LoopbackApis.Mute reset = new LoopbackApis.Mute(true); LoopbackApis.Mute silent = new LoopbackApis.Mute(false);
        LoopbackApis.Answering live = new LoopbackApis.Answering(LIST)) {
      CliRun r = berth(Map.of("BERTH_API", reset.url + "," + live.url), "ct", "list", "--output", "json");
      assertEquals(0, r.code(), r.toString());
      assertEquals(LIST + "\n", r.out());
      assertTrue(r.err().startsWith("berth: the API at " + reset.url + " broke off its answer ("), r.err());
      assertTrue(r.err().endsWith("; using " + live.url + "\n"), r.err());

      ApiClient client = new ApiClient(Endpoints.commaSeparated("--api", silent.url + "," + live.url), null,
          new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      assertEquals(LIST, client.call("GET", "/v1/hosts", null, "hosts", Duration.ofMillis(300)).body());
      assertEquals(List.of("GET /v1/hosts HTTP/1.1"), silent.requests);
    }
  }

  @Test
  void theEventStreamMovesOnToTheNextHost() throws Exception {
    String dead = LoopbackApis.closedUrl();
    try (LoopbackApis.Answering live = new LoopbackApis.Answering("{\"offset\":\"o9\",\"type\":\"ContainerStarted\"}")) {
      CliRun r = berth(Map.of("BERTH_API", dead + "," + live.url), "events", "--from", "o1", "--output", "json");
      assertEquals(0, r.code(), r.toString());
      assertEquals("{\"offset\":\"o9\",\"type\":\"ContainerStarted\"}\n", r.out());
      assertEquals("berth: the API at " + dead + " did not answer (connection refused); using " + live.url + "\n", r.err());
      assertEquals(List.of("GET /v1/events?offset=o1"), live.requests);
    }
  }

  @Test
  void aFollowedStreamWhoseHostWentAwayGoesOnFromTheLastOffsetOnTheNextHost() throws Exception {
    String event = "{\"offset\":\"o9\",\"type\":\"ContainerStarted\"}";
    try (LoopbackApis.Answering first = new LoopbackApis.Answering(event); LoopbackApis.Answering next = new LoopbackApis.Answering(event)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread cli = new Thread(() -> BerthCli.run(new String[] {"events", "--follow", "--output", "json"},
          new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
          Map.of("BERTH_API", first.url + "," + next.url)));
      cli.start();
      try {
        awaitUntil(() -> out.toString(StandardCharsets.UTF_8).contains("o9"), "no event printed from the first host");
        first.close();
        awaitUntil(() -> !next.requests.isEmpty(), "the stream did not move on to the second host; stderr: " + err);
        assertEquals("GET /v1/events?offset=o9", next.requests.get(0), "it goes on after the last offset seen");
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith(event + "\n"), out.toString(StandardCharsets.UTF_8));
        // The CLI may say so just after its request reached the next host: waited for, not read at once.
        String moved = "berth: the API at " + first.url + " did not answer (connection refused); using " + next.url + "\n";
        awaitUntil(() -> err.toString(StandardCharsets.UTF_8).contains(moved), "stderr saying it moved on to " + next.url);
      } finally {
        cli.interrupt();
        cli.join(5000);
      }
      assertTrue(!cli.isAlive(), "berth events --follow did not end on interrupt");
    }
  }

  static void awaitUntil(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError(what + " within 5 s");
      Thread.sleep(20);
    }
  }

  @Test
  void whenEveryHostFailsOneLineNamesEachAndWhy() throws Exception {
    String a = LoopbackApis.closedUrl();
    String b = LoopbackApis.closedUrl();
    try (LoopbackApis.Mute reset = new LoopbackApis.Mute(true)) {
      CliRun r = berth(Map.of("BERTH_API", a + "," + b + "," + reset.url), "host", "list");
      assertEquals(69, r.code(), r.toString());
      assertEquals("", r.out());
      String line = r.err();
      assertEquals(1, line.lines().count(), line);
      assertTrue(line.startsWith("berth: cannot reach the Berth API at any of its 3 addresses: the API at " + a
          + " did not answer (connection refused); the API at " + b + " did not answer (connection refused); the API at "
          + reset.url + " broke off its answer ("), line);
      assertTrue(line.endsWith("; is the cluster up? (berth up)\n"), line);
    }
  }
}
