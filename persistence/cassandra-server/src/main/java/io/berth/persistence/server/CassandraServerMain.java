package io.berth.persistence.server;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;

/**
 * Entry point of the embedded Cassandra child JVM: ties the node's life to its owner, then runs Cassandra's own
 * daemon in the foreground.
 *
 * <p>The owner is named by the system property {@code berth.cassandra.owner}:
 * <ul>
 *   <li>{@code stdin}: the parent holds a pipe to our stdin; end of file means the parent closed it or died (even
 *       by SIGKILL, when the kernel closes its descriptors), so we exit.</li>
 *   <li>{@code pid:N}: exit when process N exits (used to tie a shared test node to the Maven process rather than to
 *       one test JVM).</li>
 *   <li>{@code none}: run until stopped by a signal (SIGTERM runs Cassandra's shutdown hooks).</li>
 * </ul>
 * Exiting through {@link System#exit} runs Cassandra's own shutdown hook, which drains the node (flushes memtables,
 * closes the commit log) so the next start does not replay it. A watchdog halts the JVM if that hangs.
 */
public final class CassandraServerMain {
  private static final long DRAIN_LIMIT_SECONDS = 60;

  private CassandraServerMain() {}

  public static void main(String[] args) throws Exception {
    String owner = System.getProperty("berth.cassandra.owner", "stdin");
    if (owner.equals("stdin")) {
      daemon("berth-owner-stdin", () -> {
        drain(System.in);
        exit("owner closed stdin");
      });
    } else if (owner.startsWith("pid:")) {
      long pid = Long.parseLong(owner.substring(4));
      var handle = ProcessHandle.of(pid);
      if (handle.isEmpty() || !handle.get().isAlive()) {
        System.err.println("berth: owner process " + pid + " is not running; not starting Cassandra");
        System.exit(3);
      }
      handle.get().onExit().thenRun(() -> exit("owner process " + pid + " exited"));
    } else if (!owner.equals("none")) {
      System.err.println("berth: berth.cassandra.owner must be stdin, pid:N or none, was '" + owner + "'");
      System.exit(2);
    }
    org.apache.cassandra.service.CassandraDaemon.main(args);
  }

  private static void drain(InputStream in) {
    byte[] buffer = new byte[256];
    try {
      while (in.read(buffer) >= 0) {
        // Nothing is sent on the pipe; we only wait for its end.
      }
    } catch (IOException e) {
      // A broken pipe is the same signal as end of file: the owner is gone.
    }
  }

  private static void exit(String why) {
    System.err.println("berth: stopping Cassandra: " + why);
    daemon("berth-exit-watchdog", () -> {
      try {
        TimeUnit.SECONDS.sleep(DRAIN_LIMIT_SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      System.err.println("berth: Cassandra did not stop within " + DRAIN_LIMIT_SECONDS + " s; halting");
      Runtime.getRuntime().halt(1);
    });
    System.exit(0);
  }

  private static void daemon(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
  }
}
