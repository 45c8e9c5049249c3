package io.berth.node.template;

import com.typesafe.config.Config;
import io.berth.protocol.InvalidFieldException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code berth.templates.build-network}: the network namespace a template build's debootstrap runs in, to reach
 * the Debian archive. Empty (a real server): the node's own. The local cluster's hosts are network namespaces
 * without a route out (they stand in for servers on a private segment), so bin/berth up names the machine's.
 */
public final class BuildNetwork {
  static final String KEY = "berth.templates.build-network";

  private BuildNetwork() {}

  public static Optional<Path> fromConfig(Config config) {
    if (!config.hasPath(KEY)) return Optional.empty();
    String value = config.getString(KEY).strip();
    if (value.isEmpty()) return Optional.empty();
    Path p = Path.of(value);
    if (!p.isAbsolute() || !Files.exists(p)) {
      throw new InvalidFieldException(KEY, "must be empty or the absolute path of a network namespace file (e.g. /proc/1/ns/net)", value);
    }
    return Optional.of(p);
  }
}
