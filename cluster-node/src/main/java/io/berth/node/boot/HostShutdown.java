package io.berth.node.boot;

import com.typesafe.config.ConfigFactory;
import io.berth.isolation.ContainerInfo;
import io.berth.isolation.IsolationConfig;
import io.berth.isolation.IsolationLayer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Takes a stopped node's containers down on its host ({@code berth down}): what a reboot does, on purpose.
 * Processes, mounts, cgroups, veths, net namespaces and the data root's LXCFS go; each container's directory (its writable layer
 * and record) stays, and the log still says which ones run, so the next {@code berth up} runs them again.
 *
 * <pre>  HostShutdown NODE_CONFIG_FILE</pre>
 */
public final class HostShutdown {
  private HostShutdown() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1 || !new File(args[0]).isFile()) {
      System.err.println("usage: HostShutdown NODE_CONFIG_FILE");
      System.exit(2);
    }
    NodeSettings s = NodeSettings.fromConfig(ConfigFactory.parseFile(new File(args[0])).withFallback(ConfigFactory.load()));
    Path root = s.dataRoot().resolve("isolation");
    int failures = 0;
    if (Files.isDirectory(root)) {
      // The node is stopped and its containers go now: its watchdog (left armed if the node was killed) goes
      // without fencing, so nothing of the host runs on after a down.
      try {
        io.berth.isolation.fence.Watchdog.attach(root).ifPresent(io.berth.isolation.fence.Watchdog::disarm);
      } catch (RuntimeException e) {
        failures++;
        System.err.println("berth: disarm the watchdog of " + s.hostId() + ": " + e.getMessage());
      }
      try (IsolationLayer layer = new IsolationLayer(IsolationConfig.defaults(root, s.bridge(), s.cgroupRoot()))) {
        for (ContainerInfo c : layer.list()) {
          try {
            layer.release(c.id());
            System.out.println("released " + c.id());
          } catch (RuntimeException e) {
            failures++;
            System.err.println("berth: release container " + c.id() + " on " + s.hostId() + ": " + e.getMessage());
          }
        }
        // Nothing runs here now: the data root's LXCFS (the containers' /proc view) goes too.
        try {
          layer.stopLxcfs();
        } catch (RuntimeException e) {
          failures++;
          System.err.println("berth: stop LXCFS on " + s.hostId() + ": " + e.getMessage());
        }
      }
    }
    // The host's cgroup roots are empty now: remove them too.
    try (var hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path h : hierarchies.toList()) {
        Path cg = h.resolve(s.cgroupRoot());
        if (Files.isDirectory(cg)) {
          try {
            Files.delete(cg);
          } catch (IOException e) {
            failures++;
            System.err.println("berth: remove cgroup " + cg + ": " + e.getMessage());
          }
        }
      }
    }
    System.exit(failures == 0 ? 0 : 1);
  }
}
