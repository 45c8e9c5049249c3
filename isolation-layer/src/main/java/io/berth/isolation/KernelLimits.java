package io.berth.isolation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Host-wide kernel limits that many containers on one host exhaust at their defaults, raised (never lowered) when
 * a layer starts. Each container's user namespace is made by the host's root, so what its processes use is also
 * charged to the host's root in the host's namespace (ucounts): with the default of 128 inotify instances, the
 * 19th booted Debian failed here ("Failed to create inotify object: Too many open files" from systemd, dbus and
 * logind; each booted systemd holds about seven). Incus asks its operators for the same settings in its production
 * setup.
 */
final class KernelLimits {
  record Minimum(String key, long value) {}

  /** Keys relative to /proc/sys. */
  static final List<Minimum> MINIMUMS = List.of(
      new Minimum("fs/inotify/max_user_instances", 1_048_576),
      new Minimum("fs/inotify/max_user_watches", 1_048_576));

  private KernelLimits() {}

  /**
   * Raises each limit under {@code procSys} that is below its minimum. Returns one line per change ("key: old ->
   * new") and per limit it could not read or raise ("key: cannot ...": the caller warns); a key this kernel lacks is
   * skipped.
   */
  static List<String> raise(Path procSys) {
    List<String> said = new ArrayList<>();
    for (Minimum m : MINIMUMS) {
      Path file = procSys.resolve(m.key());
      if (!Files.exists(file)) continue;
      try {
        long now = Long.parseLong(read(file));
        if (now >= m.value()) continue;
        Files.writeString(file, Long.toString(m.value()), StandardCharsets.US_ASCII);
        said.add(m.key() + ": " + now + " -> " + m.value());
      } catch (IOException | NumberFormatException | SecurityException e) {
        said.add(m.key() + ": cannot raise it to " + m.value() + " (" + e.getMessage() + "); booted systems may fail to start once it is used up");
      }
    }
    return said;
  }

  /**
   * A sysctl's value in one read: a numeric sysctl answers a read at an offset past 0 with nothing, so
   * Files.readString (which, for a file of size 0, reads one byte and then the rest) sees only its first digit.
   */
  static String read(Path file) throws IOException {
    try (var in = Files.newInputStream(file)) {
      return new String(in.readNBytes(64), StandardCharsets.US_ASCII).strip();
    }
  }
}
