package io.berth.isolation.template;

import io.berth.isolation.process.Commands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Builds a distribution's root filesystem with debootstrap(8) from the Debian archive apt is configured with
 * ({@link AptSources}), variant minbase plus the build's packages, then prepares it for cloning: every
 * container made from it is a machine of its own, so nothing that names one machine may stay in it.
 *
 * <p>Measured here (design.md, "systemd inside"): 40-47 s and about 255 MB before the package cache is
 * dropped. The build runs as the host's root (debootstrap makes device nodes and chroots); it never runs in
 * a container.
 */
public final class DebootstrapBuilder {
  /** The measured 45 s times five for a slow archive or a loaded host; past it the build is killed (the API asks for it within 4 min). */
  static final Duration TIMEOUT = Duration.ofSeconds(225);
  private static final Path DEBOOTSTRAP = Path.of("/usr/sbin/debootstrap");

  private final Path aptEtc;
  private final Optional<Path> netns;

  /**
   * @param aptEtc where apt's sources are ({@code /etc/apt})
   * @param netns a network namespace file debootstrap runs in (the local cluster's hosts have no route to the
   *     archive; their machine's namespace has), or empty for the caller's own
   */
  public DebootstrapBuilder(Path aptEtc, Optional<Path> netns) {
    this.aptEtc = aptEtc;
    this.netns = netns;
  }

  public static DebootstrapBuilder forThisHost(Optional<Path> netns) {
    return new DebootstrapBuilder(Path.of("/etc/apt"), netns);
  }

  /** Fills the empty directory {@code target} with the build's root filesystem, prepared for cloning. */
  public void build(TemplateBuild build, Path target) {
    if (!Files.isExecutable(DEBOOTSTRAP)) {
      throw new TemplateException("build template " + build.name() + ": " + DEBOOTSTRAP + " is missing: run bin/setup-host (it installs debootstrap)");
    }
    String archive = AptSources.debianArchive(aptEtc).orElseThrow(() -> new TemplateException("build template " + build.name()
        + ": apt's sources (" + aptEtc + ") name no Debian archive (a deb URI ending in /debian) to build from"));
    List<String> argv = new ArrayList<>();
    netns.ifPresent(ns -> argv.addAll(List.of("nsenter", "--net=" + ns, "--")));
    argv.addAll(List.of(DEBOOTSTRAP.toString(), "--variant=minbase", "--components=main",
        "--include=" + String.join(",", build.packages()), build.distribution().suite(), target.toString(), archive));
    Commands.Result r = Commands.run(argv, null, TIMEOUT);
    if (!r.ok()) {
      throw new TemplateException("build template " + build.name() + " (debootstrap " + build.distribution().suite() + " from " + archive
          + "): " + r.describe() + logTail(target));
    }
    prepareForCloning(target);
  }

  /**
   * What would make two containers the same machine, or this host's twin, goes: {@code /etc/machine-id} is
   * left empty (systemd then makes one per boot from {@code container_uuid}, machine-id(5), "first boot
   * semantics" not triggered on an empty but present file), dbus's copy and {@code /etc/hostname} are removed
   * (debootstrap copies the host's hostname and resolv.conf in: the container's are Berth's to give), and the
   * package cache debootstrap keeps is dropped (about 40 MB no container needs).
   */
  static void prepareForCloning(Path root) {
    try {
      Path machineId = root.resolve("etc/machine-id");
      Files.deleteIfExists(machineId);
      Files.createFile(machineId, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("r--r--r--")));
      Files.deleteIfExists(root.resolve("var/lib/dbus/machine-id"));
      Files.deleteIfExists(root.resolve("etc/hostname"));
      Path resolv = root.resolve("etc/resolv.conf");
      if (Files.isRegularFile(resolv, LinkOption.NOFOLLOW_LINKS)) Files.writeString(resolv, "");
      Files.writeString(root.resolve("etc/hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
      Path archives = root.resolve("var/cache/apt/archives");
      if (Files.isDirectory(archives, LinkOption.NOFOLLOW_LINKS)) {
        try (Stream<Path> s = Files.list(archives)) {
          for (Path deb : s.filter(p -> p.getFileName().toString().endsWith(".deb")).toList()) Files.delete(deb);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("prepare template " + root + " for cloning", e);
    }
  }

  /** The end of debootstrap's own log, which says which package or download failed (its stderr rarely does). */
  private static String logTail(Path target) {
    Path log = target.resolve("debootstrap/debootstrap.log");
    try {
      if (!Files.isRegularFile(log)) return "";
      List<String> lines = Files.readAllLines(log);
      return "; the end of " + log + ": " + String.join(" | ", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "";
    }
  }
}
