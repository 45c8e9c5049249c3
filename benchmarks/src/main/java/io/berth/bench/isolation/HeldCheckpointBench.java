package io.berth.bench.isolation;

import io.berth.bench.Results;
import io.berth.isolation.HeldCheckpoint;
import io.berth.isolation.IsolationLayer;
import io.berth.isolation.checkpoint.HeldDump;
import io.berth.isolation.nativ.Syscalls;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The held checkpoint of a busybox shell counting in memory (loopback only): the time from CRIU's launch
 * until the hold (tasks dumped and frozen), and from {@code commit()}/{@code resume()} writing the decision
 * until the hook has exited (the decision has reached CRIU) and until CRIU has exited (the source killed, or
 * running again), against Berth's plain
 * {@code checkpoint(leaveRunning=false)} of the same container in the same run (CRIU's whole dump and kill).
 * After each commit the container is restored in place for the next round.
 *
 * <p>Run as root: {@code java -cp <classpath> io.berth.bench.isolation.HeldCheckpointBench [iterations]}.
 */
public final class HeldCheckpointBench {
  private static final String COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; usleep 50000; done";
  private static final Duration T = Duration.ofSeconds(30);

  private HeldCheckpointBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int warmup = 2;
    Results results = new Results("isolation-held-checkpoint");
    try (BenchHost host = new BenchHost()) {
      IsolationLayer layer = host.layer;
      ContainerId id = ContainerId.of("bench-hold-" + host.run);
      layer.prepare(new ContainerSpec(id, TemplateRef.of("busybox"), null, List.of("/bin/sh", "-c", COUNTER), Limits.DEFAULT, null, null, null),
          null);
      layer.start(id);
      Thread.sleep(300);
      double[] dumpHeld = new double[n];
      double[] commitExit = new double[n];
      double[] commitCall = new double[n];
      double[] resumeDump = new double[n];
      double[] resumeExit = new double[n];
      double[] resumeCall = new double[n];
      double[] plain = new double[n];
      double[] commitHook = new double[n];
      double[] resumeHook = new double[n];
      long bytes = 0;
      for (int i = -warmup; i < n; i++) {
        int k = i + warmup;
        // Held, then committed; restored in place for the next round.
        Path images = host.dir.resolve("held-" + k);
        HeldCheckpoint h = layer.checkpointHeld(id, images, T);
        HookExit hook = new HookExit(images);
        long c0 = System.nanoTime();
        h.commit(T);
        long c1 = System.nanoTime();
        bytes = h.imageBytes();
        layer.restore(id, images);
        // Held, then resumed: the same init goes on.
        Path images2 = host.dir.resolve("resumed-" + k);
        HeldCheckpoint r = layer.checkpointHeld(id, images2, T);
        HookExit hook2 = new HookExit(images2);
        long r0 = System.nanoTime();
        r.resume(T);
        long r1 = System.nanoTime();
        // The plain checkpoint (dump and kill in one CRIU run), then restored.
        Path images3 = host.dir.resolve("plain-" + k);
        long p0 = System.nanoTime();
        layer.checkpoint(id, images3, false);
        long p1 = System.nanoTime();
        layer.restore(id, images3);
        if (i >= 0) {
          dumpHeld[i] = BenchHost.ms(h.heldAtNanos() - h.dumpStartedNanos());
          commitExit[i] = BenchHost.ms(h.criuExitedNanos() - h.decidedNanos());
          commitHook[i] = BenchHost.ms(hook.exitedNanos() - h.decidedNanos());
          resumeHook[i] = BenchHost.ms(hook2.exitedNanos() - r.decidedNanos());
          commitCall[i] = BenchHost.ms(c1 - c0);
          resumeDump[i] = BenchHost.ms(r.heldAtNanos() - r.dumpStartedNanos());
          resumeExit[i] = BenchHost.ms(r.criuExitedNanos() - r.decidedNanos());
          resumeCall[i] = BenchHost.ms(r1 - r0);
          plain[i] = BenchHost.ms(p1 - p0);
        }
        for (Path p : List.of(images, images2, images3)) BenchHost.deleteTree(p);
      }
      results.record("berth checkpoint (leaveRunning=false), busybox shell", "ms", Results.median(plain), Results.percentile(plain, 99), null,
          Double.NaN);
      results.record("held checkpoint: criu launch until the hold", "ms", Results.median(dumpHeld), Results.percentile(dumpHeld, 99),
          "berth checkpoint (leaveRunning=false)", Results.median(plain));
      results.record("held checkpoint: criu launch until the hold (resumed rounds)", "ms", Results.median(resumeDump),
          Results.percentile(resumeDump, 99), null, Double.NaN);
      results.record("held checkpoint: commit decision until the hook exited (CRIU has it)", "ms", Results.median(commitHook),
          Results.percentile(commitHook, 99), null, Double.NaN);
      results.record("held checkpoint: resume decision until the hook exited (CRIU has it)", "ms", Results.median(resumeHook),
          Results.percentile(resumeHook, 99), null, Double.NaN);
      results.record("held checkpoint: commit decision until criu exited", "ms", Results.median(commitExit), Results.percentile(commitExit, 99),
          null, Double.NaN);
      results.record("held checkpoint: commit() until it returned (init gone, exit recorded)", "ms", Results.median(commitCall),
          Results.percentile(commitCall, 99), null, Double.NaN);
      results.record("held checkpoint: resume decision until criu exited", "ms", Results.median(resumeExit), Results.percentile(resumeExit, 99),
          null, Double.NaN);
      results.record("held checkpoint: resume() until it returned (same init running)", "ms", Results.median(resumeCall),
          Results.percentile(resumeCall, 99), null, Double.NaN);
      results.record("held checkpoint: image bytes (busybox shell)", "bytes", bytes, Double.NaN, null, Double.NaN);
    }
  }

  /** Sees the hook's exit through a pidfd (it is CRIU's child, not ours), on a thread of its own. */
  private static final class HookExit {
    private final Thread thread;
    private volatile long exited;

    HookExit(Path images) throws IOException {
      int pid = Integer.parseInt(Files.readString(HeldDump.controlDir(images).resolve("held")).strip());
      int fd = Syscalls.pidfdOpen(pid);
      if (fd < 0) throw new IllegalStateException("the hook " + pid + " is gone before the decision");
      thread = new Thread(() -> {
        try {
          long deadline = System.nanoTime() + T.toNanos();
          while (!Syscalls.pollExited(fd, 100)) {
            if (System.nanoTime() > deadline) return;
          }
          exited = System.nanoTime();
        } finally {
          Syscalls.close(fd);
        }
      }, "hook-exit");
      thread.start();
    }

    long exitedNanos() throws InterruptedException {
      thread.join(T.toMillis());
      if (exited == 0) throw new IllegalStateException("the hook's exit was not seen");
      return exited;
    }
  }
}
