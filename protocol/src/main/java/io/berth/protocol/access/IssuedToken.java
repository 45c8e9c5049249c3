package io.berth.protocol.access;

import io.berth.protocol.InvalidFieldException;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One API identity as the access log holds it: a bearer token (never the token, only its SHA-256) or a client
 * certificate (its fingerprint), with its name (the principal its requests record), role, scope and expiry, and who
 * issued it when.
 */
public record IssuedToken(String name, Credential credential, Role role, Optional<TokenScope> scope, Optional<Instant> expiresAt,
    Instant issuedAt, String issuedBy) {
  /** The rule of an event's principal, which a token's name becomes. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");

  public IssuedToken {
    checkName("name", name);
    InvalidFieldException.required("credential", credential);
    InvalidFieldException.required("role", role);
    scope = scope == null ? Optional.empty() : scope;
    expiresAt = expiresAt == null ? Optional.empty() : expiresAt;
    InvalidFieldException.required("issuedAt", issuedAt);
    InvalidFieldException.required("issuedBy", issuedBy);
  }

  public static String checkName(String field, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidFieldException(field, "must be 1-128 characters of letters, digits and ._@:+- (it becomes the principal of its requests)", name);
    }
    return name;
  }

  /** Whether the token has expired at {@code now}. */
  public boolean expiredAt(Instant now) {
    return expiresAt.isPresent() && !now.isBefore(expiresAt.get());
  }
}
