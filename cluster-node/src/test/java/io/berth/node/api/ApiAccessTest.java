package io.berth.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.access.AccessEvent;
import io.berth.protocol.access.AccessState;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.Role;
import io.berth.protocol.event.CommandContext;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * How a node's API reads the access log: a token issued anywhere works at its first request, and unknown tokens
 * share reads instead of each asking the log. The access log here is a list of pending reads the test answers.
 */
class ApiAccessTest {
  private final List<CompletableFuture<AccessState>> reads = new ArrayList<>();
  private final AtomicReference<AccessState> log = new AtomicReference<>(AccessState.EMPTY);

  private ApiAccess access(boolean answerAtOnce) {
    return new ApiAccess(Optional.empty(), () -> {
      CompletableFuture<AccessState> f = new CompletableFuture<>();
      synchronized (reads) {
        reads.add(f);
      }
      if (answerAtOnce) f.complete(log.get());
      return f;
    }, Clock.systemUTC());
  }

  private void issue(String name, String token, Role role) {
    AccessState s = log.get();
    log.set(s.apply(new AccessEvent.TokenIssued(new CommandContext("root", "", "c-" + name).meta(Instant.now(), s.lastEventHash()), name,
        Credential.token(ApiTokens.hashOf(token).substring("sha256:".length())), role, Optional.empty(), Optional.empty())));
  }

  private static ApiAccess.Verdict verdict(CompletionStage<ApiAccess.Verdict> v) throws Exception {
    return v.toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void aTokenIssuedAfterTheLastReadWorksAtItsFirstRequest() throws Exception {
    ApiAccess access = access(true);
    issue("one", "token-one", Role.VIEWER);
    assertEquals("one", verdict(access.authenticate("token-one")).identity().name());
    issue("two", "token-two", Role.OPERATOR);
    ApiAccess.Verdict two = verdict(access.authenticate("token-two"));
    assertNotNull(two.identity(), "issued on another node just now: " + two.refusal());
    assertEquals(Role.OPERATOR, two.identity().role());
    int before = reads.size();
    verdict(access.authenticate("token-one"));
    assertEquals(before, reads.size(), "a known token within a second is answered from what was read");
  }

  @Test
  void unknownTokensArrivingTogetherShareReads() throws Exception {
    ApiAccess access = access(false);
    List<CompletionStage<ApiAccess.Verdict>> pending = new ArrayList<>();
    for (int i = 0; i < 50; i++) pending.add(access.authenticate("garbage-" + i));
    assertEquals(1, reads.size(), "one read under way for all of them");
    reads.get(0).complete(AccessState.EMPTY);
    // Those that arrived after the first read began wait for one more, which begins when it ends.
    assertEquals(2, reads.size(), "one more read for those that arrived while the first was under way");
    reads.get(1).complete(AccessState.EMPTY);
    for (var p : pending) assertNull(verdict(p).identity());
    assertEquals(2, reads.size());
  }

  @Test
  void whenTheLogCannotBeReadTheLastReadStaysAndWithoutOneTheAnswerIs503() throws Exception {
    ApiAccess access = access(false);
    var first = access.authenticate("token-one");
    reads.get(0).completeExceptionally(new RuntimeException("no singleton"));
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> verdict(first));
    assertTrue(e.getCause() instanceof ProblemException p && p.problem.status() == 503, String.valueOf(e.getCause()));

    issue("one", "token-one", Role.ADMIN);
    var second = access.authenticate("token-one");
    reads.get(1).complete(log.get());
    assertEquals("one", verdict(second).identity().name());
    access.invalidate();
    var third = access.authenticate("token-one");
    reads.get(2).completeExceptionally(new RuntimeException("no singleton"));
    assertEquals("one", verdict(third).identity().name(), "the tokens last read stay in force");
  }

  @Test
  void aCertificatesFingerprintNeverPassesForATokensHash() throws Exception {
    ApiAccess access = access(true);
    AccessState s = log.get();
    // A certificate is public: whoever has it could send the bytes whose SHA-256 is its fingerprint as a token.
    String bytesOfThePublicCertificate = "the-certificates-der-bytes";
    log.set(s.apply(new AccessEvent.TokenIssued(new CommandContext("root", "", "c-cert").meta(Instant.now(), s.lastEventHash()), "alice",
        Credential.certificate(ApiTokens.hashOf(bytesOfThePublicCertificate).substring("sha256:".length())), Role.ADMIN, Optional.empty(),
        Optional.empty())));
    assertNull(verdict(access.authenticate(bytesOfThePublicCertificate)).identity());
  }

  @Test
  void whileAReadDoesNotAnswerAKnownTokenIsServedFromTheLastReadAndAnUnknownOneIs503() throws Exception {
    ApiAccess access = access(false);
    issue("one", "token-one", Role.VIEWER);
    var first = access.authenticate("token-one");
    reads.get(0).complete(log.get());
    assertEquals("one", verdict(first).identity().name());
    access.invalidate();
    // The access log's node died: the read hangs until the ask's timeout, the request does not.
    long start = System.nanoTime();
    assertEquals("one", verdict(access.authenticate("token-one")).identity().name());
    assertTrue(System.nanoTime() - start >= ApiAccess.WAIT_NANOS, "it waited for the read first");
    // A token it does not hold may have been issued meanwhile: "not ours" would be a guess.
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> verdict(access.authenticate("token-two")));
    assertTrue(e.getCause() instanceof ProblemException p && p.problem.status() == 503 && p.problem.detail().contains("did not answer within 2 s"),
        String.valueOf(e.getCause()));
  }
}
