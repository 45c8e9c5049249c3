package io.berth.isolation.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What /proc says about a pid: its start time (to rule out pid reuse) and whether it has exited. */
public final class Procs {
  private Procs() {}

  /**
   * Field 22 of /proc/PID/stat (starttime, clock ticks after boot; proc(5)), or -1 when there is no
   * such process or it is a zombie (it has exited; only its status waits to be collected).
   */
  public static long startTime(int pid) {
    if (pid <= 0) return -1;
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
    } catch (IOException e) {
      return -1;
    }
    // comm (field 2) may hold spaces and parentheses: fields after it start after the last ')'.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    if (f[0].equals("Z") || f[0].equals("X")) return -1;
    return Long.parseLong(f[19]);
  }

  /** True when pid is alive and is the process that started at {@code startTime}. */
  public static boolean isAlive(int pid, long startTime) {
    return startTime > 0 && startTime(pid) == startTime;
  }
}
