package io.berth.isolation.rootfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Resolves paths as the container will see them: absolute symlinks start again at the container's
 * root, never the host's ({@code /bin/sh -> /bin/busybox} must find the template's busybox, and a
 * link to {@code /etc/shadow} must not reach the host's). A plain {@code Path.resolve} plus
 * {@code toRealPath} would follow such links on the host.
 */
public final class RootfsPaths {
  private static final int MAX_LINKS = 40; // the kernel's own limit (path_resolution(7))

  private RootfsPaths() {}

  /** The host path of {@code path} inside {@code root}, if it exists there; never outside root. */
  public static Optional<Path> resolve(Path root, String path) {
    Deque<String> todo = new ArrayDeque<>();
    push(todo, path);
    Path current = root;
    int links = 0;
    while (!todo.isEmpty()) {
      String part = todo.pop();
      if (part.isEmpty() || part.equals(".")) continue;
      if (part.equals("..")) {
        if (!current.equals(root)) current = current.getParent();
        continue;
      }
      Path next = current.resolve(part);
      if (Files.isSymbolicLink(next)) {
        if (++links > MAX_LINKS) return Optional.empty();
        String target;
        try {
          target = Files.readSymbolicLink(next).toString();
        } catch (IOException e) {
          return Optional.empty();
        }
        if (target.startsWith("/")) current = root;
        push(todo, target);
        continue;
      }
      if (!Files.exists(next, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
      current = next;
    }
    return Optional.of(current);
  }

  /**
   * The program {@code argv0} names, found as execvp(3) would inside the container: a name with a
   * '/' is a path; a bare name is looked up in {@code searchPath}. Must be a regular executable file.
   */
  public static Optional<Path> findProgram(Path root, String argv0, List<String> searchPath) {
    if (argv0.contains("/")) return resolve(root, argv0).filter(RootfsPaths::isExecutableFile);
    for (String dir : searchPath) {
      Optional<Path> p = resolve(root, dir + "/" + argv0).filter(RootfsPaths::isExecutableFile);
      if (p.isPresent()) return p;
    }
    return Optional.empty();
  }

  private static boolean isExecutableFile(Path p) {
    return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.isExecutable(p);
  }

  private static void push(Deque<String> todo, String path) {
    List<String> parts = List.of(path.split("/"));
    for (int i = parts.size() - 1; i >= 0; i--) todo.push(parts.get(i));
  }
}
