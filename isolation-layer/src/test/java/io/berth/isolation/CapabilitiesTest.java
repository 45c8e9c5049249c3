package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The tests' capability table against the kernel's own header, so a wrong number cannot hide a wrong set. */
class CapabilitiesTest {
  private static final Path HEADER = Path.of("/usr/include/linux/capability.h");

  @Test
  void namesAndNumbersAreTheKernelHeaders() throws IOException {
    assumeTrue(Files.isRegularFile(HEADER), "needs " + HEADER + " (Debian's linux-libc-dev, which gcc pulls in)");
    List<String> fromHeader = new ArrayList<>();
    Matcher m = Pattern.compile("(?m)^#define\\s+CAP_([A-Z_]+)\\s+(\\d+)\\s*$").matcher(Files.readString(HEADER));
    while (m.find()) {
      int n = Integer.parseInt(m.group(2));
      String name = m.group(1).toLowerCase();
      while (fromHeader.size() <= n) fromHeader.add(null);
      fromHeader.set(n, name);
    }
    assertEquals(fromHeader, Confinement.NAMES);
  }

  @Test
  void maskAndNamesRoundTrip() {
    assertEquals(1L << 21, Confinement.mask(Set.of("sys_admin")));
    assertEquals(Set.of("chown", "checkpoint_restore"), Confinement.names(1L | 1L << 40));
    assertEquals(Confinement.KEPT, Confinement.names(Confinement.mask(Confinement.KEPT)));
    for (String dropped : List.of("sys_module", "sys_rawio", "sys_time", "mac_admin", "mac_override", "syslog", "bpf", "perfmon")) {
      assertTrue((Confinement.mask(Confinement.KEPT) & Confinement.mask(Set.of(dropped))) == 0, dropped + " must be dropped");
    }
  }
}
