package io.berth.protocol.serialization;

import static io.berth.protocol.serialization.ValueCodecs.readMeta;
import static io.berth.protocol.serialization.ValueCodecs.writeMeta;
import static io.berth.protocol.serialization.Wire.readRequiredString;
import static io.berth.protocol.serialization.Wire.writeString;

import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.access.AccessEvent.TokenIssued;
import io.berth.protocol.access.AccessEvent.TokenRevoked;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.Role;
import io.berth.protocol.access.TokenScope;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Version 1 of every {@link io.berth.protocol.access.AccessEvent}; frozen like {@link ContainerEventFormats}. */
final class AccessEventFormats {
  private AccessEventFormats() {}

  static final EventFormat<TokenIssued> TOKEN_ISSUED = EventFormat.of(TokenIssued.class, 1,
      (out, e) -> {
        writeMeta(out, e.meta());
        writeString(out, e.name());
        Wire.writeEnumName(out, e.credential().kind());
        writeString(out, e.credential().sha256());
        Wire.writeEnumName(out, e.role());
        writeScope(out, e.scope());
        Wire.writeBoolean(out, e.expiresAt().isPresent());
        e.expiresAt().ifPresent(at -> Wire.writeInstantMillis(out, at));
      },
      in -> new TokenIssued(readMeta(in), readRequiredString(in, "name"), readCredential(in),
          Wire.readEnumName(in, "role", Role.class), readScope(in),
          Wire.readBoolean(in, "expiresAt") ? Optional.of(Wire.readInstantMillis(in, "expiresAt")) : Optional.<Instant>empty()));

  static final EventFormat<TokenRevoked> TOKEN_REVOKED = EventFormat.of(TokenRevoked.class, 1,
      (out, e) -> { writeMeta(out, e.meta()); writeString(out, e.name()); },
      in -> new TokenRevoked(readMeta(in), readRequiredString(in, "name")));

  static final List<EventFormat<?>> ALL = List.of(TOKEN_ISSUED, TOKEN_REVOKED);

  private static Credential readCredential(Input in) {
    Credential.Kind kind = Wire.readEnumName(in, "credential", Credential.Kind.class);
    String sha256 = readRequiredString(in, "hash");
    try {
      return new Credential(kind, sha256);
    } catch (InvalidFieldException e) {
      throw new WireFormatException("hash", e.getMessage());
    }
  }

  private static void writeScope(Output out, Optional<TokenScope> scope) {
    Wire.writeBoolean(out, scope.isPresent());
    scope.ifPresent(s -> {
      writeString(out, s.key());
      writeString(out, s.value());
    });
  }

  private static Optional<TokenScope> readScope(Input in) {
    if (!Wire.readBoolean(in, "scope")) return Optional.empty();
    String key = readRequiredString(in, "scope.key");
    String value = readRequiredString(in, "scope.value");
    try {
      return Optional.of(new TokenScope(key, value));
    } catch (InvalidFieldException e) {
      throw new WireFormatException("scope", e.getMessage());
    }
  }
}
