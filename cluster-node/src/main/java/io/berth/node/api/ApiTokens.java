package io.berth.node.api;

import io.berth.protocol.InvalidFieldException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code berth.api.tokens-file}: the API's bearer tokens, a line {@code NAME sha256:HEX} each, where HEX is the
 * SHA-256 of the token: the file never holds a token, so reading it gives nobody access. The name is the principal
 * every event of the token's requests records. The file is read again when it changes (looked at no more than once
 * a second), so a line removed is a token revoked within a second on that node; a file that breaks a rule then is
 * refused with a warning and the previous tokens stay. Its tokens are admin tokens (see {@link ApiAccess}).
 */
public final class ApiTokens {
  private static final Logger log = LoggerFactory.getLogger(ApiTokens.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  static final String FIELD = "berth.api.tokens-file";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
  private static final Pattern LINE = Pattern.compile("(\\S+)\\s+sha256:([0-9a-f]{64})");

  record Entry(String name, byte[] hash) {}

  private record Snapshot(List<Entry> entries, long modified, long checkedAtNanos) {}

  private final Path file;
  private volatile Snapshot current;

  private ApiTokens(Path file, Snapshot first) {
    this.file = file;
    this.current = first;
  }

  /** Reads the file now: a missing, loose or malformed one fails the start, naming the setting and the line. */
  public static ApiTokens load(Path file) {
    return new ApiTokens(file, read(file));
  }

  /** The name of the token's line, or empty when no line holds its hash. */
  public Optional<String> nameOf(String token) {
    byte[] hash = sha256(token);
    Optional<String> found = Optional.empty();
    // Every line is compared, each in constant time: how long a check takes says nothing of the tokens.
    for (Entry e : snapshot().entries()) {
      if (MessageDigest.isEqual(e.hash(), hash) && found.isEmpty()) found = Optional.of(e.name());
    }
    return found;
  }

  /** The names of the file's tokens, in file order. */
  public List<String> names() {
    return snapshot().entries().stream().map(Entry::name).toList();
  }

  private Snapshot snapshot() {
    Snapshot s = current;
    long now = System.nanoTime();
    if (now - s.checkedAtNanos() < 1_000_000_000L) return s;
    try {
      long modified = Files.getLastModifiedTime(file).toMillis();
      if (modified == s.modified()) {
        current = new Snapshot(s.entries(), s.modified(), now);
      } else {
        current = read(file);
        log.info("{} {} changed: {} tokens", FIELD, file, current.entries().size());
      }
    } catch (IOException | InvalidFieldException e) {
      log.warn("{} {} could not be read again, the previous {} tokens stay: {}", FIELD, file, s.entries().size(), e.getMessage());
      current = new Snapshot(s.entries(), s.modified(), now);
    }
    return current;
  }

  private static Snapshot read(Path file) {
    List<Entry> entries = new ArrayList<>();
    try {
      for (PosixFilePermission p : Files.getPosixFilePermissions(file)) {
        if (p == PosixFilePermission.GROUP_WRITE || p == PosixFilePermission.OTHERS_WRITE) {
          throw new InvalidFieldException(FIELD, "must be writable by its owner only: whoever can write it can add a token", file);
        }
      }
      long modified = Files.getLastModifiedTime(file).toMillis();
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int n = 0; n < lines.size(); n++) {
        String line = lines.get(n).strip();
        if (line.isEmpty() || line.startsWith("#")) continue;
        var m = LINE.matcher(line);
        if (!m.matches() || !NAME.matcher(m.group(1)).matches()) {
          throw new InvalidFieldException(FIELD, "line " + (n + 1) + " must be 'NAME sha256:HEX' (a name of letters, digits and ._@:+-, the token's SHA-256 in lower-case hex)", file);
        }
        entries.add(new Entry(m.group(1), HexFormat.of().parseHex(m.group(2))));
      }
      if (entries.isEmpty()) throw new InvalidFieldException(FIELD, "must hold at least one token line", file);
      return new Snapshot(List.copyOf(entries), modified, System.nanoTime());
    } catch (IOException e) {
      throw new InvalidFieldException(FIELD, "must be a readable file: " + e, file);
    }
  }

  /** A new token: 256 random bits, base64url, after a prefix that says what it is (secret scanners look for one). */
  public static String newToken() {
    byte[] bits = new byte[32];
    RANDOM.nextBytes(bits);
    return "berth_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
  }

  /** The line a token gets in the file: {@code sha256:HEX}. */
  public static String hashOf(String token) {
    return "sha256:" + HexFormat.of().formatHex(sha256(token));
  }

  static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
