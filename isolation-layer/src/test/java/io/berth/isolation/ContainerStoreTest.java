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
        Optional.empty(), 0, 0, 0, true, 0));
    assertTrue(store.load(id).orElseThrow().privileged());

    Path file = store.dir(id).resolve("container.properties");
    String older = Files.readString(file).lines().filter(l -> !l.startsWith("privileged=")).reduce("", (a, l) -> a + l + "\n");
    Files.writeString(file, older);
    ContainerRecord loaded = store.load(id).orElseThrow();
    assertFalse(loaded.privileged(), "a record from before the key is of a confined container");
    assertEquals(List.of("/bin/sh"), loaded.command());
  }
}
