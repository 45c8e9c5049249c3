package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.isolation.disk.LoopDevices;
import io.berth.isolation.nativ.Syscalls;
import io.berth.isolation.network.Nftables;
import io.berth.isolation.process.Commands;
import io.berth.isolation.rootfs.Rootfs;
import io.berth.protocol.ids.ContainerId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** What host tests need (Linux, root, the set-up's CRIU and template), and bounded waits. */
final class HostTests {
  private HostTests() {}

  /** Skips with the reason when this is not a root Linux host; under CI=true fails instead. */
  static void requireRootLinux() {
    String reason = null;
    if (!System.getProperty("os.name").toLowerCase().contains("linux")) reason = "host tests need Linux (this is " + System.getProperty("os.name") + ")";
    else if (!Syscalls.isRoot()) reason = "host tests need root: they create namespaces, mounts, cgroups and veths";
    else if (IsolationConfig.repo().map(r -> r.resolve(".local/templates/busybox")).filter(Files::isDirectory).isEmpty()) {
      reason = "host tests need the busybox template: run bin/setup-host";
    } else if (!Files.exists(Path.of("/dev/loop-control")) || !Files.isExecutable(Path.of("/sbin/mkfs.ext4"))) {
      reason = "host tests need loop devices and e2fsprogs for the containers' disk images: run bin/setup-host";
    }
    if (reason == null) return;
    if ("true".equals(System.getenv("CI"))) fail("CI=true and " + reason);
    assumeTrue(false, reason);
  }

  /** LXCFS is a package of the set-up (bin/setup-host): skipped without it, failed under CI=true. */
  static void requireLxcfs() {
    if (io.berth.isolation.lxcfs.Lxcfs.onPath().isPresent()) return;
    failOrSkip("the resource-view tests need lxcfs: run bin/setup-host");
  }

  /** A host test that cannot run here: skips with the reason, or fails under CI=true (CI must exercise it). */
  static void failOrSkip(String reason) {
    if ("true".equals(System.getenv("CI"))) fail("CI=true and " + reason);
    assumeTrue(false, reason);
  }

  /** {@code nft list table bridge TABLE} of the layer's data root; empty when the table does not exist. */
  static String bridgeTable(IsolationLayer layer) {
    Commands.Result r = Commands.run(List.of("nft", "list", "table", "bridge", Nftables.tableName(layer.config().dataRoot())), null,
        Duration.ofSeconds(10));
    if (r.ok()) return r.stdout();
    if (r.stderr().contains("No such file or directory")) return "";
    throw new AssertionError("nft list: " + r.describe());
  }

  /** {@code nft list table inet TABLE} of the layer's data root; empty when the table does not exist. */
  static String inetTable(IsolationLayer layer) {
    Commands.Result r = Commands.run(List.of("nft", "list", "table", "inet", Nftables.tableName(layer.config().dataRoot())), null,
        Duration.ofSeconds(10));
    if (r.ok()) return r.stdout();
    if (r.stderr().contains("No such file or directory")) return "";
    throw new AssertionError("nft list: " + r.describe());
  }

  static Path criu() {
    return IsolationConfig.repo().orElseThrow().resolve(".local/bin/criu");
  }

  /** Polls {@code condition} until it holds or {@code timeout} passes; fails saying what did not happen. */
  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) return;
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting until " + what);
      }
    }
    fail("within " + timeout.toMillis() + " ms, " + what + " did not happen");
  }

  /**
   * Destroy's promise, on the kernel's view: no mount, loop device on its disk image, cgroup (in any
   * hierarchy), veth, nftables rule, process, directory or image file.
   */
  static void assertNothingLeft(IsolationLayer layer, Path dir, ContainerId id, String veth, int pid) {
    assertEquals(List.of(), Rootfs.mountsUnder(dir), "no mount left under " + dir);
    Path image = layer.diskImage(id);
    // The loop driver lets an autoclear device go when its last user closes it, which may trail the unmount.
    await("no loop device references " + image + " (now: " + LoopDevices.referencing(image) + ")", Duration.ofSeconds(5),
        () -> LoopDevices.referencing(image).isEmpty());
    assertFalse(Files.exists(image), "no disk image left: " + image);
    assertFalse(Files.exists(image.resolveSibling(id.value() + ".owner")), "no owner file left beside " + image);
    try (var h = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path hierarchy : h.toList()) {
        Path cg = hierarchy.resolve(layer.config().cgroupRoot()).resolve(id.value());
        assertFalse(Files.exists(cg), "no cgroup left: " + cg);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertFalse(Files.exists(Path.of("/sys/class/net", veth)), "no veth left: " + veth);
    String rules = bridgeTable(layer);
    assertFalse(rules.contains(veth), "no anti-spoofing chain or map element left for " + veth + ":\n" + rules);
    if (pid > 0) assertFalse(Files.exists(Path.of("/proc", Integer.toString(pid))), "no process left: " + pid);
    assertFalse(Files.exists(dir), "no directory left: " + dir);
    assertEquals(ContainerStatus.ABSENT, layer.inspect(id).status());
  }
}
