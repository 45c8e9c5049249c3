package io.berth.persistence.audit;

import io.berth.protocol.event.EventHashes;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Set;

/**
 * The node's checkpoint signing key: Ed25519, kept in files under the node's data root and never in Cassandra, so
 * whoever can write the journal cannot sign. Made at the node's first start: {@code checkpoint-signing.key} (PKCS#8,
 * mode 0600, in a 0700 directory) and {@code checkpoint-signing.pub} (X.509). The signer's name is the host id and
 * the key's fingerprint ({@code node-1:3f2a...}), so a host that lost its key and made another is a new signer and
 * the checkpoints the old key signed still verify.
 */
public final class CheckpointSigner {
  public static final String KEY_FILE = "checkpoint-signing.key";
  public static final String PUBLIC_FILE = "checkpoint-signing.pub";
  static final String ALGORITHM = "Ed25519";
  /** An Ed25519 signature is always 64 bytes (RFC 8032 5.1.6). */
  static final int SIGNATURE_BYTES = 64;
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private final String name;
  private final PrivateKey privateKey;
  private final PublicKey publicKey;

  private CheckpointSigner(String name, PrivateKey privateKey, PublicKey publicKey) {
    this.name = name;
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** Reads the key in {@code dir}, or makes one there when there is none. */
  public static CheckpointSigner loadOrCreate(Path dir, String host) {
    Path key = dir.resolve(KEY_FILE);
    Path pub = dir.resolve(PUBLIC_FILE);
    try {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      if (!Files.exists(key)) create(key, pub);
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(key);
      if (!OWNER_ONLY.containsAll(mode)) {
        throw new IllegalStateException("audit signing key " + key + ": must be readable by its owner only (mode 0600), is "
            + PosixFilePermissions.toString(mode) + "; chmod 600 " + key);
      }
      if (!Files.exists(pub)) throw new IllegalStateException("audit signing key " + key + " has no public key beside it (" + pub + ")");
      KeyFactory f = KeyFactory.getInstance(ALGORITHM);
      PrivateKey privateKey = f.generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(key)));
      PublicKey publicKey = f.generatePublic(new X509EncodedKeySpec(Files.readAllBytes(pub)));
      CheckpointSigner signer = new CheckpointSigner(nameOf(host, publicKey), privateKey, publicKey);
      signer.checkPair(key, pub);
      return signer;
    } catch (IOException e) {
      throw new IllegalStateException("audit signing key in " + dir + ": " + e, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("audit signing key " + key + " or " + pub + " is not an Ed25519 key: " + e.getMessage(), e);
    }
  }

  private static void create(Path key, Path pub) throws IOException, GeneralSecurityException {
    KeyPair pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    // Written aside with mode 0600 from the first byte, then moved into place: a crash leaves no half key.
    writeAtomically(pub, pair.getPublic().getEncoded(), PosixFilePermissions.fromString("rw-r--r--"));
    writeAtomically(key, pair.getPrivate().getEncoded(), OWNER_ONLY);
  }

  private static void writeAtomically(Path target, byte[] bytes, Set<PosixFilePermission> mode) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".new");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    Files.write(tmp, bytes);
    Files.setPosixFilePermissions(tmp, mode);
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** {@code host:fingerprint}, the fingerprint being the first 16 hex digits of the public key's SHA-256. */
  static String nameOf(String host, PublicKey key) {
    return host + ":" + fingerprint(key.getEncoded());
  }

  static String fingerprint(byte[] encodedPublicKey) {
    return EventHashes.link(encodedPublicKey).substring(0, 16);
  }

  private void checkPair(Path key, Path pub) throws GeneralSecurityException {
    byte[] probe = "berth: does the key match its public key".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (!verify(publicKey, probe, sign(probe))) {
      throw new IllegalStateException("audit signing key " + key + " does not match the public key " + pub + " beside it");
    }
  }

  public String name() {
    return name;
  }

  public PublicKey publicKey() {
    return publicKey;
  }

  byte[] sign(byte[] payload) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(privateKey);
      s.update(payload);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("sign with the audit key of " + name + ": " + e.getMessage(), e);
    }
  }

  /** Whether {@code signature} is {@code key}'s over {@code payload}; a malformed signature is false. */
  static boolean verify(PublicKey key, byte[] payload, byte[] signature) {
    if (signature.length != SIGNATURE_BYTES) return false;
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(key);
      s.update(payload);
      return s.verify(signature);
    } catch (java.security.SignatureException e) {
      return false;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("verify an Ed25519 signature: " + e.getMessage(), e);
    }
  }

  /** A recorded public key, or why it is not one. */
  static PublicKey publicKey(String signer, byte[] encoded) {
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(encoded));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("the public key recorded for signer " + signer + " is not an Ed25519 key (" + encoded.length + " bytes)", e);
    }
  }
}
