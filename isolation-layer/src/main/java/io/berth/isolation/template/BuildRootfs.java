package io.berth.isolation.template;

import io.berth.protocol.InvalidFieldException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * {@code BuildRootfs DISTRIBUTION DIR}: the host set-up's build of a distribution's template into a directory
 * (bin/berth up makes {@code .local/templates/debian-12} with it, once), the same recipe as
 * {@code berth template build}. Built beside DIR and renamed into place, so DIR is either absent or whole.
 */
public final class BuildRootfs {
  private BuildRootfs() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: BuildRootfs DISTRIBUTION DIR");
      System.exit(2);
    }
    Path dir = Path.of(args[1]).toAbsolutePath().normalize();
    TemplateBuild build;
    try {
      build = TemplateBuild.of(args[0], args[0], List.of());
    } catch (InvalidFieldException e) {
      System.err.println("BuildRootfs: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (Files.exists(dir)) {
      System.err.println("BuildRootfs: " + dir + " exists already: nothing to build");
      return;
    }
    Path tmp = dir.resolveSibling(dir.getFileName() + ".build");
    TemplateStore.deleteTree(tmp);
    Files.createDirectories(tmp);
    try {
      DebootstrapBuilder.forThisHost(Optional.empty()).build(build, tmp);
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      TemplateStore.deleteTree(tmp);
    }
  }
}
