package io.berth.protocol.access;

import io.berth.protocol.access.AccessEvent.TokenIssued;
import io.berth.protocol.access.AccessEvent.TokenRevoked;
import io.berth.protocol.event.EventHashes;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The tokens in force (issued and not revoked), by name, sorted so it serializes the same every time, and the head of
 * the access log's hash chain. The fold is pure, like the entities'.
 */
public record AccessState(Map<String, IssuedToken> tokens, String lastEventHash) implements io.berth.protocol.BerthMessage {
  public static final AccessState EMPTY = new AccessState(Map.of(), "");

  public AccessState {
    tokens = Collections.unmodifiableMap(new TreeMap<>(tokens));
  }

  public AccessState apply(AccessEvent event) {
    TreeMap<String, IssuedToken> next = new TreeMap<>(tokens);
    if (event instanceof TokenIssued e) {
      next.put(e.name(), new IssuedToken(e.name(), e.credential(), e.role(), e.scope(), e.expiresAt(), e.meta().at(), e.meta().principal()));
    } else if (event instanceof TokenRevoked e) {
      next.remove(e.name());
    }
    return new AccessState(next, EventHashes.hashOf(event));
  }
}
