package io.berth.protocol.access;

import io.berth.protocol.InvalidFieldException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How an issued identity proves itself, as the access log keeps it: the SHA-256 of a bearer token, or of a client
 * certificate's DER bytes (its fingerprint). The kind is part of the match: a certificate is public, so its
 * fingerprint must never be usable as if it were a token's hash.
 *
 * @param sha256 64 lowercase hex digits
 */
public record Credential(Kind kind, String sha256) {
  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

  public enum Kind {
    /** A random bearer token, shown once when issued. */
    TOKEN,
    /** A client certificate signed by the cluster CA, presented in the TLS handshake. */
    CERTIFICATE;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Credential {
    InvalidFieldException.required("credential", kind);
    if (sha256 == null || !HEX64.matcher(sha256).matches()) {
      throw new InvalidFieldException("hash", "must be 64 lowercase hex digits (a SHA-256)", sha256);
    }
  }

  public static Credential token(String sha256) {
    return new Credential(Kind.TOKEN, sha256);
  }

  public static Credential certificate(String sha256) {
    return new Credential(Kind.CERTIFICATE, sha256);
  }
}
