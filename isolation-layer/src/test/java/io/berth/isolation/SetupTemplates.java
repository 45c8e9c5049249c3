package io.berth.isolation;

import io.berth.isolation.template.DebootstrapBuilder;
import io.berth.isolation.template.TemplateBuild;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/** The set-up's debian-12 template for the tests that boot systemd: the one bin/berth up built, or built here once the same way. */
final class SetupTemplates {
  private SetupTemplates() {}

  static synchronized void requireDebian12() throws IOException {
    Path dir = IsolationConfig.repo().orElseThrow().resolve(".local/templates/debian-12");
    if (Files.isDirectory(dir)) return;
    if (!Files.isExecutable(Path.of("/usr/sbin/debootstrap"))) HostTests.failOrSkip("booting systemd needs the debian-12 template: run bin/setup-host and bin/berth up");
    Path tmp = dir.resolveSibling("debian-12.build-" + ProcessHandle.current().pid());
    Files.createDirectories(tmp);
    try {
      DebootstrapBuilder.forThisHost(Optional.empty()).build(TemplateBuild.of("debian-12", "debian-12", List.of()), tmp);
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      io.berth.isolation.process.Commands.run(List.of("rm", "-rf", "--one-file-system", tmp.toString()), null, java.time.Duration.ofMinutes(2));
    }
  }
}
