package io.berth.isolation;

import io.berth.isolation.network.Network;
import io.berth.isolation.network.Nftables;
import io.berth.isolation.process.Commands;
import io.berth.isolation.rootfs.Rootfs;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One test run's corner of the host: a data root under /tmp/berth-it/RUN, a cgroup root
 * {@code berth-it-RUN}, a bridge {@code btitRUN} on 198.18.N.1/24. Closing it destroys every
 * container, stops each data root's LXCFS, and removes bridge, nftables tables, cgroups, mounts and
 * directories; {@link #sweep()} does the same for runs that crashed before they could (killing their LXCFS).
 */
final class TestHost implements AutoCloseable {
  static final Path BASE = Path.of("/tmp/berth-it");
  private static final String BRIDGE_PREFIX = "btit";
  private static final String CGROUP_PREFIX = "berth-it-";
  /** The pid of the test JVM that owns a run: a sweep leaves runs of live JVMs alone (builds run side by side). */
  private static final String OWNER = "owner.pid";

  final String run = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
  final int subnet = ThreadLocalRandom.current().nextInt(1, 250);
  final String bridge = BRIDGE_PREFIX + run;
  final String gateway = "198.18." + subnet + ".1";
  final List<IsolationLayer> layers = Collections.synchronizedList(new ArrayList<>());
  private boolean bridgeMade;

  TestHost() {
    sweep();
    try {
      Files.createDirectories(BASE.resolve(run));
      Files.writeString(BASE.resolve(run).resolve(OWNER), Long.toString(ProcessHandle.current().pid()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  IsolationLayer layer(String name) {
    return layer(name, c -> c);
  }

  /** A layer on the data root {@code name} with its defaults changed by {@code tweak} (a shared images root, a cgroup root). */
  IsolationLayer layer(String name, java.util.function.UnaryOperator<IsolationConfig> tweak) {
    Path root = BASE.resolve(run).resolve(name);
    IsolationLayer layer = new IsolationLayer(tweak.apply(IsolationConfig.defaults(root, bridge, CGROUP_PREFIX + run)));
    layers.add(layer);
    return layer;
  }

  /**
   * A cgroup root of this run for a second layer that holds a container of the same id as another layer
   * (the shared-storage hand-off), so their cgroups do not collide; cleaned up with the run's own.
   */
  String cgroupRoot(String name) {
    return CGROUP_PREFIX + run + "-" + name;
  }

  /** The MAC the host's neighbour table holds for {@code address} on this test bridge, or "" when none. */
  String neighbourMac(String address) {
    Commands.Result r = Commands.run(
        List.of("ip", "neigh", "show", address, "dev", bridge), null, Duration.ofSeconds(5));
    String[] w = r.stdout().strip().split("\\s+");
    for (int i = 0; i + 1 < w.length; i++) {
      if (w[i].equals("lladdr")) return w[i + 1];
    }
    return "";
  }

  /** Makes the host's neighbour entry for {@code address} name {@code mac}, STALE: what an earlier holder of the address leaves. */
  void staleNeighbour(String address, String mac) {
    Commands.Result r = Commands.run(
        List.of("ip", "neigh", "replace", address, "lladdr", mac, "dev", bridge, "nud", "stale"), null, Duration.ofSeconds(5));
    if (!r.ok()) throw new AssertionError("set a stale neighbour entry: " + r.describe());
  }

  NetworkAttachment bridged(int host) {
    if (!bridgeMade) {
      layers.get(0).ensureBridge(bridge, gateway + "/24");
      bridgeMade = true;
    }
    return new NetworkAttachment("198.18." + subnet + "." + host, 24, gateway, bridge);
  }

  /** A scratch directory of this run (images, copies). */
  Path runDir() {
    return BASE.resolve(run);
  }

  ContainerId newId(String what) {
    return ContainerId.of("it-" + run + "-" + what);
  }

  /** A 32 MiB container on shared storage (the shared root the layer was given), checkpointed every {@code checkpointEvery}. */
  static ContainerSpec sharedSpec(ContainerId id, Duration checkpointEvery, String... command) {
    return new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of(command), Limits.DEFAULT.withDiskBytes(32L << 20), null, null,
        null, false, io.berth.protocol.spec.Storage.SHARED, 0, checkpointEvery);
  }

  static ContainerSpec spec(ContainerId id, Limits limits, String... command) {
    return new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of(command), limits, null, null, null);
  }

  /** The same container, privileged: every confinement layer off (the baseline an escape test shows succeeding). */
  static ContainerSpec privilegedSpec(ContainerId id, Limits limits, String... command) {
    return new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of(command), limits, null, null, null, true);
  }

  @Override
  public void close() {
    for (IsolationLayer l : layers) {
      for (ContainerInfo c : l.list()) {
        try {
          l.destroy(c.id());
        } catch (RuntimeException e) {
          System.err.println("cleanup: destroy " + c.id() + ": " + e);
        }
      }
      try {
        l.stopLxcfs();
      } catch (RuntimeException e) {
        System.err.println("cleanup: stop lxcfs of " + l.config().dataRoot() + ": " + e);
      }
      l.close();
      removeTables(l.config().dataRoot());
    }
    cleanup(BASE.resolve(run), CGROUP_PREFIX + run, bridge);
  }

  /** Removes what earlier runs left (their data roots, cgroup roots and bridges). */
  static void sweep() {
    if (Files.isDirectory(BASE)) {
      try (var s = Files.list(BASE)) {
        for (Path runDir : s.toList()) {
          String r = runDir.getFileName().toString();
          if (ownerAlive(runDir)) continue;
          try (var roots = Files.list(runDir)) {
            for (Path root : roots.filter(Files::isDirectory).toList()) {
              try (IsolationLayer l = new IsolationLayer(IsolationConfig.defaults(root, BRIDGE_PREFIX + r, CGROUP_PREFIX + r))) {
                for (ContainerInfo c : l.list()) l.destroy(c.id());
              } catch (RuntimeException e) {
                System.err.println("sweep: " + root + ": " + e);
              }
              removeTables(root);
            }
          }
          cleanup(runDir, CGROUP_PREFIX + r, BRIDGE_PREFIX + r);
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /** The data root's nftables tables (the host's protection outlives its containers, so a test removes it). */
  private static void removeTables(Path dataRoot) {
    try {
      new Nftables(dataRoot).removeTables();
    } catch (RuntimeException e) {
      System.err.println("cleanup: nft tables of " + dataRoot + ": " + e);
    }
  }

  private static boolean ownerAlive(Path runDir) {
    try {
      long pid = Long.parseLong(Files.readString(runDir.resolve(OWNER)).strip());
      return pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  private static void cleanup(Path runDir, String cgroupRoot, String bridge) {
    killLxcfsUnder(runDir);
    killWatchdogsUnder(runDir);
    for (String m : Rootfs.mountsUnder(runDir)) {
      Commands.run(List.of("umount", "-l", m), null, Duration.ofSeconds(10));
    }
    List<Path> hierarchies;
    try (var h = Files.list(Path.of("/sys/fs/cgroup"))) {
      hierarchies = h.filter(Files::isDirectory).toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    // The run's cgroup root, and the roots of a second layer of the same run (ROOT-NAME, see cgroupRoot).
    for (Path hierarchy : hierarchies) {
      List<Path> roots;
      try (var s = Files.list(hierarchy)) {
        roots = s.filter(p -> p.getFileName().toString().equals(cgroupRoot) || p.getFileName().toString().startsWith(cgroupRoot + "-"))
            .filter(Files::isDirectory).toList();
      } catch (IOException e) {
        continue;
      }
      for (Path dir : roots) {
        // Deepest first: a systemd container's own cgroups lie several levels below its container's.
        try (var s = Files.walk(dir)) {
          List<Path> dirs = new ArrayList<>(s.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList());
          dirs.sort(java.util.Comparator.comparingInt(Path::getNameCount).reversed());
          for (Path d : dirs) Files.deleteIfExists(d);
        } catch (IOException | java.io.UncheckedIOException e) {
          System.err.println("cleanup: " + dir + ": " + e);
        }
      }
    }
    Path unified = Path.of("/sys/fs/cgroup", cgroupRoot);
    if (Files.exists(unified.resolve("cgroup.procs"))) {
      try {
        Files.deleteIfExists(unified);
      } catch (IOException e) {
        System.err.println("cleanup: " + unified + ": " + e);
      }
    }
    if (Files.exists(Path.of("/sys/class/net", bridge))) Commands.run(List.of("ip", "link", "del", bridge), null, Duration.ofSeconds(10));
    Commands.run(List.of("rm", "-rf", "--one-file-system", runDir.toString()), null, Duration.ofSeconds(60));
  }

  /** The pids of lxcfs daemons whose mount lies under {@code dir} (their last argument). */
  static List<Integer> lxcfsUnder(Path dir) {
    List<Integer> pids = new ArrayList<>();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) continue;
        String[] argv;
        try {
          argv = new String(Files.readAllBytes(p.resolve("cmdline")), java.nio.charset.StandardCharsets.UTF_8).split("\0");
        } catch (IOException e) {
          continue;
        }
        if (argv.length > 1 && argv[0].endsWith("lxcfs") && argv[argv.length - 1].startsWith(dir + "/")) pids.add(Integer.parseInt(name));
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return pids;
  }

  /** SIGKILL to what a crashed run's LXCFS left; its mount is then detached with the others. */
  private static void killLxcfsUnder(Path runDir) {
    for (int pid : lxcfsUnder(runDir)) {
      ProcessHandle.of(pid).ifPresent(h -> {
        h.destroyForcibly();
        try {
          h.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
          System.err.println("cleanup: lxcfs " + pid + " under " + runDir + " did not end: " + e);
        }
      });
    }
  }

  /** SIGKILL to fencing watchdogs of the run's data roots (their first argument), which a crashed run may leave. */
  private static void killWatchdogsUnder(Path runDir) {
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) continue;
        String[] argv;
        try {
          argv = new String(Files.readAllBytes(p.resolve("cmdline")), java.nio.charset.StandardCharsets.UTF_8).split("\0");
        } catch (IOException e) {
          continue;
        }
        if (argv.length > 1 && argv[0].contains("/berth-watchdog-") && argv[1].startsWith(runDir + "/")) {
          ProcessHandle.of(Long.parseLong(name)).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Optional<String> readIfExists(Path p) {
    try {
      return Files.exists(p) ? Optional.of(Files.readString(p)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  static final Map<String, String> NONE = Map.of();

  static String vethOf(IsolationLayer layer, ContainerId id) {
    return Network.vethName(layer.config().dataRoot().toString(), id.value());
  }
}
