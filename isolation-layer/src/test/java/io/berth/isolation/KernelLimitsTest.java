package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Raising the host's kernel limits: only upward, reported; and on this host, once a layer started, they hold. */
class KernelLimitsTest {
  @Test
  void raisesALowLimitKeepsAHigherOneAndSkipsAMissingOne(@TempDir Path procSys) throws Exception {
    Files.createDirectories(procSys.resolve("fs/inotify"));
    Files.writeString(procSys.resolve("fs/inotify/max_user_instances"), "128\n");
    Files.writeString(procSys.resolve("fs/inotify/max_user_watches"), "4000000\n");
    List<String> said = KernelLimits.raise(procSys);
    assertEquals(List.of("fs/inotify/max_user_instances: 128 -> 1048576"), said);
    assertEquals("1048576", Files.readString(procSys.resolve("fs/inotify/max_user_instances")));
    assertEquals("4000000\n", Files.readString(procSys.resolve("fs/inotify/max_user_watches")), "a higher limit is left alone");
    assertEquals(List.of(), KernelLimits.raise(procSys), "nothing to do the second time");
    assertEquals(List.of(), KernelLimits.raise(procSys.resolve("nothing-here")), "a kernel without the keys");
  }

  @Test
  void aLimitThatCannotBeReadIsReportedNotThrown(@TempDir Path procSys) throws Exception {
    Files.createDirectories(procSys.resolve("fs/inotify"));
    Files.writeString(procSys.resolve("fs/inotify/max_user_instances"), "not a number");
    List<String> said = KernelLimits.raise(procSys);
    assertEquals(1, said.size());
    assertTrue(said.get(0).startsWith("fs/inotify/max_user_instances: cannot raise it to 1048576"), said.get(0));
  }

  @Test
  void onThisHostALayerLeavesEveryLimitAtLeastItsMinimum() throws Exception {
    HostTests.requireRootLinux();
    try (TestHost host = new TestHost()) {
      host.layer("kl");
      // Files.readString would see only the first digit of a sysctl (see KernelLimits.read): compare with a cat.
      assertEquals(io.berth.isolation.process.Commands.run(List.of("cat", "/proc/sys/fs/inotify/max_user_instances"), null,
          java.time.Duration.ofSeconds(5)).stdout().strip(), KernelLimits.read(Path.of("/proc/sys/fs/inotify/max_user_instances")));
      for (KernelLimits.Minimum m : KernelLimits.MINIMUMS) {
        long now = Long.parseLong(KernelLimits.read(Path.of("/proc/sys", m.key())));
        assertTrue(now >= m.value(), m.key() + " is " + now + ", below " + m.value());
      }
    }
  }
}
