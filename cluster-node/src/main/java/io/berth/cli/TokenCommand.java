package io.berth.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth token create|list|revoke}: the API's tokens. Role, scope and expiry go to the server as typed: it
 * checks them and names the field and the rule, so the CLI keeps no second copy of those rules to drift.
 */
@Command(name = "token", description = "API tokens: create, list, revoke.")
final class TokenCommand extends Verb {
  /** Its verbs, added to the command line on demand (see Subcommands). */
  static final Class<?>[] VERBS = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class};

  @Override
  int execute() {
    throw CliFailure.usage("token needs a verb: create, list, revoke (see 'berth token --help')");
  }

  static String path(String name) {
    return "/v1/tokens/" + ApiClient.encode(name);
  }

  @Command(name = "create", description = "Issue a token; it is printed once, Berth keeps only its hash.")
  static final class Create extends Verb {
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "its name: the principal the events record")
    String name;

    @Option(names = "--role", required = true, paramLabel = "viewer|operator|admin",
        description = "viewer: reads; operator: also containers; admin: also hosts, templates, tokens")
    String role;

    @Option(names = "--scope", paramLabel = "KEY=VALUE", description = "only the containers whose labels carry KEY=VALUE")
    String scope;

    @Option(names = "--expires", paramLabel = "DURATION", description = "valid this long from now (30d, 12h); default never")
    String expires;

    @Option(names = "--certificate", paramLabel = "FILE",
        description = "register this client certificate (PEM, signed by the cluster CA) under NAME instead of making a token")
    String certificate;

    @Override
    int execute() {
      String pem = certificate == null ? null : readCertificate(certificate);
      ApiClient.Answer a = withProgress("issue of token " + name, () -> api().send("POST", "/v1/tokens",
          ApiClient.map("name", name, "role", role, "scope", scope, "expires", expires, "certificate", pem), "token " + name));
      if (json()) {
        printJson(a);
      } else if (pem != null) {
        Map<String, Object> m = a.json();
        String scoped = m.get("scope") == null ? "" : ", scope " + m.get("scope");
        out().println("certificate " + m.get("name") + " (" + m.get("role") + scoped + ", expires " + Times.show(m.get("expiresAt"))
            + "): registered, SHA-256 " + m.get("fingerprint"));
        return ExitCodes.OK;
      } else {
        Map<String, Object> m = a.json();
        String scoped = m.get("scope") == null ? "" : ", scope " + m.get("scope");
        String expiring = m.get("expiresAt") == null ? "" : ", expires " + Times.show(m.get("expiresAt"));
        // The token alone on its line, so a script takes it with `tail -1`; the warning on stderr stays out of it.
        out().println("token " + m.get("name") + " (" + m.get("role") + scoped + expiring + "):");
        out().println(m.get("token"));
      }
      if (pem == null) cli().err.println("store it now: Berth keeps only its hash and cannot show it again");
      return ExitCodes.OK;
    }

    private static String readCertificate(String file) {
      try {
        return java.nio.file.Files.readString(java.nio.file.Path.of(file), java.nio.charset.StandardCharsets.US_ASCII);
      } catch (java.io.IOException e) {
        throw CliFailure.usage("--certificate: cannot read " + file + " (" + e.getMessage() + ")");
      }
    }
  }

  @Command(name = "list", aliases = "ls", description = "List tokens (never their secrets): issued ones and the tokens file's.")
  static final class ListTokens extends Verb {
    @Override
    int execute() {
      ApiClient.Answer a = api().get("/v1/tokens", "tokens");
      if (json()) {
        printJson(a);
        return ExitCodes.OK;
      }
      Table t = new Table("NAME", "ROLE", "SCOPE", "EXPIRES", "ISSUED", "BY", "CREDENTIAL", "SOURCE");
      for (Object o : Render.items(a.json())) {
        Map<String, Object> m = obj(o);
        String expiry = Boolean.TRUE.equals(m.get("expired")) ? Times.show(m.get("expiresAt")) + " (expired)" : Times.show(m.get("expiresAt"));
        t.row(m.get("name"), m.get("role"), m.get("scope"), expiry, Times.show(m.get("issuedAt")), m.get("issuedBy"), m.get("credential"),
            m.get("source"));
      }
      t.print(out());
      return ExitCodes.OK;
    }
  }

  @Command(name = "revoke", description = "Revoke an issued token on every node (a tokens file's token: remove its line there).")
  static final class Revoke extends Verb {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    int execute() {
      ApiClient.Answer a = withProgress("revoke of token " + name, () -> api().send("DELETE", path(name), null, "token " + name));
      if (json()) printJson(a);
      else out().println("token " + name + ": revoked");
      return ExitCodes.OK;
    }
  }
}
