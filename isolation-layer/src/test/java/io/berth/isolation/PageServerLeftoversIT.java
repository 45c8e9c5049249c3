package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A node's start ends the page servers its dead predecessor left under its own migrations' directory, and no others. */
class PageServerLeftoversIT {
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
  void onlyThePageServersUnderTheGivenDirectoryAreEnded() throws Exception {
    IsolationLayer layer = host.layer("a");
    Path mine = Files.createDirectories(host.runDir().resolve("migrations/node-1/m-1/images"));
    Path other = Files.createDirectories(host.runDir().resolve("migrations/node-10/m-2/images"));
    try (PageServer left = layer.startPageServer(mine, "127.0.0.1", freePort());
        PageServer kept = layer.startPageServer(other, "127.0.0.1", freePort())) {
      long leftPid = pidOf(mine);
      long keptPid = pidOf(other);
      // node-1's directory is a prefix of node-10's name: only a whole path component may match.
      List<Long> ended = PageServer.endLeftovers(host.runDir().resolve("migrations/node-1"));
      // (CRIU forks short-lived children while it starts, with its command line: those may be among the ended too.)
      assertTrue(ended.contains(leftPid) && !ended.contains(keptPid), "node-1's page server " + leftPid + " ended, node-10's " + keptPid
          + " not: " + ended);
      HostTests.await("page server " + leftPid + " ended", java.time.Duration.ofSeconds(5),
          () -> ProcessHandle.of(leftPid).map(h -> !h.isAlive()).orElse(true));
      assertTrue(ProcessHandle.of(keptPid).map(ProcessHandle::isAlive).orElse(false), "node-10's page server runs on");
    }
  }

  /** The pid of the criu page-server writing into {@code images} (this JVM's child, not one CRIU forked), or -1. */
  private static long pidOf(Path images) {
    return ProcessHandle.current().children().filter(h -> h.info().commandLine().map(c -> c.contains("page-server") && c.contains(images.toString())).orElse(false))
        .mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
