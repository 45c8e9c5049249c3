package io.berth.cli;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every address the CLI may reach Berth's API at, in the order it tries them. Any host's API serves the whole
 * cluster, so knowing them all is what lets the CLI keep working when one host dies. The first source that
 * names any wins: {@code --api URL[,URL...]}, {@code $BERTH_API} (the same), the local cluster's run file
 * ({@code run/apis}, written by {@code berth up}: a line per host, {@code URL NAME}), the config file
 * ({@code $XDG_CONFIG_HOME/berth/cli.conf}, default {@code ~/.config/berth/cli.conf}: {@code api = URL [NAME]}
 * lines), then {@link BerthCli#DEFAULT_API}. Each address is checked before anything is sent.
 */
final class Endpoints {
  /** A bound on what a file or a flag can make the CLI try (each dead address may cost a connect timeout). */
  static final int MAX = 32;
  static final String RULE = "must be an http or https URL with a host and no query, such as http://127.0.0.1:7480";

  /** An API's address, and the host's name when the source gave one (the run file does), for messages. */
  record Endpoint(String url, String name) {
    /** {@code node-1's API at URL} or {@code the API at URL}. */
    String describe() {
      return (name == null ? "the API" : name + "'s API") + " at " + url;
    }
  }

  private Endpoints() {}

  /**
   * The list from the first source that has one. {@code runDir} is the local cluster's run directory (or null),
   * {@code config} the config file (or null).
   */
  static List<Endpoint> resolve(String flag, Map<String, String> env, Path runDir, Path config) {
    if (flag != null && !flag.isBlank()) return commaSeparated("--api", flag);
    String fromEnv = env.get("BERTH_API");
    if (fromEnv != null && !fromEnv.isBlank()) return commaSeparated("BERTH_API", fromEnv);
    if (runDir != null) {
      List<Endpoint> run = lines(runDir.resolve("apis"), false);
      // A cluster started before run/apis existed wrote only run/api (node-1's address).
      if (run.isEmpty()) run = lines(runDir.resolve("api"), false);
      if (!run.isEmpty()) return run;
    }
    if (config != null) {
      List<Endpoint> conf = lines(config, true);
      if (!conf.isEmpty()) return conf;
    }
    return List.of(new Endpoint(BerthCli.DEFAULT_API, null));
  }

  /** The config file: {@code $XDG_CONFIG_HOME/berth/cli.conf}, else {@code $HOME/.config/berth/cli.conf}, else none. */
  static Path configFile(Map<String, String> env) {
    String xdg = env.getOrDefault("XDG_CONFIG_HOME", "");
    if (!xdg.isBlank()) return Path.of(xdg, "berth", "cli.conf");
    String home = env.getOrDefault("HOME", "");
    return home.isBlank() ? null : Path.of(home, ".config", "berth", "cli.conf");
  }

  static List<Endpoint> commaSeparated(String source, String value) {
    List<Endpoint> out = new ArrayList<>();
    String[] parts = value.split(",", -1);
    for (int k = 0; k < parts.length; k++) {
      String where = parts.length == 1 ? source : source + " entry " + (k + 1);
      out.add(new Endpoint(url(where, parts[k].strip()), null));
    }
    return distinct(source, out);
  }

  /**
   * The lines of a run file ({@code URL [NAME]}) or of the config file ({@code api = URL [NAME]}); blank lines and
   * {@code #} comments are skipped. A missing file is an empty list; an unreadable one is a failure naming it.
   */
  static List<Endpoint> lines(Path file, boolean config) {
    if (!Files.isRegularFile(file)) return List.of();
    List<String> text;
    try {
      text = Files.readAllLines(file);
    } catch (IOException e) {
      throw CliFailure.usage(file + ": cannot be read (" + e.getMessage() + ")");
    }
    List<Endpoint> out = new ArrayList<>();
    for (int n = 0; n < text.size(); n++) {
      String line = text.get(n).strip();
      if (line.isEmpty() || line.startsWith("#")) continue;
      String where = file + " line " + (n + 1);
      if (config) {
        int eq = line.indexOf('=');
        String key = eq < 0 ? line : line.substring(0, eq).strip();
        if (eq < 0 || !key.equals("api")) {
          throw CliFailure.usage(where + ": must be 'api = URL [NAME]' (the only setting; got \"" + line + "\")");
        }
        line = line.substring(eq + 1).strip();
      }
      String[] words = line.split("\\s+");
      if (words.length > 2) throw CliFailure.usage(where + ": must be 'URL [NAME]' (got \"" + line + "\")");
      out.add(new Endpoint(url(where, words[0]), words.length == 2 ? words[1] : null));
    }
    return distinct(file.toString(), out);
  }

  /** The checked address without a trailing slash, or a usage failure naming where it came from and the rule. */
  static String url(String where, String text) {
    String why = null;
    try {
      URI u = new URI(text);
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null || u.getRawQuery() != null
          || u.getRawFragment() != null || u.getRawUserInfo() != null) {
        why = RULE;
      } else if (u.getPort() == 0 || u.getPort() > 65535) {
        why = "the port must be from 1 to 65535";
      }
    } catch (URISyntaxException e) {
      why = RULE;
    }
    if (why != null) throw CliFailure.usage(where + ": " + why + " (got \"" + text + "\")");
    return text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
  }

  /** Drops repeats (the first one stays), bounded by {@link #MAX}. */
  private static List<Endpoint> distinct(String source, List<Endpoint> all) {
    Set<String> seen = new LinkedHashSet<>();
    List<Endpoint> out = new ArrayList<>();
    for (Endpoint e : all) if (seen.add(e.url())) out.add(e);
    if (out.size() > MAX) throw CliFailure.usage(source + ": at most " + MAX + " API addresses (got " + out.size() + ")");
    return List.copyOf(out);
  }
}
