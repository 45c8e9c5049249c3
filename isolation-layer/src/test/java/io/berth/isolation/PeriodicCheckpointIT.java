package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.checkpoint.Checkpoint;
import io.berth.isolation.checkpoint.CheckpointStore;
import io.berth.isolation.checkpoint.CriuStats;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Periodic checkpoints on shared storage, two hosts in one kernel (as {@link SharedStorageIT}): A checkpoints a
 * running counter whose count lives only in its memory, keeps the newest two, and B, after A is fenced and forgets it,
 * adopts the disk in place and restores the latest checkpoint: the count goes on from there, not from 0.
 */
class PeriodicCheckpointIT {
  /** The count is a shell variable; the file only shows it (overwritten each tick), it is never read back. */
  private static final String COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; usleep 50000; done";
  private static final Duration T = Duration.ofSeconds(20);
  private static final long MIB = 1L << 20;
  private TestHost host;
  private Path shared;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    shared = host.runDir().resolve("shared-images");
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close(); // destroys what each layer still has, then removes the run's directory (S with it)
  }

  private static ContainerSpec sharedSpec(ContainerId id, String... command) {
    return TestHost.sharedSpec(id, Duration.ofSeconds(30), command);
  }

  private static long counter(IsolationLayer layer, ContainerId id) {
    String s = layer.exec(id, List.of("cat", "/tmp/counter"), Duration.ofSeconds(10)).stdout().strip();
    return s.isEmpty() ? 0 : Long.parseLong(s);
  }

  @Test
  void checkpointsOfARunningCounterAreKeptTwoDeepAndAnotherHostRestoresTheLatestCountingOnFromIt() throws Exception {
    IsolationLayer a = host.layer("a", c -> c.withSharedImagesRoot(shared));
    IsolationLayer b = host.layer("b", c -> c.withSharedImagesRoot(shared).withCgroupRoot(host.cgroupRoot("b")));
    CheckpointStore store = a.checkpoints().orElseThrow();
    ContainerId id = host.newId("pc");
    ContainerSpec spec = sharedSpec(id, "/bin/sh", "-c", COUNTER);
    a.prepare(spec, null);
    int init = a.start(id);
    await("the counter reaches 20", T, () -> counter(a, id) >= 20);

    Checkpoint first = a.takeCheckpoint(id, "host-a");
    assertEquals(1, first.sequence());
    assertEquals(store.containerDir(id).resolve("1"), first.dir());
    assertEquals(Checkpoint.FROM_CRIU, first.frozenSource(), "the frozen time is CRIU's own");
    assertTrue(first.frozenMillis() > 0 && first.frozenMillis() <= first.dumpMillis(), "frozen " + first.frozenMillis() + " ms of a "
        + first.dumpMillis() + " ms dump");
    assertEquals((CriuStats.readDump(first.images()).orElseThrow().frozenMicros() + 500) / 1000, first.frozenMillis(),
        "the manifest's frozen time is the stats-dump's");
    assertTrue(first.imagesBytes() > 0);
    assertEquals("host-a", first.host());
    assertEquals(init, first.initPid(), "the incarnation dumped");
    assertEquals(ContainerStatus.RUNNING, a.inspect(id).status(), "it runs on after a checkpoint");
    assertEquals(init, a.inspect(id).initPid(), "the same init");
    long afterFirst = counter(a, id);
    await("the counter goes on after the checkpoint", T, () -> counter(a, id) > afterFirst + 3);

    a.takeCheckpoint(id, "host-a");
    long before = counter(a, id);
    Checkpoint third = a.takeCheckpoint(id, "host-a");
    assertEquals(3, third.sequence());
    assertEquals(List.of(3L, 2L), store.kept(id).stream().map(Checkpoint::sequence).toList(), "the newest two are kept");
    assertFalse(Files.exists(store.containerDir(id).resolve("1")), "the oldest is deleted");
    System.out.printf("checkpoint of the counter: frozen %d ms (%s), dump %d ms, images %d bytes%n", third.frozenMillis(), third.frozenSource(),
        third.dumpMillis(), third.imagesBytes());

    // A dump cut short (its host died before the rename) is never taken for the latest.
    Path partial = store.containerDir(id).resolve("4.partial");
    Files.createDirectories(partial.resolve("images"));
    Files.copy(third.dir().resolve("manifest"), partial.resolve("manifest"));
    assertEquals(3, store.latest(id).orElseThrow().sequence(), "a .partial is not a checkpoint");

    // A is fenced and forgets it; B adopts the disk in place and restores the latest checkpoint.
    long lastOnA = counter(a, id);
    assertEquals(List.of(id), a.fenceAll());
    a.forget(id);
    assertTrue(Files.isDirectory(third.dir()), "forget leaves the checkpoints on shared storage");
    b.prepare(spec, null);
    Checkpoint latest = b.checkpoints().orElseThrow().latest(id).orElseThrow();
    assertEquals(3, latest.sequence());
    long t0 = System.nanoTime();
    int restored = b.restoreCheckpoint(id, latest);
    long restoreMillis = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("restore of checkpoint %d on another layer: %d ms (the count on A's disk was %d, at the checkpoint at least %d)%n",
        latest.sequence(), restoreMillis, lastOnA, before);
    assertTrue(restored > 0);
    assertEquals(ContainerStatus.RUNNING, b.inspect(id).status());
    Thread.sleep(300);
    long now = counter(b, id);
    // From 0 it would be about 6 now; from its memory it is at least what it counted before the checkpoint.
    assertTrue(now >= before, "the restored counter goes on from its checkpoint (>= " + before + "), not from 0: " + now);
    await("the restored counter counts", T, () -> counter(b, id) > now + 3);
    assertTrue(Files.isDirectory(latest.dir()), "the checkpoint stays as it was after its restore (restored from a copy)");
    assertEquals(3, b.checkpoints().orElseThrow().read(latest.dir()).sequence());
    assertFalse(Files.exists(b.config().dataRoot().resolve("restores").resolve(id.value() + "-3")), "the restore's copy is gone");

    // Destroy by its owner deletes its image and its checkpoints with it.
    b.destroy(id);
    assertFalse(Files.exists(store.containerDir(id)), "its checkpoints are gone with it");
  }

  @Test
  void badInputIsRefusedClearlyAndAFailedCheckpointIsRecordedWhileTheContainerRunsOn() throws Exception {
    IsolationLayer plain = host.layer("plain");
    ContainerId id = host.newId("bad");
    InvalidFieldException noRoot = assertThrows(InvalidFieldException.class, () -> plain.takeCheckpoint(id, "host-a"));
    assertEquals("storage", noRoot.field());
    assertTrue(plain.checkpoints().isEmpty());

    IsolationLayer a = host.layer("a", c -> c.withSharedImagesRoot(shared));
    CheckpointStore store = a.checkpoints().orElseThrow();
    // A checkpoint of a container that is not running fails, is recorded, and leaves no .partial.
    a.prepare(sharedSpec(id, "/bin/sh", "-c", COUNTER), null);
    assertThrows(ContainerStateException.class, () -> a.takeCheckpoint(id, "host-a"));
    assertTrue(store.lastFailure(id).orElseThrow().message().contains("must be running"), store.lastFailure(id).toString());
    try (var s = Files.list(store.containerDir(id))) {
      assertEquals(List.of("last-error"), s.map(p -> p.getFileName().toString()).toList(), "no checkpoint directory left");
    }
    a.start(id);
    Checkpoint ok = a.takeCheckpoint(id, "host-a");
    assertTrue(store.lastFailure(id).isEmpty(), "a success clears the failure");

    // A local container has no checkpoints.
    ContainerId local = host.newId("loc");
    a.prepare(TestHost.spec(local, Limits.DEFAULT.withDiskBytes(32 * MIB), "/bin/sleep", "1000"), null);
    a.start(local);
    assertEquals("storage", assertThrows(InvalidFieldException.class, () -> a.takeCheckpoint(local, "host-a")).field());

    // Missing and corrupt checkpoints.
    InvalidFieldException missing = assertThrows(InvalidFieldException.class, () -> store.read(store.containerDir(id).resolve("77")));
    assertEquals("checkpoint", missing.field());
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    assertThrows(InvalidFieldException.class, () -> store.read(store.containerDir(id).resolve("2.partial")));
    Path fake = store.containerDir(id).resolve(Long.toString(ok.sequence() + 1));
    Files.createDirectories(fake.resolve("images"));
    Files.writeString(fake.resolve("manifest"), "format=1\ncontainer=" + id + "\nsequence=oops\n");
    InvalidFieldException corrupt = assertThrows(InvalidFieldException.class, () -> store.read(fake));
    assertEquals("checkpoint", corrupt.field());
    assertTrue(corrupt.getMessage().contains("manifest") && corrupt.getMessage().contains("sequence \"oops\" is not a number"), corrupt.getMessage());
    assertEquals(ok.sequence(), store.latest(id).orElseThrow().sequence(), "a checkpoint whose manifest is corrupt is not the latest");
    Files.writeString(fake.resolve("manifest"), "garbage");
    assertTrue(assertThrows(InvalidFieldException.class, () -> store.read(fake)).getMessage().contains("is not key=value"));

    // A restore of another container's checkpoint, or into a running container, is refused.
    InvalidFieldException other = assertThrows(InvalidFieldException.class, () -> a.restoreCheckpoint(local, ok));
    assertTrue(other.getMessage().contains("is of container " + id), other.getMessage());
    assertThrows(ContainerStateException.class, () -> a.restoreCheckpoint(id, ok), "it runs");
    assertEquals(ContainerStatus.RUNNING, a.inspect(id).status(), "and runs on");
  }
}
