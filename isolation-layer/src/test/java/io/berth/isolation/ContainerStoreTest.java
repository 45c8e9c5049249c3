package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.store.ContainerRecord;
import io.berth.isolation.store.ContainerStore;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record on disk: round trip, and records written before a key existed. */
class ContainerStoreTest {
  @TempDir Path root;

  @Test
  void privilegedRoundTripsAndIsFalseWhenAnOlderRecordLacksIt() throws Exception {
    ContainerStore store = new ContainerStore(root);
    ContainerId id = ContainerId.of("c1");
    Files.createDirectories(store.dir(id));
    store.save(new ContainerRecord(id, "c1", List.of("/bin/sh"), "sha256:ab", Limits.DEFAULT, Optional.empty(),
        Optional.empty(), 0, 0, 0, true, 0, Optional.empty(), Optional.empty()));
    assertTrue(store.load(id).orElseThrow().privileged());

    Path file = store.dir(id).resolve("container.properties");
    String older = Files.readString(file).lines().filter(l -> !l.startsWith("privileged=")).reduce("", (a, l) -> a + l + "\n");
    Files.writeString(file, older);
    ContainerRecord loaded = store.load(id).orElseThrow();
    assertFalse(loaded.privileged(), "a record from before the key is of a confined container");
    assertEquals(List.of("/bin/sh"), loaded.command());
  }

  @Test
  void theMacRoundTripsAndAnOlderRecordGetsTheOneTheIdGives() throws Exception {
    ContainerStore store = new ContainerStore(root);
    ContainerId id = ContainerId.of("web-1");
    Files.createDirectories(store.dir(id));
    NetworkAttachment net = new NetworkAttachment("198.18.1.10", 16, "198.18.0.1", "berth0");
    store.save(new ContainerRecord(id, "web-1", List.of("/bin/sh"), "sha256:x", Limits.DEFAULT, Optional.of(net), Optional.of("bv0"),
        0, 0, 0, false, 100000, Optional.of("02:aa:bb:cc:dd:ee"), Optional.empty()));
    assertEquals(Optional.of("02:aa:bb:cc:dd:ee"), store.load(id).orElseThrow().mac());
    Path file = store.dir(id).resolve("container.properties");
    String text = Files.readString(file);
    assertTrue(text.contains("mac=02\\:aa\\:bb\\:cc\\:dd\\:ee"), text);

    Files.writeString(file, text.lines().filter(l -> !l.startsWith("mac=")).reduce("", (a, l) -> a + l + "\n"));
    assertEquals(Optional.of(io.berth.isolation.network.Network.macAddress("web-1")), store.load(id).orElseThrow().mac(),
        "a record from before the key: the MAC the id gives (revive sets it on eth0)");
  }

  @Test
  void theDiskImageRoundTripsAndAnOlderRecordHasNone() throws Exception {
    ContainerStore store = new ContainerStore(root);
    ContainerId id = ContainerId.of("d1");
    Files.createDirectories(store.dir(id));
    Path image = root.resolve("disks/d1.img");
    store.save(new ContainerRecord(id, "d1", List.of("/bin/sh"), "sha256:x", Limits.DEFAULT, Optional.empty(), Optional.empty(),
        0, 0, 0, false, 100000, Optional.empty(), Optional.of(image)));
    assertEquals(Optional.of(image), store.load(id).orElseThrow().diskImage());
    Path file = store.dir(id).resolve("container.properties");
    Files.writeString(file, Files.readString(file).lines().filter(l -> !l.startsWith("disk.image=")).reduce("", (a, l) -> a + l + "\n"));
    assertEquals(Optional.empty(), store.load(id).orElseThrow().diskImage(), "a record from before disk images: a directory layer");
  }
}
