package io.berth.protocol.access;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.spec.Labels;
import java.util.Map;
import java.util.Optional;

/**
 * The containers a token is limited to: those whose labels carry {@code key=value}, as a tenant's would
 * ({@code owner=acme}). A token without a scope reaches every container.
 */
public record TokenScope(String key, String value) {
  public TokenScope {
    // The rules of a container's labels, so every scope can match some container.
    Labels.check("scope", Map.of(key == null ? "" : key, value == null ? "" : value));
    if (value.isEmpty()) throw new InvalidFieldException("scope", "must be key=value with a value that is not empty", key + "=");
  }

  /** {@code key=value}, as given on a command line; empty or null for no scope. */
  public static Optional<TokenScope> parse(String field, String text) {
    if (text == null || text.isEmpty()) return Optional.empty();
    Map.Entry<String, String> pair = Labels.parsePair(field, text);
    try {
      return Optional.of(new TokenScope(pair.getKey(), pair.getValue()));
    } catch (InvalidFieldException e) {
      throw new InvalidFieldException(field, e.rule(), text);
    }
  }

  /** Whether a container with these labels is within the scope. */
  public boolean admits(Map<String, String> labels) {
    return value.equals(labels.get(key));
  }

  @Override
  public String toString() {
    return key + "=" + value;
  }
}
