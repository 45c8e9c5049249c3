package io.berth.isolation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.isolation.process.Commands;
import io.berth.isolation.template.DebootstrapBuilder;
import io.berth.isolation.template.Template;
import io.berth.isolation.template.TemplateBuild;
import io.berth.isolation.template.TemplateStore;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A real debootstrap of Debian 12 from the archive apt is configured with (about 40 s and 200 MB here), stored
 * by digest: the packages a systemd container needs and the included one are installed, and nothing names one
 * machine any more.
 */
class DebootstrapBuildIT {
  @Test
  void buildsDebian12PreparedForCloning() throws Exception {
    HostTests.requireRootLinux();
    if (!Files.isExecutable(Path.of("/usr/sbin/debootstrap"))) HostTests.failOrSkip("the template build needs debootstrap: run bin/setup-host");
    Path dir = Files.createTempDirectory("berth-debootstrap-it-");
    try {
      TemplateStore store = new TemplateStore(dir.resolve("templates"), Map.of());
      Template t = store.build(TemplateBuild.of("deb-it", "debian-12", List.of("less")), DebootstrapBuilder.forThisHost(Optional.empty()));
      Path root = t.rootfs();
      assertEquals(t.digest(), store.resolve(TemplateRef.of("deb-it")).digest(), "the name points at the built digest");
      assertEquals(root, store.resolve(TemplateRef.of(t.digest())).rootfs());
      assertEquals(t.digest(), TemplateStore.digest(root), "the stored tree hashes to its digest");
      assertEquals(Path.of("/lib/systemd/systemd"), Files.readSymbolicLink(root.resolve("sbin/init")), "systemd-sysv makes systemd the init");
      for (String bin : List.of("bin/systemctl", "usr/bin/dbus-daemon", "bin/ip", "bin/ps", "usr/bin/less")) {
        assertTrue(Files.isExecutable(root.resolve(bin)), bin + " is installed");
      }
      String status = Files.readString(root.resolve("var/lib/dpkg/status"));
      for (String pkg : List.of("systemd", "systemd-sysv", "dbus", "iproute2", "procps", "less")) {
        assertTrue(status.contains("Package: " + pkg + "\n"), pkg + " is in dpkg's status");
      }
      assertEquals(0, Files.size(root.resolve("etc/machine-id")), "/etc/machine-id is present and empty");
      assertFalse(Files.exists(root.resolve("var/lib/dbus/machine-id"), LinkOption.NOFOLLOW_LINKS), "dbus's machine id is gone");
      assertFalse(Files.exists(root.resolve("etc/hostname"), LinkOption.NOFOLLOW_LINKS), "no hostname: the container's is Berth's to give");
      assertEquals("", Files.readString(root.resolve("etc/resolv.conf")), "the host's resolver settings are not carried in");
      try (var debs = Files.list(root.resolve("var/cache/apt/archives"))) {
        assertEquals(0, debs.filter(p -> p.toString().endsWith(".deb")).count(), "the package cache is dropped");
      }
      String host = Files.readString(Path.of("/etc/hostname")).strip();
      assertFalse(host.isEmpty() || Files.readString(root.resolve("etc/hosts")).contains(host), "the host's name is nowhere in /etc/hosts");
      Commands.Result du = Commands.run(List.of("du", "-sm", root.toString()), null, Duration.ofMinutes(1));
      System.out.println("debian-12 template: " + du.stdout().strip().split("\\s+")[0] + " MB, " + t.digest());
      try (var tmp = Files.list(dir.resolve("templates/tmp"))) {
        assertEquals(0, tmp.count(), "the build's temporary directory is gone");
      }
    } finally {
      Commands.run(List.of("rm", "-rf", "--one-file-system", dir.toString()), null, Duration.ofMinutes(2));
    }
  }
}
