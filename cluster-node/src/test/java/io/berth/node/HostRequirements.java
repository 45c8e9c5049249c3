package io.berth.node;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.isolation.IsolationConfig;
import java.nio.file.Files;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** What the node's host tests need (Linux, root, the set-up's template), and bounded waits. */
public final class HostRequirements {
  private HostRequirements() {}

  /** Skips with the reason when this is not a root Linux host with the set-up done; under CI=true fails instead. */
  public static void requireRootLinux() {
    String reason = null;
    if (!System.getProperty("os.name").toLowerCase().contains("linux")) {
      reason = "node tests need Linux (this is " + System.getProperty("os.name") + ")";
    } else if (!"root".equals(System.getProperty("user.name"))) {
      reason = "node tests need root: they run containers (namespaces, mounts, cgroups, veths)";
    } else if (IsolationConfig.repo().map(r -> r.resolve(".local/templates/busybox")).filter(Files::isDirectory).isEmpty()) {
      reason = "node tests need the busybox template: run bin/setup-host";
    }
    if (reason == null) return;
    if ("true".equals(System.getenv("CI"))) fail("CI=true and " + reason);
    assumeTrue(false, reason);
  }

  /** Polls {@code condition} until it holds or {@code timeout} passes; fails saying what did not happen. */
  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) return;
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted while waiting until " + what);
      }
    }
    fail("within " + timeout.toMillis() + " ms, " + what + " did not happen");
  }
}
