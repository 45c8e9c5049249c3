package io.berth.cli;

import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A leaf command: reaches the root for the global settings, the API client and the output streams. */
abstract class Verb implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  BerthCli cli() {
    return (BerthCli) spec.root().userObject();
  }

  ApiClient api() {
    return cli().client();
  }

  PrintStream out() {
    return cli().out;
  }

  boolean json() {
    return cli().json();
  }

  /** Prints the API's JSON as it came, for scripts. */
  void printJson(ApiClient.Answer a) {
    out().println(a.body().strip());
  }

  /** Runs a call that may take longer than a second with progress on stderr. */
  <T> T withProgress(String what, Supplier<T> call) {
    Progress progress = Progress.start(cli().err, what, cli().stderrIsTerminal());
    try {
      return call.get();
    } finally {
      progress.close();
    }
  }

  @Override
  public final Integer call() {
    return execute();
  }

  abstract int execute();

  @SuppressWarnings("unchecked")
  static Map<String, Object> obj(Object o) {
    return o instanceof Map ? (Map<String, Object>) o : Map.of();
  }

  static String str(Object o) {
    return o == null ? null : o.toString();
  }
}
