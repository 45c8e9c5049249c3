package io.berth.bench.isolation;

import io.berth.bench.Results;
import io.berth.isolation.disk.Ext4;
import io.berth.isolation.disk.LoopDevices;
import io.berth.isolation.nativ.Syscalls;
import io.berth.isolation.process.Commands;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What a container's disk image costs at prepare and destroy, step by step, at the sizes that matter (64 MiB,
 * the 10 GiB default, 100 GiB): the sparse file, mke2fs, the loop device (Berth's ioctls against
 * {@code losetup --find --show}), the ext4 mount, and the unmount with the autoclear detach.
 *
 * <p>Run as root: {@code java -cp <classpath> io.berth.bench.isolation.DiskImageBench [iterations]}.
 */
public final class DiskImageBench {
  private DiskImageBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    BenchHost.requireRoot();
    Results results = new Results("isolation-disk");
    Path dir = BenchHost.BASE.resolve("disk-" + ProcessHandle.current().pid());
    Files.createDirectories(dir);
    Path mnt = Files.createDirectories(dir.resolve("mnt"));
    try {
      for (long size : new long[] {64L << 20, 10L << 30, 100L << 30}) {
        String label = size >= (1L << 30) ? (size >> 30) + "G" : (size >> 20) + "M";
        double[] create = new double[n];
        double[] mkfs = new double[n];
        double[] attach = new double[n];
        double[] losetup = new double[n];
        double[] mount = new double[n];
        double[] unmount = new double[n];
        long[] allocated = new long[n];
        for (int i = -3; i < n; i++) {
          Path image = dir.resolve("bench.img");
          Files.deleteIfExists(image);
          long t0 = System.nanoTime();
          Files.createFile(image);
          try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size);
          }
          long t1 = System.nanoTime();
          Ext4.format(image);
          long t2 = System.nanoTime();
          String device;
          long t3;
          long t4;
          try (LoopDevices.Attached dev = LoopDevices.attach(image)) {
            t3 = System.nanoTime();
            device = dev.device();
            Syscalls.mount(device, mnt.toString(), "ext4", 0, "discard,errors=remount-ro");
            t4 = System.nanoTime();
          }
          Syscalls.umount2(mnt.toString(), 0);
          long deadline = System.nanoTime() + 5_000_000_000L;
          while (!LoopDevices.referencing(image).isEmpty() && System.nanoTime() < deadline) Thread.onSpinWait();
          long t5 = System.nanoTime();
          // The baseline for the attach: losetup(8), a tool run, as most runtimes do it.
          long l0 = System.nanoTime();
          Commands.Result r = Commands.run(List.of("losetup", "--find", "--show", "--direct-io=on", image.toString()), null, Duration.ofSeconds(10));
          long l1 = System.nanoTime();
          if (!r.ok()) throw new IllegalStateException(r.describe());
          LoopDevices.detach(r.stdout().strip());
          if (i >= 0) {
            create[i] = BenchHost.ms(t1 - t0);
            mkfs[i] = BenchHost.ms(t2 - t1);
            attach[i] = BenchHost.ms(t3 - t2);
            mount[i] = BenchHost.ms(t4 - t3);
            unmount[i] = BenchHost.ms(t5 - t4);
            losetup[i] = BenchHost.ms(l1 - l0);
            allocated[i] = blocks(image) * 512;
          }
        }
        results.record("sparse file " + label, "ms", Results.median(create), Results.percentile(create, 99), null, Double.NaN);
        results.record("mkfs.ext4 " + label, "ms", Results.median(mkfs), Results.percentile(mkfs, 99), null, Double.NaN);
        results.record("loop attach (ioctls) " + label, "ms", Results.median(attach), Results.percentile(attach, 99),
            "losetup --find --show", Results.median(losetup));
        results.record("mount ext4 " + label, "ms", Results.median(mount), Results.percentile(mount, 99), null, Double.NaN);
        results.record("umount + autoclear " + label, "ms", Results.median(unmount), Results.percentile(unmount, 99), null, Double.NaN);
        double[] kib = java.util.Arrays.stream(allocated).mapToDouble(b -> b / 1024.0).toArray();
        results.record("allocated after mkfs+mount " + label, "KiB", Results.median(kib), Results.percentile(kib, 99), null, Double.NaN);
      }
    } finally {
      if (io.berth.isolation.rootfs.Rootfs.isMountPoint(mnt)) Syscalls.umount2(mnt.toString(), Syscalls.MNT_DETACH);
      Commands.run(List.of("rm", "-rf", "--one-file-system", dir.toString()), null, Duration.ofSeconds(60));
    }
  }

  private static long blocks(Path file) {
    Commands.Result r = Commands.run(List.of("stat", "-c", "%b", file.toString()), null, Duration.ofSeconds(10));
    return Long.parseLong(r.stdout().strip());
  }
}
