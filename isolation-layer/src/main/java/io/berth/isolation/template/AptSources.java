package io.berth.isolation.template;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Debian archive apt on this host is configured with, read from its sources (sources.list(5)): the
 * deb822 files {@code /etc/apt/sources.list.d/*.sources} first, then the one-line {@code sources.list} and
 * {@code sources.list.d/*.list}. A template is built from the same archive the host installs its own
 * packages from, so Berth never names a mirror of its own. The archive is the first {@code deb} URI whose
 * path ends in {@code /debian} (not {@code debian-security}, whose suites debootstrap cannot start from).
 */
public final class AptSources {
  private AptSources() {}

  /** The archive under {@code etc} (normally {@code /etc/apt}), without a trailing '/'. */
  public static Optional<String> debianArchive(Path etc) {
    List<String> uris = new ArrayList<>();
    for (Path f : files(etc.resolve("sources.list.d"), ".sources")) uris.addAll(deb822Uris(read(f)));
    Path list = etc.resolve("sources.list");
    if (Files.isRegularFile(list)) {
      String text = read(list);
      uris.addAll(oneLineUris(text));
      uris.addAll(deb822Uris(text)); // some images write deb822 stanzas into sources.list itself
    }
    for (Path f : files(etc.resolve("sources.list.d"), ".list")) uris.addAll(oneLineUris(read(f)));
    return uris.stream().map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u)
        .filter(u -> u.endsWith("/debian") && (u.startsWith("http://") || u.startsWith("https://") || u.startsWith("file:/")))
        .findFirst();
  }

  /** The URIs of the deb822 stanzas whose Types include {@code deb} and that are not disabled ({@code Enabled: no}). */
  static List<String> deb822Uris(String text) {
    List<String> uris = new ArrayList<>();
    for (String stanza : text.split("\\n\\s*\\n")) {
      List<String> types = List.of();
      List<String> stanzaUris = List.of();
      boolean enabled = true;
      for (String line : stanza.split("\n")) {
        if (line.startsWith("#")) continue;
        int colon = line.indexOf(':');
        if (colon < 0 || Character.isWhitespace(line.charAt(0))) continue;
        String key = line.substring(0, colon).strip().toLowerCase(java.util.Locale.ROOT);
        List<String> values = List.of(line.substring(colon + 1).strip().split("\\s+"));
        switch (key) {
          case "types" -> types = values;
          case "uris" -> stanzaUris = values;
          case "enabled" -> enabled = !values.get(0).equalsIgnoreCase("no");
          default -> { }
        }
      }
      if (enabled && types.contains("deb")) uris.addAll(stanzaUris);
    }
    return uris;
  }

  /** The URIs of one-line {@code deb [options] URI suite components} entries. */
  static List<String> oneLineUris(String text) {
    List<String> uris = new ArrayList<>();
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (!line.startsWith("deb ") && !line.startsWith("deb\t")) continue;
      String rest = line.substring(3).strip();
      if (rest.startsWith("[")) {
        int close = rest.indexOf(']');
        if (close < 0) continue;
        rest = rest.substring(close + 1).strip();
      }
      String[] fields = rest.split("\\s+");
      if (fields.length >= 2) uris.add(fields[0]);
    }
    return uris;
  }

  private static List<Path> files(Path dir, String suffix) {
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(suffix) && Files.isRegularFile(p)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("list " + dir, e);
    }
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      throw new UncheckedIOException("read " + f, e);
    }
  }
}
