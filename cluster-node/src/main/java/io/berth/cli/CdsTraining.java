package io.berth.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Map;

/**
 * The launcher builds the class-data-sharing archive from one training run ({@code -Dberth.cdsTraining=true},
 * with {@code -XX:ArchiveClassesAtExit}) that needs no running cluster: the command itself fails to connect,
 * and this walks the success path's classes (JSON reading, tables, times), so later runs find them archived.
 */
final class CdsTraining {
  private static final String SAMPLE = "{\"items\":[{\"id\":\"web-1\",\"phase\":\"running\",\"host\":\"host-1\",\"address\":\"198.18.1.10/16\","
      + "\"template\":\"busybox\",\"hostname\":\"web-1\",\"command\":[],\"limits\":{\"cpu\":\"0.5\",\"memory\":\"64M\",\"pids\":128,"
      + "\"disk\":\"0\"},\"restart\":\"never\",\"labels\":{\"a\":\"b\"},\"placement\":{\"host\":null},\"pid\":42,"
      + "\"runningSince\":\"2025-01-31T12:00:00Z\",\"pending\":null,\"lastExit\":null,\"lastError\":null,\"restartAttempts\":0,"
      + "\"migration\":null,\"updatedAt\":\"2025-01-31T12:00:00.5Z\",\"x\":[1.5,true,false,\"\\u0041\\n\"]}]}";

  private CdsTraining() {}

  static void exercise() {
    PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
    Map<String, Object> page = JsonText.object(SAMPLE);
    Render.containers(sink, Render.items(page));
    Render.container(sink, Verb.obj(Render.items(page).get(0)));
    Render.hosts(sink, Render.items(page));
    Render.audit(sink, Render.items(page), true);
    sink.println(JsonText.write(page) + JsonText.pretty(page));
    ApiClient.failure(404, "{\"type\":\"urn:berth:problem:not-found\",\"detail\":\"x\"}", "container x");
  }
}
