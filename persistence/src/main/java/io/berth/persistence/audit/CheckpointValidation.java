package io.berth.persistence.audit;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Sorts one log's stored checkpoints into the valid ones (well-formed, signed by a recorded signer whose key's
 * fingerprint is the one in its name, the signature verifying) and the first problem among the others. Pure.
 */
final class CheckpointValidation {
  final List<Checkpoint> valid = new ArrayList<>();
  /** The problem of the lowest checkpoint that is not valid, if any. */
  Optional<ChainReport.Broken> problem = Optional.empty();

  private CheckpointValidation() {}

  static CheckpointValidation of(String persistenceId, List<CheckpointStore.Stored> stored, Signers signers) {
    CheckpointValidation v = new CheckpointValidation();
    List<CheckpointStore.Stored> ascending = new ArrayList<>(stored);
    ascending.sort(Comparator.comparingLong(CheckpointStore.Stored::lastSeq).thenComparing(CheckpointStore.Stored::signer));
    for (CheckpointStore.Stored s : ascending) {
      String what = "the checkpoint of " + persistenceId + " up to " + s.lastSeq() + " by " + s.signer();
      if (s.checkpoint().isEmpty()) {
        v.fail(persistenceId, s.lastSeq(), ChainCheck.CHECKPOINT_FORMAT, what + " is malformed: " + s.malformed());
        continue;
      }
      Checkpoint c = s.checkpoint().get();
      String format = c.formatProblem();
      if (!format.isEmpty()) {
        v.fail(persistenceId, s.lastSeq(), ChainCheck.CHECKPOINT_FORMAT, what + " is malformed: " + format);
        continue;
      }
      Signers.Key key = signers.of(c.signer());
      if (!key.problem().isEmpty()) {
        v.fail(persistenceId, s.lastSeq(), ChainCheck.UNKNOWN_SIGNER, what + ": " + key.problem());
        continue;
      }
      if (c.signature().length != CheckpointSigner.SIGNATURE_BYTES) {
        v.fail(persistenceId, s.lastSeq(), ChainCheck.SIGNATURE, what + ": its signature is malformed (" + c.signature().length
            + " bytes; an Ed25519 signature has " + CheckpointSigner.SIGNATURE_BYTES + ")");
        continue;
      }
      if (!CheckpointSigner.verify(key.key(), c.payload(), c.signature())) {
        v.fail(persistenceId, s.lastSeq(), ChainCheck.SIGNATURE, what + ": its signature does not verify under the signer's public key"
            + " (the checkpoint was edited or forged)");
        continue;
      }
      v.valid.add(c);
    }
    return v;
  }

  private void fail(String persistenceId, long seq, ChainCheck check, String problem) {
    if (this.problem.isEmpty()) this.problem = Optional.of(new ChainReport.Broken(persistenceId, seq, check, problem));
  }

  /** The recorded signers' public keys, decoded once per run. */
  static final class Signers {
    record Key(PublicKey key, String problem) {}

    private final Map<String, byte[]> encoded;
    private final Map<String, Key> decoded = new HashMap<>();

    Signers(Map<String, byte[]> encoded) {
      this.encoded = Map.copyOf(encoded);
    }

    synchronized Key of(String signer) {
      return decoded.computeIfAbsent(signer, this::decode);
    }

    private Key decode(String signer) {
      byte[] bytes = encoded.get(signer);
      if (bytes == null) return new Key(null, "no public key is recorded for signer " + signer + " in " + CheckpointStore.SIGNERS);
      int colon = signer.lastIndexOf(':');
      String fingerprint = CheckpointSigner.fingerprint(bytes);
      if (colon < 0 || !signer.substring(colon + 1).equals(fingerprint)) {
        return new Key(null, "the public key recorded for signer " + signer + " has fingerprint " + fingerprint
            + ", not the one in the signer's name (the recorded key was replaced)");
      }
      try {
        return new Key(CheckpointSigner.publicKey(signer, bytes), "");
      } catch (IllegalArgumentException e) {
        return new Key(null, e.getMessage());
      }
    }
  }
}
