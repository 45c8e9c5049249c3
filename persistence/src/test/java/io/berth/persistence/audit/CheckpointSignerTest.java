package io.berth.persistence.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The signing key's files: made once with mode 0600, read back as the same signer, refused when others can read it. */
class CheckpointSignerTest {
  @TempDir
  Path root;

  @Test
  void theKeyIsMadeAtFirstStartOwnerOnlyAndReadBackAsTheSameSigner() throws Exception {
    Path dir = root.resolve("audit");
    CheckpointSigner first = CheckpointSigner.loadOrCreate(dir, "node-1");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(CheckpointSigner.KEY_FILE))));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    assertTrue(first.name().matches("node-1:[0-9a-f]{16}"), first.name());
    CheckpointSigner again = CheckpointSigner.loadOrCreate(dir, "node-1");
    assertEquals(first.name(), again.name(), "the second start reads the key the first made");
    byte[] payload = {1, 2, 3};
    byte[] signature = again.sign(payload);
    assertEquals(64, signature.length);
    assertTrue(CheckpointSigner.verify(first.publicKey(), payload, signature));
    assertFalse(CheckpointSigner.verify(first.publicKey(), new byte[] {1, 2, 4}, signature), "another payload does not verify");
    assertFalse(CheckpointSigner.verify(first.publicKey(), payload, new byte[12]), "a malformed signature is false, not an exception");
  }

  @Test
  void aKeyOthersCanReadOrAKeyThatIsNotOneIsRefused() throws Exception {
    Path dir = root.resolve("audit");
    CheckpointSigner.loadOrCreate(dir, "node-1");
    Path key = dir.resolve(CheckpointSigner.KEY_FILE);
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalStateException open = assertThrows(IllegalStateException.class, () -> CheckpointSigner.loadOrCreate(dir, "node-1"));
    assertTrue(open.getMessage().contains("must be readable by its owner only (mode 0600), is rw-r--r--; chmod 600 " + key), open.getMessage());
    Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    Files.write(key, new byte[] {1, 2, 3});
    IllegalStateException garbled = assertThrows(IllegalStateException.class, () -> CheckpointSigner.loadOrCreate(dir, "node-1"));
    assertTrue(garbled.getMessage().contains("is not an Ed25519 key"), garbled.getMessage());
  }
}
