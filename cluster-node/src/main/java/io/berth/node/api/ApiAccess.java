package io.berth.node.api;

import io.berth.protocol.access.AccessState;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.IssuedToken;
import io.berth.protocol.access.Role;
import io.berth.protocol.access.TokenScope;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who a bearer token is. Two sources: the tokens file ({@link ApiTokens}: admin tokens, for set-up and break-glass,
 * revoked by removing their line) and the access log (tokens issued through the API with a role, a scope and an
 * expiry, revoked through it). This node reads the access log again when what it holds is older than
 * {@link #FRESH_NANOS}, and at once for a token it does not know, so a token issued on another node works at once
 * and one revoked anywhere is refused here within about a second. While the access log cannot be read (its node
 * died and it is moving), the tokens last read stay in force: a revocation cannot be written then either.
 */
final class ApiAccess {
  private static final Logger log = LoggerFactory.getLogger(ApiAccess.class);
  static final long FRESH_NANOS = 1_000_000_000L;
  /** How long a request waits for a read of the access log before what was read last decides. */
  static final long WAIT_NANOS = 2_000_000_000L;

  /** An authenticated caller: the principal its requests record, its role, its scope, how it proved itself. */
  record Identity(String name, Role role, Optional<TokenScope> scope, Credential.Kind credential) {
    /** How a refusal names the caller: {@code token ci}, {@code certificate ops-alice}. */
    String described() {
      return credential.wireName() + " " + name;
    }
  }

  /** The identity, or why the token is refused (401). */
  record Verdict(Identity identity, String refusal) {}

  private record Held(AccessState state, long readAtNanos) {}

  private final Optional<ApiTokens> file;
  private final Supplier<CompletionStage<AccessState>> read;
  private final Clock clock;
  private volatile Held held;
  private Reading reading;
  private CompletableFuture<Held> queued;

  ApiAccess(Optional<ApiTokens> file, Supplier<CompletionStage<AccessState>> read, Clock clock) {
    this.file = file;
    this.read = read;
    this.clock = clock;
  }

  Optional<ApiTokens> file() {
    return file;
  }

  CompletionStage<Verdict> authenticate(String token) {
    Optional<String> fromFile = file.flatMap(f -> f.nameOf(token));
    if (fromFile.isPresent()) return CompletableFuture.completedFuture(new Verdict(new Identity(fromFile.get(), Role.ADMIN, Optional.empty(), Credential.Kind.TOKEN), null));
    return lookUp(Credential.Kind.TOKEN, ApiTokens.sha256(token), "the bearer token is not one of this cluster's");
  }

  /** A client certificate the TLS handshake verified against the client CA: who it was registered as, if it was. */
  CompletionStage<Verdict> authenticate(X509Certificate certificate) {
    byte[] fingerprint = fingerprint(certificate);
    return lookUp(Credential.Kind.CERTIFICATE, fingerprint, "the client certificate " + certificate.getSubjectX500Principal().getName()
        + " (SHA-256 " + HexFormat.of().formatHex(fingerprint) + ") is not registered: berth token create --certificate FILE");
  }

  /** A certificate's SHA-256 fingerprint: of its DER bytes, as {@code openssl x509 -fingerprint -sha256} prints it. */
  static byte[] fingerprint(X509Certificate certificate) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 of a certificate: " + e.getMessage(), e);
    }
  }

  private CompletionStage<Verdict> lookUp(Credential.Kind kind, byte[] hash, String unknown) {
    long arrived = System.nanoTime();
    Held h = held;
    if (h != null && arrived - h.readAtNanos() < FRESH_NANOS) {
      Optional<IssuedToken> found = find(h.state(), kind, hash);
      if (found.isPresent()) return CompletableFuture.completedFuture(verdict(found, unknown));
    }
    // Unknown here (or what is held is stale): a read that began after this request arrived sees every token issued
    // before the client sent it, on whichever node it was issued. While the access log moves to another node (its
    // node died), a read waits for the ask's timeout; a request waits WAIT_NANOS at most, then what was read last
    // decides for a token it holds, and a token it does not hold is answered 503: it may have been issued meanwhile.
    return boundedRead(arrived).handle((fresh, error) -> {
      if (error == null) return verdict(find(fresh.state(), kind, hash), unknown);
      Optional<IssuedToken> found = lastRead().flatMap(last -> find(last, kind, hash));
      if (found.isPresent()) return verdict(found, unknown);
      throw unavailable(error);
    });
  }

  /** The access log's tokens, read now (what was read last when it does not answer in time). */
  CompletionStage<AccessState> readNow() {
    return boundedRead(System.nanoTime()).handle((fresh, error) -> {
      if (error == null) return fresh.state();
      return lastRead().orElseThrow(() -> unavailable(error));
    });
  }

  /** A read begun at or after {@code notBefore}, failed after WAIT_NANOS (its own copy: the shared read goes on). */
  private CompletableFuture<Held> boundedRead(long notBefore) {
    return readStartedAfter(notBefore).copy().orTimeout(WAIT_NANOS, TimeUnit.NANOSECONDS);
  }

  /** Reads the access log once now, so a node whose first requests come while it cannot be read has tokens to check. */
  void warm() {
    readStartedAfter(System.nanoTime());
  }

  private Optional<AccessState> lastRead() {
    Held h = held;
    return h == null ? Optional.empty() : Optional.of(h.state());
  }

  private static ProblemException unavailable(Throwable error) {
    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
    String why = cause instanceof java.util.concurrent.TimeoutException ? "it did not answer within " + WAIT_NANOS / 1_000_000_000L + " s"
        : cause.getMessage();
    return new ProblemException(Problem.of("access-log-unavailable", "Unavailable", 503,
        "the access log, which holds the tokens issued through the API, cannot be read now (" + why + ")", "Authorization",
        "try again after Retry-After (the tokens file's tokens work meanwhile)"));
  }

  /** Ages what was read, so the next request reads the access log again. */
  void invalidate() {
    Held h = held;
    if (h != null) held = new Held(h.state(), h.readAtNanos() - FRESH_NANOS);
  }

  /**
   * The access log's state as its answer to this node's issue or revoke gave it: held from now, so this node refuses a
   * token it revoked at once, and a read begun before (which may not have seen it) does not replace it.
   */
  void learned(AccessState state) {
    keep(new Held(state, System.nanoTime()));
  }

  /** Holds {@code h} unless what is held is newer. */
  private synchronized void keep(Held h) {
    if (held == null || h.readAtNanos() >= held.readAtNanos()) held = h;
  }

  /**
   * A read of the access log that began at or after {@code notBefore}. Callers share reads: at most one is under way
   * and one waits to begin after it (for those that arrived after the first began), so a flood of unknown tokens asks
   * the access log no more often than it answers.
   */
  private synchronized CompletableFuture<Held> readStartedAfter(long notBefore) {
    if (reading == null) return beginRead().done();
    if (reading.startedAt() >= notBefore) return reading.done();
    if (queued == null) queued = new CompletableFuture<>();
    return queued;
  }

  private record Reading(long startedAt, CompletableFuture<Held> done) {}

  /** Starts a read (holding the lock); when it ends, {@link #finish} starts the queued callers' one. */
  private Reading beginRead() {
    Reading r = new Reading(System.nanoTime(), new CompletableFuture<>());
    reading = r;
    read.get().whenComplete((state, error) -> finish(r, state, error));
    return r;
  }

  private void finish(Reading r, AccessState state, Throwable error) {
    if (error == null) {
      Held fresh = new Held(state, r.startedAt());
      keep(fresh);
      r.done().complete(fresh);
    } else {
      Held last = held;
      log.warn("the access log could not be read ({}); {}", error.toString(), last == null ? "this node has read no token of it yet"
          : "its tokens as read " + (System.nanoTime() - last.readAtNanos()) / 1_000_000_000L + " s ago stay in force");
      r.done().completeExceptionally(error);
    }
    CompletableFuture<Held> waiting;
    Reading next = null;
    synchronized (this) {
      waiting = queued;
      queued = null;
      reading = null;
      if (waiting != null) next = beginRead();
    }
    if (next != null) {
      next.done().whenComplete((h, failure) -> {
        if (failure == null) waiting.complete(h);
        else waiting.completeExceptionally(failure);
      });
    }
  }

  private Verdict verdict(Optional<IssuedToken> found, String unknown) {
    if (found.isEmpty()) return new Verdict(null, unknown);
    IssuedToken t = found.get();
    Instant now = clock.instant();
    if (t.expiredAt(now)) return new Verdict(null, t.credential().kind().wireName() + " " + t.name() + " expired at " + t.expiresAt().get());
    return new Verdict(new Identity(t.name(), t.role(), t.scope(), t.credential().kind()), null);
  }

  /**
   * Compares every credential's hash, each in constant time (how long a check takes says nothing of the tokens), and
   * its kind: a certificate's fingerprint is public, so it must never pass for a token's hash.
   */
  private static Optional<IssuedToken> find(AccessState state, Credential.Kind kind, byte[] hash) {
    byte[] wanted = HexFormat.of().formatHex(hash).getBytes(StandardCharsets.US_ASCII);
    Optional<IssuedToken> found = Optional.empty();
    for (IssuedToken t : state.tokens().values()) {
      boolean same = MessageDigest.isEqual(t.credential().sha256().getBytes(StandardCharsets.US_ASCII), wanted);
      if (same && t.credential().kind() == kind && found.isEmpty()) found = Optional.of(t);
    }
    return found;
  }
}
