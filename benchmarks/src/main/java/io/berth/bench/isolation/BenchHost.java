package io.berth.bench.isolation;

import io.berth.isolation.ContainerInfo;
import io.berth.isolation.IsolationConfig;
import io.berth.isolation.IsolationLayer;
import io.berth.isolation.process.Commands;
import io.berth.isolation.rootfs.Rootfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The isolation benchmarks' corner of the host: a data root under /tmp/berth-bench/RUN, cgroup
 * root {@code berth-bench-RUN}, bridge {@code btbnRUN} on 198.18.254.1/24, and when asked a
 * directory on tmpfs, /dev/shm/berth-bench-RUN. {@link #close()} removes all of it (containers
 * destroyed through the layer, then mounts, cgroups, bridge, nft tables, directories).
 */
public final class BenchHost implements AutoCloseable {
  static final Path BASE = Path.of("/tmp/berth-bench");
  public final String run = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
  public final Path dir = BASE.resolve(run);
  final String bridge = "btbn" + run;
  public final String cgroupRoot = "berth-bench-" + run;
  public final IsolationLayer layer;
  private final Path tmpfs = Path.of("/dev/shm", "berth-bench-" + run);

  public BenchHost() {
    requireRoot();
    layer = new IsolationLayer(IsolationConfig.defaults(dir.resolve("data"), bridge, cgroupRoot));
  }

  /** A directory of this run on tmpfs (/dev/shm: /tmp and /run are on the disk here), for images kept in memory. */
  public Path tmpfs() throws IOException {
    Files.createDirectories(tmpfs);
    return tmpfs;
  }

  public static void requireRoot() {
    if (!"root".equals(System.getProperty("user.name"))) {
      System.err.println("the isolation benchmarks need root on Linux (namespaces, mounts, cgroups)");
      System.exit(2);
    }
  }

  /** The busybox template's rootfs (imported into the data root by digest). */
  Path template() {
    return layer.templates().resolve(io.berth.protocol.spec.TemplateRef.of("busybox")).rootfs();
  }

  public static Commands.Result sh(String script, Duration timeout) {
    return Commands.run(List.of("/bin/sh", "-c", script), null, timeout);
  }

  public static void must(Commands.Result r) {
    if (!r.ok()) throw new IllegalStateException(r.describe());
  }

  @Override
  public void close() {
    for (ContainerInfo c : layer.list()) {
      try {
        layer.destroy(c.id());
      } catch (RuntimeException e) {
        System.err.println("cleanup: " + c.id() + ": " + e.getMessage());
      }
    }
    layer.close();
    for (String m : Rootfs.mountsUnder(dir)) Commands.run(List.of("umount", "-l", m), null, Duration.ofSeconds(10));
    try (var h = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path hierarchy : h.toList()) {
        Path root = hierarchy.resolve(cgroupRoot);
        if (!Files.isDirectory(root)) continue;
        try (var s = Files.list(root)) {
          for (Path c : s.filter(Files::isDirectory).toList()) Files.deleteIfExists(c);
        }
        Files.deleteIfExists(root);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (Files.exists(Path.of("/sys/class/net", bridge))) Commands.run(List.of("ip", "link", "del", bridge), null, Duration.ofSeconds(10));
    new io.berth.isolation.network.Nftables(dir.resolve("data")).removeTables(); // the host protection outlives the containers
    Commands.run(List.of("rm", "-rf", "--one-file-system", dir.toString()), null, Duration.ofSeconds(60));
    Commands.run(List.of("rm", "-rf", "--one-file-system", tmpfs.toString()), null, Duration.ofSeconds(60));
  }

  public static double ms(long nanos) {
    return nanos / 1e6;
  }

  /** Removes {@code dir} and everything under it; nothing when it does not exist. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
    try (var s = Files.walk(dir)) {
      List<Path> all = new java.util.ArrayList<>(s.toList());
      java.util.Collections.reverse(all);
      for (Path p : all) Files.deleteIfExists(p);
    }
  }
}
