package io.berth.isolation;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;

/**
 * A stand-in for the node process in {@link AdoptIT}: a separate JVM that prepares and starts a
 * container, prints its init pid and exits, as a node does when it is restarted.
 * Arguments: dataRoot bridge cgroupRoot containerId.
 */
public final class AdoptFixture {
  private AdoptFixture() {}

  public static void main(String[] args) {
    IsolationLayer layer = new IsolationLayer(IsolationConfig.defaults(Path.of(args[0]), args[1], args[2]));
    ContainerId id = ContainerId.of(args[3]);
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sleep", "1000"), null);
    System.out.println("init " + layer.start(id));
    System.exit(0);
  }
}
