package io.berth.isolation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What this host can give a single container at most: its cores (in millicores) and its RAM.
 * Limits over these are refused before any syscall.
 */
public record HostResources(long cpuMillis, long memoryBytes) {
  /** The host as the kernel describes it: online cpus and MemTotal from /proc/meminfo. */
  public static HostResources detect() {
    long cpus = Runtime.getRuntime().availableProcessors();
    long mem = 0;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) mem = Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("read /proc/meminfo", e);
    }
    return new HostResources(cpus * 1000, mem);
  }
}
