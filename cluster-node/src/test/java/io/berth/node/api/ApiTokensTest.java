package io.berth.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.protocol.InvalidFieldException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tokens file's rules: each broken one names the setting and the line; a token is found by its hash only. */
class ApiTokensTest {

  private static Path file(Path dir, String text, String mode) throws Exception {
    Path f = dir.resolve("tokens-" + System.nanoTime());
    Files.writeString(f, text);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
    return f;
  }

  private static void refused(Path f, String rule) {
    InvalidFieldException e = assertThrows(InvalidFieldException.class, () -> ApiTokens.load(f));
    assertEquals("berth.api.tokens-file", e.field());
    assertTrue(e.getMessage().contains(rule), e.getMessage());
  }

  @Test
  void aTokenIsKnownByTheHashOfItsLineAndNothingElse(@TempDir Path dir) throws Exception {
    ApiTokens t = ApiTokens.load(file(dir, "# comment\n\nci " + ApiTokens.hashOf("s3cret") + "\nops " + ApiTokens.hashOf("other") + "\n", "rw-------"));
    assertEquals(Optional.of("ci"), t.nameOf("s3cret"));
    assertEquals(Optional.of("ops"), t.nameOf("other"));
    assertEquals(Optional.empty(), t.nameOf("s3cre"));
    assertEquals(Optional.empty(), t.nameOf(ApiTokens.hashOf("s3cret")), "the hash itself is no token");
    assertEquals(Optional.empty(), t.nameOf(""));
  }

  @Test
  void aBrokenFileIsRefusedNamingTheSettingAndTheLine(@TempDir Path dir) throws Exception {
    refused(dir.resolve("missing"), "readable file");
    refused(file(dir, "ci " + ApiTokens.hashOf("x") + "\n", "rw-rw-rw-"), "writable by its owner only");
    refused(file(dir, "# nothing\n", "rw-------"), "at least one token line");
    refused(file(dir, "ci s3cret\n", "rw-------"), "line 1 must be 'NAME sha256:HEX'");
    refused(file(dir, "ci " + ApiTokens.hashOf("x") + "\nbad/name " + ApiTokens.hashOf("y") + "\n", "rw-------"), "line 2");
    refused(file(dir, "ci sha256:" + "A".repeat(64) + "\n", "rw-------"), "lower-case hex");
  }
}
