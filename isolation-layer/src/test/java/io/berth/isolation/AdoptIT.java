package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.process.Commands;
import io.berth.protocol.ids.ContainerId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A container started by another JVM that has since exited is found running and taken back. */
class AdoptIT {
  private TestHost host;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  @Test
  void containersOutliveTheirOwnerAndAreAdopted() throws Exception {
    IsolationLayer layer = host.layer("a"); // registered for cleanup; its data root is the fixture's
    ContainerId id = host.newId("adopt");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Commands.Result owner = Commands.run(List.of(java, "-cp", System.getProperty("java.class.path"), AdoptFixture.class.getName(),
        layer.config().dataRoot().toString(), host.bridge, layer.config().cgroupRoot(), id.value()), null, Duration.ofSeconds(60));
    assertTrue(owner.ok(), "the owner JVM started the container: " + owner.describe());
    int pid = Integer.parseInt(owner.stdout().lines().filter(l -> l.startsWith("init ")).findFirst().orElseThrow().substring(5).strip());
    assertTrue(Files.exists(Path.of("/proc", Integer.toString(pid))), "the init outlived the JVM that started it");

    List<ContainerInfo> adopted = layer.adopt();
    assertEquals(List.of(id), adopted.stream().map(ContainerInfo::id).toList());
    assertEquals(pid, adopted.get(0).initPid());
    assertEquals(ContainerStatus.RUNNING, layer.inspect(id).status());
    assertEquals(id.value(), layer.exec(id, List.of("hostname"), Duration.ofSeconds(10)).stdout().strip());

    // Exit events reach the adopter too.
    BlockingQueue<ContainerExit> exits = new LinkedBlockingQueue<>();
    layer.onExit(exits::add);
    layer.kill(id, 9);
    ContainerExit exit = exits.poll(5, TimeUnit.SECONDS);
    assertTrue(exit != null && exit.signal().orElse(0) == 9, "the adopter hears the init end: " + exit);
  }
}
