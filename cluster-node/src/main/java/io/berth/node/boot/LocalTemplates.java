package io.berth.node.boot;

import io.berth.isolation.IsolationLayer;
import io.berth.isolation.template.Template;
import io.berth.node.ops.BerthOperations.TemplateView;
import io.berth.node.ops.ClusterOperations;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.spec.TemplateRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.stream.Stream;

/** This node's template store, for the API: listing by name, importing a directory or a tarball. */
final class LocalTemplates implements ClusterOperations.Templates {
  private final IsolationLayer layer;
  private final Executor blocking;

  LocalTemplates(IsolationLayer layer, Executor blocking) {
    this.layer = layer;
    this.blocking = blocking;
  }

  @Override
  public CompletionStage<List<TemplateView>> list() {
    return CompletableFuture.supplyAsync(() -> {
      // The set-up's busybox is imported on first use: make sure it is there to be listed.
      try {
        layer.templates().resolve(TemplateRef.of("busybox"));
      } catch (InvalidFieldException notSetUp) {
        // No busybox source on this host: nothing to list for it.
      }
      Path names = layer.config().dataRoot().resolve("templates").resolve("names");
      List<TemplateView> views = new ArrayList<>();
      if (!Files.isDirectory(names)) return views;
      try (Stream<Path> s = Files.list(names)) {
        for (Path p : s.sorted().toList()) {
          String name = p.getFileName().toString();
          if (name.startsWith(".")) continue;
          Template t = layer.templates().resolve(TemplateRef.of(name));
          views.add(new TemplateView(name, t.digest(), sizeOf(t.rootfs()), Files.getLastModifiedTime(p).toInstant()));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("list templates in " + names, e);
      }
      return views;
    }, blocking);
  }

  @Override
  public CompletionStage<TemplateView> importTemplate(String name, Path source, CommandContext context) {
    return CompletableFuture.supplyAsync(() -> {
      TemplateRef.of(name);
      if (!source.isAbsolute()) throw new InvalidFieldException("path", "must be an absolute path on the node", source.toString());
      Template t;
      if (Files.isDirectory(source)) {
        t = layer.templates().importDirectory(source, name);
      } else if (Files.isRegularFile(source)) {
        t = layer.templates().importTarball(source, name);
      } else {
        throw new InvalidFieldException("path", "must be a directory or a tarball on the node", source.toString());
      }
      return new TemplateView(name, t.digest(), sizeOf(t.rootfs()), Instant.now());
    }, blocking);
  }

  private static long sizeOf(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      return 0;
    }
  }
}
