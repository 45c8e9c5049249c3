package io.berth.bench.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's cpu time between two readings, split by who spent it: the node JVMs (with the helpers they ran and
 * reaped: nsexec, nft, mke2fs, ip...), the Cassandra node, and everything else (the benchmark's own client, runc,
 * other work on the machine). Divided by a count it is the cpu one operation costs, which bounds the throughput
 * a machine of so many cores can reach whatever the concurrency: {@code cores x 1000 / cpu ms per operation}.
 */
final class CpuMeter {
  /** USER_HZ: the unit of /proc's cpu times on Linux. */
  private static final double TICK_MS = 10.0;

  record Reading(long machineTicks, long nodeTicks, long cassandraTicks) {}

  record Spent(double machineMs, double nodeMs, double cassandraMs) {
    double otherMs() {
      return machineMs - nodeMs - cassandraMs;
    }

    Spent per(int n) {
      return new Spent(machineMs / n, nodeMs / n, cassandraMs / n);
    }
  }

  private CpuMeter() {}

  static Reading read() throws IOException {
    long node = 0;
    long cassandra = 0;
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
      for (Path p : procs) {
        String cmdline;
        long ticks;
        try {
          cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          ticks = processTicks(Files.readString(p.resolve("stat")));
        } catch (IOException gone) {
          continue; // exited between the listing and the read
        }
        if (cmdline.contains("io.berth.node.BerthNode")) node += ticks;
        else if (cmdline.contains("org.apache.cassandra.service.CassandraDaemon")) cassandra += ticks;
      }
    }
    return new Reading(machineBusyTicks(), node, cassandra);
  }

  static Spent between(Reading a, Reading b) {
    return new Spent((b.machineTicks() - a.machineTicks()) * TICK_MS, (b.nodeTicks() - a.nodeTicks()) * TICK_MS,
        (b.cassandraTicks() - a.cassandraTicks()) * TICK_MS);
  }

  /** utime + stime + cutime + cstime (fields 14-17 of /proc/PID/stat, counted after the command's closing parenthesis). */
  private static long processTicks(String stat) {
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    // f[0] is field 3 (state): field n is f[n - 3].
    return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
  }

  /** Every cpu's non-idle time (user, nice, system, irq, softirq, steal) from /proc/stat's first line. */
  private static long machineBusyTicks() throws IOException {
    String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    return Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6]) + Long.parseLong(f[7])
        + Long.parseLong(f[8]);
  }
}
