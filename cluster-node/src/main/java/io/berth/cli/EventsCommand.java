package io.berth.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code berth events [--follow] [--from OFFSET]}: the cluster's events. With {@code --from}, from that offset
 * (each event's offset is printed, so a later run can resume); {@code --follow} keeps printing new ones until
 * interrupted (when the host serving it goes away, from the last offset on another host), otherwise the command
 * ends once the stream is quiet for a second. Without either, the last hour's timeline.
 */
@Command(name = "events", description = "Print the cluster's events; --follow keeps streaming, --from resumes at an offset.")
final class EventsCommand extends Verb {
  private static final Duration QUIET = Duration.ofSeconds(1);
  private static final Object END = new Object();
  private static final Duration RESUME_PAUSE = Duration.ofMillis(500);

  @Option(names = {"-f", "--follow"}, description = "keep streaming new events")
  boolean follow;

  @Option(names = "--from", paramLabel = "OFFSET", description = "start after this offset (the OFFSET column or SSE id)")
  String from;

  @Override
  int execute() {
    if (!follow && from == null) {
      ApiClient.Answer a = api().get("/v1/audit/timeline?since=" + ApiClient.encode(Instant.now().minus(Duration.ofHours(1)).toString())
          + "&limit=1000", "events");
      if (json()) {
        for (Object o : Render.items(a.json())) out().println(JsonText.write(o));
      } else {
        Render.audit(out(), Render.items(a.json()), true);
      }
      return ExitCodes.OK;
    }
    BlockingQueue<Object> queue = new ArrayBlockingQueue<>(1024);
    String after = from;
    InputStream in = open(after, queue);
    boolean header = false;
    try {
      while (true) {
        Object item = follow ? queue.take() : queue.poll(QUIET.toMillis(), TimeUnit.MILLISECONDS);
        if (item == null) break;
        if (item == END) {
          if (!follow) break;
          // The host serving the stream went away (or ended it): follow on from the last offset seen, on whichever
          // host answers (the client moves on and says so). Reading again is harmless; a pause bounds the retries.
          close(in);
          Thread.sleep(RESUME_PAUSE.toMillis());
          in = open(after, queue);
          continue;
        }
        if (item instanceof String[] ev) {
          if (ev[0] != null) after = ev[0];
          if (json()) {
            out().println(ev[1]);
          } else {
            if (!header) {
              out().println(String.format("%-24s %-19s  %-22s %-24s %s", "OFFSET", "TIME", "ENTITY", "EVENT", "DETAILS"));
              header = true;
            }
            Map<String, Object> e = JsonText.object(ev[1]);
            Map<String, Object> entity = obj(e.get("entity"));
            String details = Render.details(obj(e.get("details")));
            out().println(String.format("%-24s %-19s  %-22s %-24s %s", ev[0] == null ? "-" : ev[0], Times.show(e.get("at")),
                entity.get("kind") + " " + entity.get("id"), e.get("type"), details == null ? "" : details).stripTrailing());
          }
          out().flush();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      close(in);
    }
    return ExitCodes.OK;
  }

  /** Opens the stream after {@code offset} (from the start of the stream when null) and reads it into {@code queue}. */
  private InputStream open(String offset, BlockingQueue<Object> queue) {
    InputStream in = api().stream("/v1/events" + (offset == null ? "" : "?offset=" + ApiClient.encode(offset)));
    Thread reader = new Thread(() -> read(in, queue), "berth-events");
    reader.setDaemon(true);
    reader.start();
    return in;
  }

  private static void close(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // the stream is abandoned either way
    }
  }

  /** Parses server-sent events ({@code id:}, {@code data:}, blank line ends one; {@code :} lines are heartbeats). */
  private static void read(InputStream in, BlockingQueue<Object> queue) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String id = null;
      StringBuilder data = new StringBuilder();
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isEmpty()) {
          if (data.length() > 0) queue.put(new String[] {id, data.toString()});
          id = null;
          data.setLength(0);
        } else if (line.startsWith("id:")) {
          id = line.substring(3).strip();
        } else if (line.startsWith("data:")) {
          if (data.length() > 0) data.append('\n');
          data.append(line.substring(5).strip());
        }
      }
    } catch (IOException | InterruptedException e) {
      // the stream ended or was closed
    }
    queue.offer(END);
  }
}
