package io.berth.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code berth}: the operator's command line. It talks only HTTP/JSON to the REST API and loads nothing
 * heavy (picocli and the JDK), so it starts fast; {@code bin/berth-cli} runs it with a class-data-sharing
 * archive. {@code up} and {@code down} are shell verbs of {@code bin/berth}, not here.
 */
@Command(name = "berth", sortOptions = false, usageHelpAutoWidth = true,
    description = "Manage a Berth cluster: hosts, containers, templates, API tokens and the audit log.",
    footer = {"", "Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 not found, 4 conflict (exists, wrong phase, busy),",
        "5 no capacity, 6 outcome unknown (sent, no answer: check before repeating), 69 API unreachable or Berth unavailable,",
        "77 no or wrong credentials (--token, --ca), or the token's role or scope does not allow the call;",
        "'ct exec' exits with the command's own code."})
public final class BerthCli implements Runnable {
  static final String DEFAULT_API = "http://127.0.0.1:7480";

  enum Output { table, json }

  @Option(names = "--output", scope = ScopeType.INHERIT, paramLabel = "table|json",
      description = "table for people (default), json for scripts")
  void output(Output v) {
    settings.output = v;
  }

  @Option(names = "--api", scope = ScopeType.INHERIT, paramLabel = "URL[,URL...]",
      description = "the API's addresses, tried in turn while one does not answer (default: $BERTH_API, then "
          + "<repo>/.local/run/apis, then ~/.config/berth/cli.conf, then " + DEFAULT_API + ")")
  void api(String v) {
    settings.api = v;
  }

  @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "a file holding the API's bearer token (default: $BERTH_TOKEN, then the local cluster's run/admin.token "
          + "when the addresses are the local cluster's)")
  void token(String v) {
    settings.token = v;
  }

  @Option(names = "--ca", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "the CA (PEM) an https API's certificate must chain to (default: $BERTH_CA, then the local cluster's "
          + "run/ca.pem when the addresses are the local cluster's, then the JDK's trusted roots)")
  void ca(String v) {
    settings.ca = v;
  }

  @Option(names = "--cert", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "a client certificate (PEM) to present instead of a token, registered with 'token create --certificate' "
          + "(default: $BERTH_CERT); needs --key")
  void cert(String v) {
    settings.cert = v;
  }

  @Option(names = "--key", scope = ScopeType.INHERIT, paramLabel = "FILE", description = "the client certificate's key (PKCS#8 PEM; default: $BERTH_KEY)")
  void key(String v) {
    settings.key = v;
  }

  @Option(names = "--reason", scope = ScopeType.INHERIT, paramLabel = "TEXT", description = "why: recorded in the events")
  void reason(String v) {
    settings.reason = v;
  }

  @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "show this help")
  boolean help;

  /** Where global options land, whichever command level they were given on. */
  static final class Settings {
    Output output = Output.table;
    String api;
    String token;
    String ca;
    String cert;
    String key;
    String reason;
  }

  final Settings settings = new Settings();
  final PrintStream out;
  final PrintStream err;
  final Map<String, String> env;
  private ApiClient client;

  BerthCli(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  public static void main(String[] args) {
    int code = run(args, System.out, System.err, System.getenv());
    if (Boolean.getBoolean("berth.cdsTraining")) CdsTraining.exercise();
    System.out.flush();
    System.exit(code);
  }

  /** Runs one command line; returns the exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    BerthCli cli = new BerthCli(out, err, env);
    CommandLine cmd = new CommandLine(cli);
    Subcommands.add(cmd, args);
    cmd.setOut(new java.io.PrintWriter(out, true));
    cmd.setErr(new java.io.PrintWriter(err, true));
    cmd.setParameterExceptionHandler((e, a) -> {
      String hint = e.getCommandLine().getCommandSpec().qualifiedName();
      err.println("berth: " + firstLine(e.getMessage()) + " (see '" + hint + " --help')");
      return ExitCodes.USAGE;
    });
    cmd.setExecutionExceptionHandler((e, c, p) -> {
      if (e instanceof CliFailure f) {
        err.println("berth: " + f.getMessage());
        return f.exitCode;
      }
      err.println("berth: internal error: " + e);
      return ExitCodes.FAILED;
    });
    int code = cmd.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  @Override
  public void run() {
    throw CliFailure.usage("a command is needed: status, host, ct, template, token, audit, events (see 'berth --help')");
  }

  boolean json() {
    return settings.output == Output.json;
  }

  ApiClient client() {
    if (client == null) {
      List<Endpoints.Endpoint> endpoints = endpoints();
      client = new ApiClient(endpoints, settings.reason, err, Credentials.resolve(settings.token, settings.ca, settings.cert, settings.key, env, localRunDir()));
    }
    return client;
  }

  /**
   * The run directory when the addresses came from it (no {@code --api}, no {@code $BERTH_API}, a run/apis file): only
   * then are its admin token and CA this cluster's to use.
   */
  private Path localRunDir() {
    if (settings.api != null && !settings.api.isBlank()) return null;
    if (!env.getOrDefault("BERTH_API", "").isBlank()) return null;
    Path run = runDir();
    return run != null && (java.nio.file.Files.isRegularFile(run.resolve("apis")) || java.nio.file.Files.isRegularFile(run.resolve("api")))
        ? run : null;
  }

  /** Every API address, from the first source that names one (see {@link Endpoints}); checked before any call. */
  List<Endpoints.Endpoint> endpoints() {
    return Endpoints.resolve(settings.api, env, runDir(), Endpoints.configFile(env));
  }

  /** The local cluster's run directory: {@code -Dberth.runDir} (the launcher's), else $BERTH_LOCAL/run, else $BERTH_REPO/.local/run. */
  private Path runDir() {
    String explicit = System.getProperty("berth.runDir", "");
    if (!explicit.isBlank()) return Path.of(explicit);
    String local = env.getOrDefault("BERTH_LOCAL", "");
    if (!local.isBlank()) return Path.of(local, "run");
    String repo = env.getOrDefault("BERTH_REPO", "");
    return repo.isBlank() ? null : Path.of(repo, ".local", "run");
  }

  /** Whether stderr is a terminal: the launcher knows ({@code [ -t 2 ]}), Java cannot ask. */
  boolean stderrIsTerminal() {
    return "1".equals(System.getProperty("berth.stderrTty", env.getOrDefault("BERTH_STDERR_TTY", "0")));
  }

  static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return (nl < 0 ? s : s.substring(0, nl)).trim();
  }
}
