package io.berth.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the memory benchmarks read from /proc, in KiB: MemAvailable, a process's PSS, a "Key: value kB" field. */
public final class ProcMemory {
  private ProcMemory() {}

  public static long memAvailableKb() throws IOException {
    return field(Files.readString(Path.of("/proc/meminfo")), "MemAvailable:");
  }

  /** The PSS of the process at {@code proc} (/proc/PID), from smaps_rollup. */
  public static long pssKb(Path proc) throws IOException {
    return field(Files.readString(proc.resolve("smaps_rollup")), "Pss:");
  }

  /** The number after {@code key} on its line of {@code text} (/proc/meminfo, /proc/PID/status, smaps_rollup). */
  public static long field(String text, String key) {
    for (String line : text.split("\n")) {
      if (line.startsWith(key)) return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
    }
    throw new IllegalStateException("no " + key + " in " + text.lines().limit(3).toList());
  }
}
