package io.berth.protocol.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.access.AccessEvent.TokenIssued;
import io.berth.protocol.access.AccessEvent.TokenRevoked;
import io.berth.protocol.event.EventHashes;
import io.berth.protocol.event.EventMeta;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AccessFoldTest {
  static final Instant AT = Instant.parse("2026-12-04T03:00:00Z");
  static final String HASH = "ab".repeat(32);

  static EventMeta meta(String prev) {
    return new EventMeta(AT, "alice", "for CI", "corr-1", prev);
  }

  @Test
  void issuedTokensAreInForceUntilRevokedAndTheChainHeadFollowsEveryEvent() {
    TokenIssued issued = new TokenIssued(meta(""), "ci", Credential.token(HASH), Role.OPERATOR, Optional.of(new TokenScope("owner", "acme")),
        Optional.of(AT.plusSeconds(3600)));
    AccessState s1 = AccessState.EMPTY.apply(issued);
    IssuedToken t = s1.tokens().get("ci");
    assertEquals(Role.OPERATOR, t.role());
    assertEquals("owner=acme", t.scope().orElseThrow().toString());
    assertEquals("alice", t.issuedBy(), "who issued it is the event's principal");
    assertEquals(AT, t.issuedAt());
    assertEquals(EventHashes.hashOf(issued), s1.lastEventHash());
    assertFalse(t.expiredAt(AT.plusSeconds(3599)));
    assertTrue(t.expiredAt(AT.plusSeconds(3600)), "expired from its expiry on");

    TokenRevoked revoked = new TokenRevoked(meta(s1.lastEventHash()), "ci");
    AccessState s2 = s1.apply(revoked);
    assertTrue(s2.tokens().isEmpty());
    assertEquals(EventHashes.hashOf(revoked), s2.lastEventHash());
    assertEquals(AccessState.EMPTY.tokens(), s2.tokens(), "a revoked name is free again");
  }

  @Test
  void rolesRankAndParseByTheirWireNames() {
    assertTrue(Role.ADMIN.allows(Role.OPERATOR));
    assertTrue(Role.OPERATOR.allows(Role.VIEWER));
    assertFalse(Role.VIEWER.allows(Role.OPERATOR));
    assertFalse(Role.OPERATOR.allows(Role.ADMIN));
    assertEquals(Role.VIEWER, Role.parse("role", "viewer"));
    InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> Role.parse("role", "root"));
    assertEquals("role", e.field());
    assertTrue(e.getMessage().contains("viewer, operator or admin"), e.getMessage());
  }

  @Test
  void aScopeIsOneLabelWithTheLabelsRules() {
    TokenScope acme = TokenScope.parse("scope", "owner=acme").orElseThrow();
    assertTrue(acme.admits(Map.of("owner", "acme", "tier", "web")));
    assertFalse(acme.admits(Map.of("owner", "globex")));
    assertFalse(acme.admits(Map.of()));
    assertTrue(TokenScope.parse("scope", "").isEmpty());
    for (String bad : new String[] {"owner", "=acme", "owner=", "Owner=acme", "owner=a b"}) {
      InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> TokenScope.parse("scope", bad), bad);
      assertEquals("scope", e.field(), bad);
    }
  }

  @Test
  void aTokensNameIsAPrincipalAndItsHashASha256() {
    assertThrows(InvalidFieldException.class, () -> new IssuedToken("a b", Credential.token(HASH), Role.ADMIN, null, null, AT, "x"));
    assertEquals("hash", assertThrows(InvalidFieldException.class, () -> Credential.token("sha256:" + HASH)).field());
    assertEquals("credential", assertThrows(InvalidFieldException.class, () -> new Credential(null, HASH)).field());
    assertThrows(InvalidFieldException.class, () -> new IssuedToken("ci", null, Role.ADMIN, null, null, AT, "x"));
  }
}
