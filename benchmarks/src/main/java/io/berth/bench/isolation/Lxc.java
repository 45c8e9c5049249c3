package io.berth.bench.isolation;

import io.berth.isolation.process.Commands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The baseline of the Debian boot benchmarks: an LXC container (Debian's lxc package) whose rootfs is an overlay
 * of the same template directory ({@code lxc.rootfs.path = overlay:...}), no network, privileged (LXC's overlay
 * backend makes no idmapped lower layer), started with {@code lxc-start -d} under its own lxcpath.
 */
final class Lxc {
  private Lxc() {}

  static void requireInstalled() {
    if (!Files.isExecutable(Path.of("/usr/bin/lxc-start"))) throw new IllegalStateException("the baseline needs Debian's lxc package");
  }

  static void start(Path lxcDir, String name, Path template) {
    Path ct = lxcDir.resolve(name);
    try {
      Files.createDirectories(ct.resolve("upper"));
      Files.writeString(ct.resolve("config"), String.join("\n",
          "lxc.uts.name = " + name,
          "lxc.rootfs.path = overlay:" + template + ":" + ct.resolve("upper"),
          "lxc.include = /usr/share/lxc/config/common.conf",
          "lxc.net.0.type = empty",
          "lxc.environment = container=lxc", ""));
    } catch (IOException e) {
      throw new UncheckedIOException("write the LXC config of " + name, e);
    }
    must(List.of("lxc-start", "-P", lxcDir.toString(), "-n", name, "-d"));
  }

  static String isSystemRunning(Path lxcDir, String name) {
    return Commands.run(List.of("lxc-attach", "-P", lxcDir.toString(), "-n", name, "--", "systemctl", "is-system-running"),
        null, Duration.ofSeconds(10)).stdout().strip();
  }

  /** The container's init, as the host sees it. */
  static int initPid(Path lxcDir, String name) {
    Commands.Result r = Commands.run(List.of("lxc-info", "-P", lxcDir.toString(), "-n", name, "-p", "-H"), null, Duration.ofSeconds(10));
    if (!r.ok()) throw new IllegalStateException(r.describe());
    return Integer.parseInt(r.stdout().strip());
  }

  static void destroy(Path lxcDir, String name) {
    must(List.of("lxc-stop", "-P", lxcDir.toString(), "-n", name, "-k"));
    Commands.run(List.of("rm", "-rf", "--one-file-system", lxcDir.resolve(name).toString()), null, Duration.ofMinutes(1));
  }

  private static void must(List<String> argv) {
    Commands.Result r = Commands.run(argv, null, Duration.ofSeconds(60));
    if (!r.ok()) throw new IllegalStateException(r.describe());
  }
}
