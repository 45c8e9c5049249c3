package io.berth.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code berth host list|show|cordon|uncordon}. */
@Command(name = "host", description = "Hosts: list, show, cordon, drain, uncordon.")
final class HostCommand extends Verb {
  /** Its verbs, added to the command line on demand (see Subcommands). */
  static final Class<?>[] VERBS = {HostCommand.ListHosts.class, HostCommand.Show.class, HostCommand.Cordon.class, HostDrain.class, HostCommand.Uncordon.class};

  @Override
  int execute() {
    throw CliFailure.usage("host needs a verb: list, show, cordon, drain, uncordon (see 'berth host --help')");
  }

  @Command(name = "list", aliases = "ls", description = "List hosts with what is allocated on each (allocated/capacity).")
  static final class ListHosts extends Verb {
    @Override
    int execute() {
      ApiClient.Answer a = api().get("/v1/hosts", "hosts");
      if (json()) printJson(a);
      else Render.hosts(out(), Render.items(a.json()));
      return ExitCodes.OK;
    }
  }

  @Command(name = "show", description = "Show one host.")
  static final class Show extends Verb {
    @Parameters(index = "0", paramLabel = "HOST")
    String name;

    @Override
    int execute() {
      ApiClient.Answer a = api().get("/v1/hosts/" + ApiClient.encode(name), "host " + name);
      if (json()) printJson(a);
      else Render.host(out(), a.json());
      return ExitCodes.OK;
    }
  }

  @Command(name = "cordon", description = "Take no new containers on HOST.")
  static final class Cordon extends Verb {
    @Parameters(index = "0", paramLabel = "HOST")
    String name;

    @Override
    int execute() {
      return change(this, name, "cordon");
    }
  }

  @Command(name = "uncordon", description = "Let HOST take new containers again (ends a drain).")
  static final class Uncordon extends Verb {
    @Parameters(index = "0", paramLabel = "HOST")
    String name;

    @Override
    int execute() {
      return change(this, name, "uncordon");
    }
  }

  private static int change(Verb v, String name, String verb) {
    ApiClient.Answer a = v.withProgress(verb + " host " + name,
        () -> v.api().send("POST", "/v1/hosts/" + ApiClient.encode(name) + "/" + verb, null, "host " + name));
    if (v.json()) v.printJson(a);
    else v.out().println("host " + name + ": " + a.json().get("phase"));
    return ExitCodes.OK;
  }
}
