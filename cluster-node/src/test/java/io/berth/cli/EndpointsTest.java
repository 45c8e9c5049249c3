package io.berth.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.berth.cli.Endpoints.Endpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Where the CLI finds the API's addresses, and what it refuses, before it sends anything. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class EndpointsTest {
  static final String A = "http://127.0.0.1:7481";
  static final String B = "http://127.0.0.1:7482";

  static void usage(CliRun r, String line) {
    assertEquals(2, r.code(), r.toString());
    assertEquals("", r.out(), r.toString());
    assertEquals("berth: " + line + "\n", r.err());
  }

  @Test
  void theFirstSourceThatNamesAnyWins(@TempDir Path dir) throws Exception {
    Path run = Files.createDirectories(dir.resolve("local/run"));
    Path config = dir.resolve("config/berth/cli.conf");
    Files.createDirectories(config.getParent());
    Files.writeString(config, "# production\napi = https://h1.example:7480/ h1\n\napi = https://h2.example:7480\n");
    assertEquals(List.of(new Endpoint("https://h1.example:7480", "h1"), new Endpoint("https://h2.example:7480", null)),
        Endpoints.resolve(null, Map.of(), run, config));
    Files.writeString(run.resolve("api"), A + "\n");
    assertEquals(List.of(new Endpoint(A, null)), Endpoints.resolve(null, Map.of(), run, config), "an older berth up's run/api");
    Files.writeString(run.resolve("apis"), A + " node-1\n" + B + " node-2\n");
    assertEquals(List.of(new Endpoint(A, "node-1"), new Endpoint(B, "node-2")), Endpoints.resolve(null, Map.of(), run, config));
    assertEquals(List.of(new Endpoint(B, null), new Endpoint(A, null)),
        Endpoints.resolve(null, Map.of("BERTH_API", B + ", " + A + "," + B), run, config), "repeats dropped");
    assertEquals(List.of(new Endpoint(A, null)), Endpoints.resolve(A + "/", Map.of("BERTH_API", B), run, config));
    assertEquals(List.of(new Endpoint(BerthCli.DEFAULT_API, null)), Endpoints.resolve(null, Map.of(), null, null));
  }

  @Test
  void theConfigFileLivesUnderXdgConfigHomeElseHome() {
    assertEquals(Path.of("/x/berth/cli.conf"), Endpoints.configFile(Map.of("XDG_CONFIG_HOME", "/x", "HOME", "/h")));
    assertEquals(Path.of("/h/.config/berth/cli.conf"), Endpoints.configFile(Map.of("HOME", "/h")));
    assertEquals(null, Endpoints.configFile(Map.of()));
  }

  @Test
  void aBadApiValueIsAUsageErrorNamingWhereItCameFromAndTheRule() {
    String rule = Endpoints.RULE;
    usage(ApiFailoverTest.berth(Map.of(), "--api", "ftp://127.0.0.1:7480", "ct", "list"), "--api: " + rule + " (got \"ftp://127.0.0.1:7480\")");
    usage(ApiFailoverTest.berth(Map.of(), "--api", "127.0.0.1:7480", "ct", "list"), "--api: " + rule + " (got \"127.0.0.1:7480\")");
    usage(ApiFailoverTest.berth(Map.of(), "--api", A + ",,", "ct", "list"), "--api entry 2: " + rule + " (got \"\")");
    usage(ApiFailoverTest.berth(Map.of(), "--api", A + ",http://127.0.0.1:7480/?x=1", "ct", "list"),
        "--api entry 2: " + rule + " (got \"http://127.0.0.1:7480/?x=1\")");
    usage(ApiFailoverTest.berth(Map.of(), "--api", "http://127.0.0.1:0", "ct", "list"),
        "--api: the port must be from 1 to 65535 (got \"http://127.0.0.1:0\")");
    usage(ApiFailoverTest.berth(Map.of("BERTH_API", "http://"), "host", "list"), "BERTH_API: " + rule + " (got \"http://\")");
  }

  @Test
  void aBadRunFileOrConfigLineNamesTheFileAndTheLine(@TempDir Path dir) throws Exception {
    Path run = Files.createDirectories(dir.resolve("local/run"));
    Files.writeString(run.resolve("apis"), A + " node-1\nnode-2\n");
    usage(ApiFailoverTest.berth(Map.of("BERTH_LOCAL", dir.resolve("local").toString()), "ct", "list"),
        run.resolve("apis") + " line 2: " + Endpoints.RULE + " (got \"node-2\")");
    Path config = Files.createDirectories(dir.resolve("xdg/berth")).resolve("cli.conf");
    Files.writeString(config, "endpoint = " + A + "\n");
    usage(ApiFailoverTest.berth(Map.of("XDG_CONFIG_HOME", dir.resolve("xdg").toString()), "ct", "list"),
        config + " line 1: must be 'api = URL [NAME]' (the only setting; got \"endpoint = " + A + "\")");
    Files.writeString(config, "api = " + A + " h1 extra\n");
    usage(ApiFailoverTest.berth(Map.of("XDG_CONFIG_HOME", dir.resolve("xdg").toString()), "ct", "list"),
        config + " line 1: must be 'URL [NAME]' (got \"" + A + " h1 extra\")");
  }
}
