package io.berth.isolation;

import static io.berth.isolation.HostTests.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.disk.Ext4;
import io.berth.isolation.disk.LoopDevices;
import io.berth.isolation.process.Commands;
import io.berth.isolation.rootfs.Rootfs;
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
 * Each container's writable layer is an ext4 in a sparse image of its own, loop-mounted: the disk limit is
 * the filesystem's size (ENOSPC inside, nothing on the host), {@code df} inside shows it, the image survives
 * a release, resizes as the README says, and nothing of it outlives a destroy or a failed prepare.
 */
class DiskIT {
  private static final Duration T = Duration.ofSeconds(20);
  private static final long MIB = 1L << 20;
  private TestHost host;
  private IsolationLayer layer;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("disk");
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  private static Limits disk(long bytes) {
    return Limits.DEFAULT.withDiskBytes(bytes);
  }

  private ContainerId running(String name, long diskBytes) {
    ContainerId id = host.newId(name);
    layer.prepare(TestHost.spec(id, disk(diskBytes), "/bin/sleep", "1000"), null);
    layer.start(id);
    return id;
  }

  private static ExecResult sh(IsolationLayer l, ContainerId id, String script) {
    return l.exec(id, List.of("sh", "-c", script), T);
  }

  /** {@code df -k /} inside: {total KiB, available KiB}. */
  private static long[] df(IsolationLayer l, ContainerId id) {
    ExecResult r = l.exec(id, List.of("df", "-k", "/"), T);
    assertEquals(0, r.exitCode(), "df inside: " + r);
    String[] f = r.stdout().strip().split("\n")[1].trim().split("\\s+");
    return new long[] {Long.parseLong(f[1]), Long.parseLong(f[3])};
  }

  /** What the host's filesystem allocated for the file (st_blocks), in bytes. */
  private static long allocated(Path file) {
    Commands.Result r = Commands.run(List.of("stat", "-c", "%b", file.toString()), null, T);
    assertTrue(r.ok(), r.describe());
    return Long.parseLong(r.stdout().strip()) * 512;
  }

  private static void assertDfShows(IsolationLayer l, ContainerId id, long bytes) {
    long total = df(l, id)[0] * 1024;
    // statfs leaves out the journal and the inode tables: a little under the image's size, never over.
    assertTrue(total <= bytes && total >= bytes * 85 / 100, "df / inside shows " + total + " bytes for a " + bytes + "-byte disk");
  }

  /** sleep as PID 1 ignores SIGTERM (no handler): stop goes on to SIGKILL at once. */
  private void stopNow(ContainerId id) {
    layer.stop(id, Duration.ofMillis(50));
  }

  private Path dir(ContainerId id) {
    return layer.config().dataRoot().resolve("containers").resolve(id.value());
  }

  @Test
  void writingPastTheLimitGetsEnospcInsideAndTheHostKeepsOnlyTheImage() throws Exception {
    ContainerId id = running("full", 64 * MIB);
    Path image = layer.diskImage(id);
    assertEquals(layer.config().dataRoot().resolve("disks").resolve(id.value() + ".img"), image, "the image lives in the images root");
    assertEquals(64 * MIB, Files.size(image));
    assertTrue(allocated(image) < 4 * MIB, "a new image is sparse: " + allocated(image) + " bytes allocated of " + Files.size(image));
    assertTrue(Rootfs.isMountPoint(dir(id).resolve("layer")), "the image is mounted at the layer");
    assertEquals(1, LoopDevices.referencing(image).size(), "one loop device holds it: " + LoopDevices.referencing(image));
    assertDfShows(layer, id, 64 * MIB);

    ExecResult fill = sh(layer, id, "dd if=/dev/zero of=/root/fill bs=1M count=100 2>&1; sync");
    assertTrue(fill.stdout().contains("No space left on device"), "writing 100M into a 64M disk fails with ENOSPC: " + fill);
    assertTrue(df(layer, id)[1] < 1024, "the disk is full inside: " + df(layer, id)[1] + " KiB available");
    assertEquals(64 * MIB, Files.size(image), "the image did not grow");
    long full = allocated(image);
    assertTrue(full > 32 * MIB && full <= 64 * MIB, "the host holds what was written, at most the image's size: " + full);
    // -x stays off the image's mount; mapped/ is left out: the idmapped template is the template's own files.
    Commands.Result du = Commands.run(List.of("du", "-sxk", "--exclude=mapped", dir(id).toString()), null, T);
    assertTrue(Long.parseLong(du.stdout().split("\\s+")[0]) < 1024, "nothing was written beside the image: " + du.stdout());

    // The container is fine: it frees its space and writes again; what it deleted leaves the host's disk too
    // (mounted with discard: ext4 punches the freed blocks out of the image at its next journal commit).
    assertEquals(0, sh(layer, id, "rm /root/fill && echo again > /root/after && sync").exitCode());
    assertEquals("again", sh(layer, id, "cat /root/after").stdout().strip());
    await("the image gives back the deleted file's blocks (allocated " + allocated(image) + ")", Duration.ofSeconds(15),
        () -> allocated(image) < 16 * MIB);
    assertEquals(ContainerStatus.RUNNING, layer.inspect(id).status());
    assertEquals(64 * MIB, layer.inspect(id).limits().diskBytes(), "inspect reports the disk limit");

    int pid = layer.inspect(id).initPid();
    layer.destroy(id);
    HostTests.assertNothingLeft(layer, dir(id), id, TestHost.vethOf(layer, id), pid);
  }

  @Test
  void noLimitGetsTheDefaultSizeSparse() throws Exception {
    ContainerId id = running("dflt", 0);
    Path image = layer.diskImage(id);
    assertEquals(IsolationConfig.DEFAULT_DISK_BYTES, Files.size(image));
    assertTrue(allocated(image) < 8 * MIB, "a 10G image allocates little: " + allocated(image));
    assertDfShows(layer, id, IsolationConfig.DEFAULT_DISK_BYTES);
    // The kernel's lazy inode-table init would fill the image; mke2fs marked the tables zeroed, so it does not.
    Thread.sleep(1500);
    assertTrue(allocated(image) < 8 * MIB, "still thin after a while mounted: " + allocated(image));
  }

  @Test
  void releaseKeepsTheImageAndReviveMountsItAgainWithItsData() throws Exception {
    ContainerId id = running("rel", 32 * MIB);
    Path image = layer.diskImage(id);
    assertEquals(0, sh(layer, id, "echo kept > /root/mark").exitCode());

    layer.release(id);
    assertEquals(List.of(), Rootfs.mountsUnder(dir(id)), "no mount left under " + dir(id));
    await("the loop device on " + image + " is gone", Duration.ofSeconds(5), () -> LoopDevices.referencing(image).isEmpty());
    assertTrue(Files.isRegularFile(image), "the image is kept");
    assertEquals(32 * MIB, Files.size(image));

    layer.revive(id);
    assertTrue(Rootfs.isMountPoint(dir(id).resolve("layer")), "revive mounts the image again");
    layer.revive(id); // idempotent: no second mount, no second loop device
    assertEquals(1, LoopDevices.referencing(image).size());
    layer.start(id);
    assertEquals("kept", sh(layer, id, "cat /root/mark").stdout().strip(), "the data came back with the image");
    assertDfShows(layer, id, 32 * MIB);
  }

  @Test
  void growsAsTheKernelAllowsAndShrinksOnlyStoppedAndAboveWhatItHolds() throws Exception {
    ContainerId id = running("rsz", 64 * MIB);
    Path image = layer.diskImage(id);
    assertEquals(0, sh(layer, id, "echo kept > /root/mark").exitCode());

    // Grow while running: online where the kernel lets this process resize a mounted ext4, refused where not.
    if (Ext4.canGrowMounted()) {
      layer.setLimits(id, disk(128 * MIB));
      assertDfShows(layer, id, 128 * MIB);
    } else {
      ContainerStateException e = assertThrows(ContainerStateException.class, () -> layer.setLimits(id, disk(128 * MIB)));
      assertTrue(e.getMessage().contains("CAP_SYS_RESOURCE"), e.getMessage());
      assertEquals(64 * MIB, Files.size(image), "nothing changed");
      assertDfShows(layer, id, 64 * MIB);
      assertEquals(64 * MIB, layer.inspect(id).limits().diskBytes());
      stopNow(id);
      layer.setLimits(id, disk(128 * MIB));
      layer.start(id);
      assertDfShows(layer, id, 128 * MIB);
    }
    assertEquals(128 * MIB, Files.size(image));
    assertEquals(128 * MIB, layer.inspect(id).limits().diskBytes());
    assertEquals("kept", sh(layer, id, "cat /root/mark").stdout().strip());

    // Shrink: refused while running, refused below what it holds, done while stopped.
    assertEquals(0, sh(layer, id, "dd if=/dev/zero of=/root/big bs=1M count=80 2>&1 && sync").exitCode());
    ContainerStateException running = assertThrows(ContainerStateException.class, () -> layer.setLimits(id, disk(100 * MIB)));
    assertTrue(running.getMessage().contains("shrink only while it is stopped"), running.getMessage());
    stopNow(id);
    InvalidFieldException tooSmall = assertThrows(InvalidFieldException.class, () -> layer.setLimits(id, disk(64 * MIB)));
    assertEquals("limits.disk", tooSmall.field());
    assertTrue(tooSmall.rule().startsWith("must be at least the space in use, "), tooSmall.getMessage());
    assertEquals(128 * MIB, Files.size(image), "a refused shrink changes nothing");
    layer.start(id);
    assertEquals(0, sh(layer, id, "rm /root/big").exitCode());
    stopNow(id);
    layer.setLimits(id, disk(48 * MIB));
    assertEquals(48 * MIB, Files.size(image));
    layer.start(id);
    assertDfShows(layer, id, 48 * MIB);
    assertEquals("kept", sh(layer, id, "cat /root/mark").stdout().strip(), "the data survived the shrink");
  }

  @Test
  void aFailedPrepareLeavesNoImageLoopDeviceOrMountAndGivesAnAdoptedImageBack() throws Exception {
    ContainerId id = host.newId("fail");
    // The gateway is off the container's subnet: the last step (the default route) fails, after the disk was made and mounted.
    NetworkAttachment good = host.bridged(2);
    NetworkAttachment offLink = new NetworkAttachment(good.address(), 24, "198.19.254.1", good.bridge());
    ContainerSpec spec = TestHost.spec(id, disk(32 * MIB), "/bin/sleep", "1000");
    IsolationException failed = assertThrows(IsolationException.class, () -> layer.prepare(spec, offLink));
    assertTrue(failed.getMessage().contains("attach veth"), failed.getMessage());
    HostTests.assertNothingLeft(layer, dir(id), id, TestHost.vethOf(layer, id), 0);

    // An image to adopt: made by a container that was released, then handed over.
    ContainerId src = running("src", 32 * MIB);
    assertEquals(0, sh(layer, src, "echo moved > /root/mark").exitCode());
    layer.release(src);
    Path handed = host.runDir().resolve("disk").resolve("handed.img");
    Files.move(layer.diskImage(src), handed);
    long size = Files.size(handed);
    assertThrows(IsolationException.class, () -> layer.prepare(spec, offLink, handed));
    assertTrue(Files.isRegularFile(handed), "the adopted image was given back where it was");
    assertEquals(size, Files.size(handed));
    HostTests.assertNothingLeft(layer, dir(id), id, TestHost.vethOf(layer, id), 0);

    // And adopted for real, it holds what the other container wrote.
    layer.prepare(spec, null, handed);
    assertFalse(Files.exists(handed), "renamed into the images root");
    assertEquals(layer.config().dataRoot().resolve("disks").resolve(id.value() + ".img"), layer.diskImage(id));
    layer.start(id);
    assertEquals("moved", sh(layer, id, "cat /root/mark").stdout().strip());
  }

  @Test
  void twoContainersHaveSeparateImages() throws Exception {
    ContainerId one = running("one", 32 * MIB);
    ContainerId two = running("two", 32 * MIB);
    assertNotEquals(layer.diskImage(one), layer.diskImage(two));
    assertNotEquals(LoopDevices.referencing(layer.diskImage(one)), LoopDevices.referencing(layer.diskImage(two)));
    long before = df(layer, two)[1];
    sh(layer, one, "dd if=/dev/zero of=/root/fill bs=1M count=64 2>/dev/null; echo one > /root/who; sync");
    assertTrue(df(layer, one)[1] < 1024, "one is full");
    assertTrue(Math.abs(df(layer, two)[1] - before) < 512, "two keeps its space: " + before + " -> " + df(layer, two)[1] + " KiB");
    assertNotEquals(0, layer.exec(two, List.of("cat", "/root/who"), T).exitCode(), "two does not see one's files");
    assertEquals(0, sh(layer, two, "dd if=/dev/zero of=/root/some bs=1M count=8 2>/dev/null").exitCode(), "two still writes");
  }

  @Test
  void badDiskInputIsRefusedBeforeAnything() throws Exception {
    ContainerId id = host.newId("bad");
    InvalidFieldException tiny = assertThrows(InvalidFieldException.class,
        () -> layer.prepare(TestHost.spec(id, disk(MIB), "/bin/sleep", "1"), null));
    assertEquals("limits.disk", tiny.field());
    InvalidFieldException huge = assertThrows(InvalidFieldException.class,
        () -> layer.prepare(TestHost.spec(id, disk(Limits.MAX_DISK), "/bin/sleep", "1"), null));
    assertEquals("limits.disk", huge.field());
    assertTrue(huge.rule().startsWith("must be at most the free space of the images root"), huge.getMessage());
    Path notExt4 = host.runDir().resolve("not-ext4.img");
    Files.write(notExt4, new byte[32 << 20]);
    InvalidFieldException adopt = assertThrows(InvalidFieldException.class,
        () -> layer.prepare(TestHost.spec(id, disk(32 * MIB), "/bin/sleep", "1"), null, notExt4));
    assertEquals("diskImage", adopt.field());
    assertEquals("diskImage", assertThrows(InvalidFieldException.class,
        () -> layer.prepare(TestHost.spec(id, disk(32 * MIB), "/bin/sleep", "1"), null, host.runDir().resolve("none.img"))).field());
    assertFalse(Files.exists(dir(id)), "nothing was made");
    assertFalse(Files.exists(layer.diskImage(id)), "no image was made");
  }

  @Test
  void onSharedStorageTheTargetAdoptsTheImageInPlaceAndTheSourceDestroyLeavesIt() throws Exception {
    Path shared = host.runDir().resolve("shared-images");
    IsolationLayer a = new IsolationLayer(layer.config().withImagesRoot(shared));
    // Two hosts in one kernel: b has its own data root and cgroup root (the container has one id on both).
    IsolationLayer b = new IsolationLayer(layer.config().withDataRoot(host.runDir().resolve("disk-b")).withImagesRoot(shared)
        .withCgroupRoot(host.cgroupRoot("b")));
    host.layers.add(a);
    host.layers.add(b);
    ContainerId id = host.newId("shr");
    ContainerSpec spec = TestHost.spec(id, disk(32 * MIB), "/bin/sleep", "1000");
    a.prepare(spec, null);
    Path image = a.diskImage(id);
    assertEquals(shared.resolve(id.value() + ".img"), image);
    a.start(id);
    assertEquals(0, sh(a, id, "echo shared > /root/mark").exitCode());

    // The source lets go of the disk (unmounted), the target takes the same file.
    assertThrows(InvalidFieldException.class, () -> b.prepare(spec, null, image), "an image still mounted is not adopted");
    a.release(id);
    await("the source's loop device is gone", Duration.ofSeconds(5), () -> LoopDevices.referencing(image).isEmpty());
    ContainerStateException over = assertThrows(ContainerStateException.class, () -> b.prepare(spec, null), "a new image over the shared one");
    assertTrue(over.getMessage().contains("exists already"), over.getMessage());
    b.prepare(spec, null, image);
    assertEquals(image, b.diskImage(id));
    a.destroy(id);
    assertTrue(Files.isRegularFile(image), "the source's destroy leaves the image its new holder uses");
    b.start(id);
    assertEquals("shared", sh(b, id, "cat /root/mark").stdout().strip());
    b.destroy(id);
    HostTests.assertNothingLeft(b, b.config().dataRoot().resolve("containers").resolve(id.value()), id, TestHost.vethOf(b, id), 0);
  }
}
