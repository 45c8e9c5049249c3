package io.berth.node.boot;

import com.typesafe.config.Config;
import io.berth.node.api.ApiTokens;
import io.berth.node.api.PemIdentity;
import io.berth.protocol.InvalidFieldException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code berth.api.tls} and {@code berth.api.tokens-file}: the REST API over HTTPS with this host's certificate (and,
 * with {@code client-ca-file}, client certificates of that CA), and bearer tokens (their hashes in the tokens file)
 * required of every request but the OpenAPI document. Either may be off; the node says so at start.
 */
public record ApiSecurity(Optional<PemIdentity> tls, Optional<Path> tokensFile) {

  static ApiSecurity fromConfig(Config berth) {
    String cert = string(berth, "api.tls.cert-file");
    String key = string(berth, "api.tls.key-file");
    if (cert.isEmpty() != key.isEmpty()) {
      String missing = cert.isEmpty() ? "cert-file" : "key-file";
      throw new InvalidFieldException("berth.api.tls." + missing, "must be given with " + (cert.isEmpty() ? "key-file" : "cert-file"), "");
    }
    String clientCa = string(berth, "api.tls.client-ca-file");
    if (cert.isEmpty() && !clientCa.isEmpty()) {
      throw new InvalidFieldException("berth.api.tls.client-ca-file", "must be given with cert-file and key-file (client certificates need TLS)", clientCa);
    }
    Optional<PemIdentity> tls = cert.isEmpty() ? Optional.empty()
        : Optional.of(new PemIdentity(absolute("berth.api.tls.cert-file", cert), absolute("berth.api.tls.key-file", key),
            clientCa.isEmpty() ? Optional.empty() : Optional.of(absolute("berth.api.tls.client-ca-file", clientCa)), "berth.api.tls"));
    String tokens = string(berth, "api.tokens-file");
    return new ApiSecurity(tls, tokens.isEmpty() ? Optional.empty() : Optional.of(absolute("berth.api.tokens-file", tokens)));
  }

  /** The tokens, read now: a bad file fails the start naming the setting. */
  public Optional<ApiTokens> loadTokens() {
    return tokensFile.map(ApiTokens::load);
  }

  private static Path absolute(String field, String value) {
    Path p = Path.of(value);
    if (!p.isAbsolute()) throw new InvalidFieldException(field, "must be an absolute path", value);
    return p;
  }

  private static String string(Config berth, String path) {
    return berth.hasPath(path) ? berth.getString(path).strip() : "";
  }
}
