package io.berth.isolation;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A stand-in for the source node in {@link HeldCheckpointIT}: a separate JVM that prepares and starts a
 * counting container, holds it in a checkpoint, prints {@code held INIT} and waits to be killed (SIGKILL,
 * as a crash), leaving CRIU and its hook holding the container.
 * Arguments: dataRoot bridge cgroupRoot containerId imagesDir holdBoundSeconds.
 */
public final class HoldFixture {
  private HoldFixture() {}

  public static void main(String[] args) throws InterruptedException {
    IsolationLayer layer = new IsolationLayer(IsolationConfig.defaults(Path.of(args[0]), args[1], args[2]));
    ContainerId id = ContainerId.of(args[3]);
    layer.prepare(TestHost.spec(id, Limits.DEFAULT, "/bin/sh", "-c", HeldCheckpointIT.COUNTER), null);
    int init = layer.start(id);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (HeldCheckpointIT.written(layer.upperDir(id).resolve("tmp/counter")) < 10 && System.nanoTime() < deadline) Thread.sleep(20);
    layer.checkpointHeld(id, Path.of(args[4]), Duration.ofSeconds(Long.parseLong(args[5])));
    System.out.println("held " + init);
    System.out.flush();
    Thread.sleep(Duration.ofMinutes(5).toMillis());
  }
}
