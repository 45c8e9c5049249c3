package io.berth.cli;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth template list|import NAME PATH|build NAME --distribution D [--include P,P]}. */
@Command(name = "template", description = "Templates: list, import, build.")
final class TemplateCommand extends Verb {
  /** Its verbs, added to the command line on demand (see Subcommands). */
  static final Class<?>[] VERBS = {TemplateCommand.ListTemplates.class, TemplateCommand.Import.class, TemplateCommand.Build.class};

  @Override
  int execute() {
    throw CliFailure.usage("template needs a verb: list, import, build (see 'berth template --help')");
  }

  @Command(name = "list", aliases = "ls", description = "List imported templates.")
  static final class ListTemplates extends Verb {
    @Override
    int execute() {
      ApiClient.Answer a = api().get("/v1/templates", "templates");
      if (json()) {
        printJson(a);
        return ExitCodes.OK;
      }
      Table t = new Table("NAME", "DIGEST", "SIZE", "IMPORTED");
      for (Object o : Render.items(a.json())) {
        Map<String, Object> m = obj(o);
        String digest = str(m.get("digest"));
        if (digest != null && digest.length() > 19) digest = digest.substring(0, 19);
        t.row(m.get("name"), digest, m.get("size"), Times.show(m.get("importedAt")));
      }
      t.print(out());
      return ExitCodes.OK;
    }
  }

  @Command(name = "import", description = "Import a directory or a tarball as NAME; it reaches every host. "
      + "PATH is read by the node, so it must be on the node's machine (a relative PATH is made absolute here).")
  static final class Import extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "PATH")
    String path;

    @Override
    int execute() {
      String absolute = Path.of(path).toAbsolutePath().normalize().toString();
      ApiClient.Answer a = withProgress("import of template " + name,
          () -> api().send("POST", "/v1/templates", ApiClient.map("name", name, "path", absolute), "template " + name));
      if (json()) printJson(a);
      else {
        Map<String, Object> m = a.json();
        out().println("template " + m.get("name") + ": imported " + m.get("size") + " (" + m.get("digest") + ")");
      }
      return ExitCodes.OK;
    }
  }

  @Command(name = "build", description = "Build NAME from a distribution with debootstrap (from the Debian archive the node's apt "
      + "is configured with: minbase plus systemd, systemd-sysv, dbus, iproute2, procps and --include), prepared for cloning; "
      + "it reaches every host. Takes about a minute.")
  static final class Build extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @picocli.CommandLine.Option(names = "--distribution", paramLabel = "D", defaultValue = "debian-12",
        description = "the distribution (debian-12, the default)")
    String distribution;

    @picocli.CommandLine.Option(names = "--include", paramLabel = "PKG[,PKG...]", description = "Debian packages to install besides its own")
    java.util.List<String> include = new java.util.ArrayList<>();

    @Override
    int execute() {
      ApiClient.Answer a = withProgress("build of template " + name,
          () -> api().send("POST", "/v1/templates/build", ApiClient.map("name", name, "distribution", distribution, "include", include),
              "template " + name));
      if (json()) printJson(a);
      else {
        Map<String, Object> m = a.json();
        out().println("template " + m.get("name") + ": built " + m.get("size") + " from " + distribution + " (" + m.get("digest") + ")");
      }
      return ExitCodes.OK;
    }
  }
}
