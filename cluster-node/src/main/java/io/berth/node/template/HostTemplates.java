package io.berth.node.template;

import io.berth.isolation.IsolationLayer;
import io.berth.isolation.template.DebootstrapBuilder;
import io.berth.isolation.template.Template;
import io.berth.isolation.template.TemplateBuild;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.spec.TemplateRef;
import io.berth.protocol.template.TemplateInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** This host's template store, by name: listing, and importing a directory or a tarball. Blocking. */
final class HostTemplates {
  private final IsolationLayer layer;
  private final DebootstrapBuilder builder;

  HostTemplates(IsolationLayer layer, Optional<Path> buildNetwork) {
    this.layer = layer;
    this.builder = DebootstrapBuilder.forThisHost(buildNetwork);
  }

  /** A template built here and where its root filesystem lies, for the other hosts to import. */
  record Built(TemplateInfo info, Path rootfs) {}

  Built build(String name, String distribution, List<String> include) {
    TemplateBuild build = TemplateBuild.of(name, distribution, include);
    Template t = layer.templates().build(build, builder);
    return new Built(new TemplateInfo(name, t.digest(), sizeOf(t.rootfs()), Instant.now()), t.rootfs());
  }

  List<TemplateInfo> list() {
    // The set-up's templates (busybox, debian-12) are imported on first use: make sure they are there to be listed.
    for (String source : layer.config().templateSources().keySet()) {
      try {
        layer.templates().resolve(TemplateRef.of(source));
      } catch (InvalidFieldException notSetUp) {
        // Its directory went away since start: nothing to list for it.
      }
    }
    Path names = layer.config().dataRoot().resolve("templates").resolve("names");
    List<TemplateInfo> infos = new ArrayList<>();
    if (!Files.isDirectory(names)) return infos;
    try (Stream<Path> s = Files.list(names)) {
      for (Path p : s.sorted().toList()) {
        String name = p.getFileName().toString();
        if (name.startsWith(".")) continue;
        Template t = layer.templates().resolve(TemplateRef.of(name));
        infos.add(new TemplateInfo(name, t.digest(), sizeOf(t.rootfs()), Files.getLastModifiedTime(p).toInstant()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("list templates in " + names, e);
    }
    return infos;
  }

  TemplateInfo importTemplate(String name, String path) {
    TemplateRef.of(name);
    Path source = Path.of(path);
    if (!source.isAbsolute()) throw new InvalidFieldException("path", "must be an absolute path on the host", path);
    Template t;
    if (Files.isDirectory(source)) {
      t = layer.templates().importDirectory(source, name);
    } else if (Files.isRegularFile(source)) {
      t = layer.templates().importTarball(source, name);
    } else {
      throw new InvalidFieldException("path", "must be a directory or a tarball on the host", path);
    }
    return new TemplateInfo(name, t.digest(), sizeOf(t.rootfs()), Instant.now());
  }

  private static long sizeOf(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      // Symlinks count as themselves, not as what they point at (busybox has hundreds of applet links).
      return s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      return 0;
    }
  }
}
