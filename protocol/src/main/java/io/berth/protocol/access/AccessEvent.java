package io.berth.protocol.access;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventMeta;
import java.time.Instant;
import java.util.Optional;

/**
 * The access log (persistence id {@code access|cluster}): the API tokens issued through the API and their
 * revocation, chained and audited like every other log, so "who could act, since when, given by whom" is replayed
 * like "who acted". A token is stored as its SHA-256 only: reading the log gives nobody access.
 *
 * <p>These types are stored: never edit one that has shipped. Add a new type and an upcaster.
 */
public sealed interface AccessEvent extends BerthEvent {

  /**
   * A token (or a client certificate) was issued: {@code name} is the principal its requests record; the credential
   * is the token's SHA-256 or the certificate's fingerprint.
   */
  record TokenIssued(EventMeta meta, String name, Credential credential, Role role, Optional<TokenScope> scope,
      Optional<Instant> expiresAt) implements AccessEvent {}

  /** The token named {@code name} was revoked: from now on it is refused. Its name may be issued again. */
  record TokenRevoked(EventMeta meta, String name) implements AccessEvent {}
}
