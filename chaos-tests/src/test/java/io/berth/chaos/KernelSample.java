package io.berth.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What every host's kernel holds of any container, read at one moment: which hosts run each container (its pids
 * cgroup there is not empty), and everything a container leaves when it is not cleaned up: processes, cgroups in any
 * hierarchy, mounts, loop devices, veths, nft chains, directories and disk images. Read from the kernel by
 * {@link #read}; made by hand in the unit tests.
 */
record KernelSample(Instant at, List<String> hosts, Map<String, List<String>> running, List<String> processes, List<String> cgroups,
    List<String> mounts, List<String> loops, List<String> veths, List<String> nftChains, List<String> directories) {

  /** Every leftover, each naming what, where (the host) and when. */
  List<String> leaks() {
    List<String> out = new ArrayList<>();
    processes.forEach(p -> out.add("process left: " + p + " at " + at));
    cgroups.forEach(c -> out.add("cgroup left: " + c + " at " + at));
    mounts.forEach(m -> out.add("mount left: " + m + " at " + at));
    loops.forEach(l -> out.add("loop device left: " + l + " at " + at));
    veths.forEach(v -> out.add("veth left: " + v + " at " + at));
    nftChains.forEach(c -> out.add("nft chain left: " + c + " at " + at));
    directories.forEach(d -> out.add("directory or image left: " + d + " at " + at));
    return out;
  }

  static KernelSample read(Berth berth) {
    Instant at = Instant.now();
    Map<String, List<String>> running = new TreeMap<>();
    List<String> processes = new ArrayList<>();
    List<String> cgroups = new ArrayList<>();
    List<String> veths = new ArrayList<>();
    List<String> chains = new ArrayList<>();
    List<String> directories = new ArrayList<>();
    for (String host : Berth.HOSTS) {
      String root = berth.name + "-" + host;
      for (Path hierarchy : list(Path.of("/sys/fs/cgroup"))) {
        for (Path cg : list(hierarchy.resolve(root))) {
          if (!Files.isDirectory(cg)) continue;
          cgroups.add(host + ": " + cg);
          if (hierarchy.getFileName().toString().equals("pids")) {
            List<String> pids = lines(cg.resolve("cgroup.procs"));
            if (!pids.isEmpty()) {
              running.computeIfAbsent(cg.getFileName().toString(), k -> new ArrayList<>()).add(host);
              for (String pid : pids) processes.add(host + ": pid " + pid + " (" + comm(pid) + ") in " + cg);
            }
          }
        }
      }
      String links = berth.run(List.of("ip", "netns", "exec", berth.netns(host), "ip", "-o", "link", "show", "type", "veth"), Duration.ofSeconds(10)).stdout();
      for (String line : links.split("\n")) {
        String[] f = line.split(":\\s+");
        if (f.length > 1 && f[1].startsWith("bv")) veths.add(host + ": " + f[1].split("@")[0]);
      }
      String rules = berth.run(List.of("ip", "netns", "exec", berth.netns(host), "nft", "list", "ruleset"), Duration.ofSeconds(10)).stdout();
      for (String line : rules.split("\n")) if (line.strip().startsWith("chain c_")) chains.add(host + ": " + line.strip().replace(" {", ""));
      Path data = berth.local.resolve("cluster").resolve(host);
      for (Path dir : find(data, "containers")) for (Path ct : list(dir)) directories.add(host + ": " + ct);
      for (Path dir : find(data, "disks")) for (Path img : list(dir)) {
        // .incoming is the node's own staging directory for migrating disks: what is in it is a leftover, not it.
        if (img.getFileName().toString().startsWith(".") && Files.isDirectory(img)) list(img).forEach(i -> directories.add(host + ": " + i));
        else directories.add(host + ": " + img);
      }
    }
    for (Path dir : find(berth.local.resolve("cluster/shared"), "disks")) for (Path img : list(dir)) directories.add("shared: " + img);
    List<String> mounts = new ArrayList<>();
    for (String line : lines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && f[4].startsWith(berth.local.toString()) && f[4].contains("/containers/")) mounts.add(f[4]);
    }
    List<String> loops = new ArrayList<>();
    for (Path dev : list(Path.of("/sys/block"))) {
      List<String> backing = lines(dev.resolve("loop/backing_file"));
      if (!backing.isEmpty() && backing.get(0).startsWith(berth.local.toString())) loops.add("/dev/" + dev.getFileName() + " on " + backing.get(0));
    }
    return new KernelSample(at, Berth.HOSTS, running, processes, cgroups, mounts, loops, veths, chains, directories);
  }

  private static String comm(String pid) {
    List<String> c = lines(Path.of("/proc", pid, "comm"));
    return c.isEmpty() ? "gone" : c.get(0);
  }

  private static List<Path> list(Path dir) {
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    } catch (IOException e) {
      return List.of(); // removed while listed
    }
  }

  /** Directories named {@code name} under {@code root}, at most 3 deep (data root, isolation, containers). */
  private static List<Path> find(Path root, String name) {
    if (!Files.isDirectory(root)) return List.of();
    try (Stream<Path> s = Files.find(root, 3, (p, a) -> a.isDirectory() && p.getFileName().toString().equals(name))) {
      return s.toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      return List.of();
    }
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).map(String::strip).toList();
    } catch (IOException e) {
      return List.of(); // gone (ENOENT, ENODEV): nothing there
    }
  }
}
