package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.cgroup.CgroupFiles;
import io.berth.isolation.cgroup.Cgroups;
import io.berth.isolation.disk.LoopDevices;
import io.berth.isolation.rootfs.Rootfs;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
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

/**
 * Shared storage and the in-JVM fence, two hosts in one kernel: layers A and B have their own data roots and cgroup
 * roots and mount the same shared images root S (a plain directory outside both data roots). A's container is fenced
 * and forgotten, B takes its disk over in place, as a failover does.
 */
class SharedStorageIT {
  private static final Duration T = Duration.ofSeconds(20);
  private TestHost host;
  private Path shared;
  private final BlockingQueue<ContainerExit> exits = new LinkedBlockingQueue<>();

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
    return TestHost.sharedSpec(id, Duration.ZERO, command);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Object inode(Path p) throws IOException {
    return Files.getAttribute(p, "unix:ino");
  }

  private static List<Path> cgroupsOf(IsolationLayer layer, ContainerId id) {
    try (var h = Files.list(Path.of("/sys/fs/cgroup"))) {
      return h.map(hierarchy -> hierarchy.resolve(layer.config().cgroupRoot()).resolve(id.value())).filter(Files::exists).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path procs(IsolationLayer layer, ContainerId id) {
    return Path.of("/sys/fs/cgroup/pids", layer.config().cgroupRoot(), id.value(), "cgroup.procs");
  }

  @Test
  void aFencedAndForgottenContainersDiskIsAdoptedInPlaceByAnotherHostWithWhatItWrote() throws Exception {
    IsolationLayer a = host.layer("a", c -> c.withSharedImagesRoot(shared));
    IsolationLayer b = host.layer("b", c -> c.withSharedImagesRoot(shared).withCgroupRoot(host.cgroupRoot("b")));
    a.onExit(exits::add);
    ContainerId id = host.newId("fo");
    // A background process beside the init: the fence kills every process of the container, not only its init.
    ContainerSpec spec = sharedSpec(id, "/bin/sh", "-c", "sleep 1000 & exec sleep 1000");

    a.prepare(spec, null);
    Path image = shared.resolve(id.value() + ".img");
    Path owner = shared.resolve(id.value() + ".owner");
    assertEquals(image, a.diskImage(id), "a shared container's image is on the shared root");
    assertFalse(Files.exists(a.config().imagesRoot().resolve(id.value() + ".img")), "nothing in A's own images root");
    assertTrue(read(owner).strip().endsWith(":" + a.config().dataRoot()), "A owns it: " + read(owner));
    Object ino = inode(image);
    int init = a.start(id);
    ExecResult w = a.exec(id, List.of("/bin/sh", "-c", "echo written-on-a > /root/mark && sync"), T);
    assertEquals(0, w.exitCode(), "write in the rootfs: " + w);
    await("two processes in A's cgroup (init and its background sleep)", T, () -> read(procs(a, id)).lines().count() == 2);
    List<Integer> before = read(procs(a, id)).lines().map(String::strip).map(Integer::valueOf).toList();

    // The fence: every process gone, its mounts detached, nothing removed.
    assertEquals(List.of(id), a.fenceAll());
    for (int pid : before) {
      await("process " + pid + " of the fenced container gone from /proc", Duration.ofSeconds(5), () -> !Files.exists(Path.of("/proc", "" + pid)));
    }
    assertTrue(before.contains(init), "the init was in its cgroup: " + before);
    assertEquals("", read(procs(a, id)).strip(), "A's cgroup.procs empty after the fence");
    ContainerExit exit = exits.poll(5, TimeUnit.SECONDS);
    assertTrue(exit != null && exit.signal().orElse(0) == 9 && exit.requested(), "the exit reported, by SIGKILL, requested: " + exit);
    assertFalse(Files.exists(Path.of("/sys/fs/cgroup/freezer", a.config().cgroupRoot(), id.value())), "the fence's freezer cgroup removed");
    Path dirA = a.config().dataRoot().resolve("containers").resolve(id.value());
    assertTrue(Files.isDirectory(dirA), "the fence leaves the container's directory");
    assertEquals(List.of(), Rootfs.mountsUnder(dirA), "the fence detaches its mounts: this host no longer uses the disk");
    await("the fence released the image's loop device (now: " + LoopDevices.referencing(image) + ")", Duration.ofSeconds(5),
        () -> LoopDevices.referencing(image).isEmpty());
    assertTrue(Files.isRegularFile(image), "the fence leaves its image");
    assertEquals(ContainerStatus.STOPPED, a.inspect(id).status());
    assertEquals(List.of(), a.fenceAll(), "a second fence finds nothing to end");

    // A comes back: its copy is stale. forget takes down everything here but the image and its owner file.
    a.forget(id);
    assertFalse(Files.exists(dirA), "A's container directory removed");
    assertEquals(List.of(), Rootfs.mountsUnder(a.config().dataRoot().resolve("containers")), "no mount of A's containers in /proc/self/mountinfo");
    assertEquals(List.of(), cgroupsOf(a, id), "no cgroup of A's left in any hierarchy");
    assertEquals(ContainerStatus.ABSENT, a.inspect(id).status());
    await("no loop device of A on the image (now: " + LoopDevices.referencing(image) + ")", Duration.ofSeconds(5),
        () -> LoopDevices.referencing(image).isEmpty());
    assertTrue(Files.isRegularFile(image), "forget leaves the image on the shared root");
    assertEquals(ino, inode(image), "the same file");
    assertTrue(read(owner).strip().endsWith(":" + a.config().dataRoot()), "forget leaves the owner file as it was: " + read(owner));
    a.forget(id); // idempotent

    // B prepares the same spec: the image on S is adopted in place, never moved or formatted again.
    b.prepare(spec, null);
    assertEquals(image, b.diskImage(id), "B's disk is the same path");
    assertEquals(ino, inode(image), "the same file (not moved, not made anew)");
    assertTrue(read(owner).strip().endsWith(":" + b.config().dataRoot()), "B owns it now: " + read(owner));
    assertFalse(Files.exists(b.config().imagesRoot().resolve(id.value() + ".img")), "nothing in B's own images root");
    b.start(id);
    assertEquals("written-on-a", b.exec(id, List.of("/bin/cat", "/root/mark"), T).stdout().strip(), "what A wrote is there");

    // A destroy on A now (it forgot the container) leaves B's image; B's destroy deletes it.
    a.destroy(id);
    assertTrue(Files.isRegularFile(image), "A's destroy leaves the image B holds");
    b.destroy(id);
    assertFalse(Files.exists(image), "B's destroy deletes the image it owns");
    assertFalse(Files.exists(owner), "and its owner file");
    HostTests.assertNothingLeft(b, b.config().dataRoot().resolve("containers").resolve(id.value()), id, TestHost.vethOf(b, id), 0);
  }

  @Test
  void aSharedContainerOnAHostWithoutASharedRootIsRefusedNamingStorageAndNothingIsMade() {
    IsolationLayer plain = host.layer("plain");
    ContainerId id = host.newId("nos");
    InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> plain.prepare(sharedSpec(id, "/bin/sleep", "1"), null));
    assertEquals("storage", e.field());
    assertTrue(e.getMessage().contains("shared images root"), e.getMessage());
    assertFalse(Files.exists(plain.config().dataRoot().resolve("containers").resolve(id.value())), "no container directory");
    assertFalse(Files.exists(plain.diskImage(id)), "no disk image");
    assertEquals(List.of(), cgroupsOf(plain, id), "no cgroup");
    assertFalse(Files.exists(shared), "nothing on a shared root");
  }

  @Test
  void aFenceOfALayerWithNothingRunningReturnsEmptyAndLeavesAPreparedContainerPrepared() {
    IsolationLayer a = host.layer("a", c -> c.withSharedImagesRoot(shared));
    assertEquals(List.of(), a.fenceAll(), "no container");
    ContainerId id = host.newId("idle");
    a.prepare(sharedSpec(id, "/bin/sleep", "1000"), null);
    assertEquals(List.of(), a.fenceAll(), "a prepared container has nothing to fence");
    assertEquals(ContainerStatus.STOPPED, a.inspect(id).status());
    assertFalse(Files.exists(Path.of("/sys/fs/cgroup/freezer", a.config().cgroupRoot(), id.value())), "no freezer cgroup made");
    int init = a.start(id);
    assertEquals(ContainerStatus.RUNNING, a.inspect(id).status(), "it starts as before");

    // The freezer on this kernel: frozen in a bound, then a fence of an already frozen container (as one the
    // watchdog or a checkpoint froze) still ends it.
    Cgroups cgroups = new Cgroups(CgroupFiles.host(), a.config().cgroupRoot());
    assertEquals(List.of(init), cgroups.freeze(id.value()));
    await("the container's freezer cgroup frozen", Duration.ofSeconds(2), () -> cgroups.isFrozen(id.value()));
    await("its init in the frozen state (" + state(init) + ")", Duration.ofSeconds(2), () -> state(init).contains("frozen")
        || state(init).startsWith("D"));
    assertEquals(List.of(id), a.fenceAll());
    await("the frozen init " + init + " gone", Duration.ofSeconds(5), () -> !Files.exists(Path.of("/proc", "" + init)));
  }

  /** The State line of /proc/PID/status, without its key. */
  private static String state(int pid) {
    try {
      return Files.readAllLines(Path.of("/proc", "" + pid, "status")).stream().filter(l -> l.startsWith("State:"))
          .map(l -> l.substring(6).strip()).findFirst().orElse("");
    } catch (IOException e) {
      return "gone";
    }
  }
}
