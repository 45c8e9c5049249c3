package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** cpu, memory and pids limits, each asserted on the cgroup's own files and counters. */
class LimitsIT {
  private TestHost host;
  private IsolationLayer layer;

  @BeforeEach
  void setUp() {
    HostTests.requireRootLinux();
    host = new TestHost();
    layer = host.layer("a");
  }

  @AfterEach
  void tearDown() {
    if (host != null) host.close();
  }

  private Path cg(String controller, ContainerId id, String file) {
    return Path.of("/sys/fs/cgroup", controller, layer.config().cgroupRoot(), id.value(), file);
  }

  private long read(Path p) throws Exception {
    return Long.parseLong(Files.readString(p).strip());
  }

  @Test
  void memoryHogIsOomKilledInsideAndTheContainerLivesOn() throws Exception {
    ContainerId id = host.newId("mem");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT.withMemoryBytes(16L << 20), "/bin/sleep", "1000"), null);
    int pid = layer.start(id);
    assertEquals(16L << 20, read(cg("memory", id, "memory.limit_in_bytes")));
    assertEquals(16L << 20, read(cg("memory", id, "memory.memsw.limit_in_bytes")), "no swap beyond the limit");

    // dd fills a 64 MiB buffer from /dev/zero: four times the limit.
    ExecResult hog = layer.exec(id, List.of("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"), Duration.ofSeconds(30));
    assertEquals(128 + 9, hog.exitCode(), "the hog is killed by SIGKILL: " + hog.stderr());
    assertTrue(layer.stats(id).oomKills() >= 1, "the cgroup counts an OOM kill");
    assertTrue(Files.exists(Path.of("/proc", Integer.toString(pid))), "the init (and the host) live on");
    assertEquals(ContainerStatus.RUNNING, layer.inspect(id).status());
  }

  @Test
  void theCapTheWeightAndTheMemoryGuaranteeReachTheCgroupAndFollowAResize() throws Exception {
    ContainerId id = host.newId("share");
    layer.prepare(TestHost.spec(id, new Limits(500, 64L << 20, 0, 64, 300, 250, 32L << 20), "/bin/sleep", "1000"), null);
    assertEquals(50_000, read(cg("cpu", id, "cpu.cfs_quota_us")), "the cap is the CFS quota");
    assertEquals(3072, read(cg("cpu", id, "cpu.shares")), "weight 300 is three times the kernel's default 1024 shares");
    assertEquals(32L << 20, read(cg("memory", id, "memory.soft_limit_in_bytes")), "the memory guarantee is the soft limit");
    layer.start(id);

    layer.setLimits(id, new Limits(500, 64L << 20, 0, 64, 50, 0, 0));
    assertEquals(512, read(cg("cpu", id, "cpu.shares")), "a resize lowers the weight at once");
    assertEquals(0, read(cg("memory", id, "memory.soft_limit_in_bytes")), "no guarantee: reclaimed first under pressure");
    Limits seen = layer.inspect(id).limits();
    assertEquals(50, seen.cpuWeight(), "inspect reads the weight back from cpu.shares");
    assertEquals(0, seen.memoryGuaranteeBytes(), "inspect reads the guarantee back from the soft limit");
  }

  @Test
  void twoBusyLoopsUseAtMostHalfACpuAndLimitsChangeWhileRunning() throws Exception {
    ContainerId id = host.newId("cpu");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT.withCpuMillis(500), "/bin/sh", "-c",
        "while :; do :; done & while :; do :; done"), null);
    assertEquals(50_000, read(cg("cpu", id, "cpu.cfs_quota_us")));
    assertEquals(100_000, read(cg("cpu", id, "cpu.cfs_period_us")));
    layer.start(id);
    Thread.sleep(300);
    long before = read(cg("cpuacct", id, "cpuacct.usage"));
    long t0 = System.nanoTime();
    Thread.sleep(3000);
    long used = read(cg("cpuacct", id, "cpuacct.usage")) - before;
    double cpus = (double) used / (System.nanoTime() - t0);
    assertTrue(cpus <= 0.6, "two busy loops limited to 0.5 cpu used " + cpus);
    assertTrue(cpus >= 0.3, "the loops ran at all (used " + cpus + " cpu)");

    layer.setLimits(id, Limits.DEFAULT.withCpuMillis(250).withMemoryBytes(64L << 20).withPids(50));
    assertEquals(25_000, read(cg("cpu", id, "cpu.cfs_quota_us")));
    assertEquals(64L << 20, read(cg("memory", id, "memory.limit_in_bytes")));
    assertEquals(50, read(cg("pids", id, "pids.max")));
    assertEquals(250, layer.inspect(id).limits().cpuMillis(), "inspect reads the limits back from the kernel");
  }

  @Test
  void forkBombStopsAtThePidsLimit() throws Exception {
    ContainerId id = host.newId("pids");
    layer.prepare(TestHost.spec(id, Limits.DEFAULT.withPids(20), "/bin/sleep", "1000"), null);
    layer.start(id);
    // A bounded bomb: 30 sleepers wanted, the kernel must stop it at 20 tasks in all.
    ExecResult bomb = layer.exec(id, List.of("sh", "-c", "for i in $(seq 1 30); do sleep 60 & done; echo spawned"),
        Duration.ofSeconds(30));
    assertTrue(bomb.stderr().contains("fork") || bomb.stderr().contains("Resource temporarily unavailable") || bomb.exitCode() != 0,
        "the bomb hit the limit: exit " + bomb.exitCode() + " " + bomb.stderr());
    assertTrue(read(cg("pids", id, "pids.current")) <= 20, "pids.current stays within pids.max");
    String events = Files.readString(cg("pids", id, "pids.events"));
    assertTrue(!events.strip().equals("max 0"), "the pids controller refused forks: " + events);
  }
}
