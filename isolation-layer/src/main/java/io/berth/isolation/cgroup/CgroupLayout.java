package io.berth.isolation.cgroup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The host's cgroup hierarchies as mounted under {@code /sys/fs/cgroup}, read from {@code /proc/self/mounts}:
 * what a container booting systemd gets mounted again inside its cgroup namespace. A v1 hierarchy inside must
 * name exactly the controllers (and {@code name=}) of an existing one (a non-initial cgroup namespace cannot make
 * a new hierarchy), so the host's own grouping is copied: this host keeps cpu and cpuacct apart, and systemd
 * mounting them joined would silently lose both (design.md, "systemd inside").
 *
 * @param name the directory under /sys/fs/cgroup ({@code cpu}, {@code systemd}, {@code unified})
 * @param type {@code cgroup} or {@code cgroup2}
 * @param options the mount data: the controllers and {@code name=} of a v1 hierarchy, {@code -} for none
 */
public record CgroupLayout(String name, String type, String options) {
  /** The berth-nsexec record: "NAME TYPE OPTIONS". */
  public String record() {
    return name + " " + type + " " + options;
  }

  public static List<CgroupLayout> host() {
    try {
      return parse(Files.readString(Path.of("/proc/self/mounts")), subsystems(Files.readString(Path.of("/proc/cgroups"))));
    } catch (IOException e) {
      throw new UncheckedIOException("read the host's cgroup mounts", e);
    }
  }

  /** The controller names /proc/cgroups lists (its first column). */
  static Set<String> subsystems(String procCgroups) {
    Set<String> names = new TreeSet<>();
    for (String line : procCgroups.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) continue;
      names.add(line.split("\\s+")[0]);
    }
    return names;
  }

  /** The cgroup mounts directly under /sys/fs/cgroup, in mount order. */
  static List<CgroupLayout> parse(String procMounts, Set<String> subsystems) {
    List<CgroupLayout> layout = new ArrayList<>();
    for (String line : procMounts.split("\n")) {
      String[] f = line.split(" ");
      if (f.length < 4 || !f[1].startsWith("/sys/fs/cgroup/")) continue;
      String name = f[1].substring("/sys/fs/cgroup/".length());
      if (name.isEmpty() || name.contains("/")) continue;
      if (f[2].equals("cgroup2")) {
        layout.add(new CgroupLayout(name, "cgroup2", "-"));
      } else if (f[2].equals("cgroup")) {
        List<String> opts = new ArrayList<>();
        for (String o : f[3].split(",")) if (subsystems.contains(o) || o.startsWith("name=")) opts.add(o);
        if (opts.isEmpty()) continue;
        // A named hierarchy without controllers is mounted as "none,name=X" (cgroups(7)).
        if (opts.stream().allMatch(o -> o.startsWith("name="))) opts.add(0, "none");
        layout.add(new CgroupLayout(name, "cgroup", String.join(",", opts)));
      }
    }
    return layout;
  }
}
