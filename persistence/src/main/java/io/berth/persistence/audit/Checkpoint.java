package io.berth.persistence.audit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * A signed statement of one log's stored-bytes hashes: "the events {@code firstSeq}..{@code lastSeq} of
 * {@code persistenceId} had these link hashes when {@code signer} read them at {@code signedAt}". Its last hash is
 * the log's head then. Whoever can write the journal can rewrite an event and recompute every later link, but not
 * sign: {@code audit verify} compares each event's hash now with the signed one and names the first that differs.
 *
 * <p>The hashes of every event of the range, not only the head, are signed so that verify names the exact event that
 * was changed rather than a range of them; they cost 32 bytes an event.
 *
 * @param hashes    the link hashes (hex) of events firstSeq..lastSeq, in order
 * @param signature Ed25519 over {@link #payload()}
 */
public record Checkpoint(String persistenceId, long firstSeq, long lastSeq, String signer, Instant signedAt, List<String> hashes,
    byte[] signature) {
  /** The first line of every payload: a format marker, so a signature over other bytes is never taken for one. */
  static final String FORMAT = "berth-audit-checkpoint:1";
  private static final HexFormat HEX = HexFormat.of();

  public Checkpoint {
    hashes = List.copyOf(hashes);
    signature = signature == null ? new byte[0] : signature.clone();
  }

  /** The bytes signed: the format, the log, the range, the signer, the time, then each hash. */
  public byte[] payload() {
    return payload(persistenceId, firstSeq, lastSeq, signer, signedAt, hashes);
  }

  static byte[] payload(String persistenceId, long firstSeq, long lastSeq, String signer, Instant signedAt, List<String> hashes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128 + 32 * hashes.size());
    String header = FORMAT + "\n" + persistenceId + "\n" + firstSeq + "\n" + lastSeq + "\n" + signer + "\n" + signedAt.toEpochMilli() + "\n";
    out.writeBytes(header.getBytes(StandardCharsets.UTF_8));
    for (String h : hashes) out.writeBytes(HEX.parseHex(h));
    return out.toByteArray();
  }

  /** The hash of event {@code seq}, which this checkpoint covers. */
  String hashAt(long seq) {
    return hashes.get((int) (seq - firstSeq));
  }

  boolean covers(long seq) {
    return seq >= firstSeq && seq <= lastSeq;
  }

  String head() {
    return hashes.get(hashes.size() - 1);
  }

  /** Empty when the hashes cover exactly the range claimed; otherwise what is wrong. */
  String formatProblem() {
    if (firstSeq < 1 || lastSeq < firstSeq) return "its range " + firstSeq + ".." + lastSeq + " is not a range of sequence numbers";
    if (hashes.size() != lastSeq - firstSeq + 1) {
      return "it claims " + firstSeq + ".." + lastSeq + " (" + (lastSeq - firstSeq + 1) + " events) but holds " + hashes.size() + " hashes";
    }
    return "";
  }

  /** Digests as the store keeps them: 32 raw bytes each. */
  static byte[] pack(List<String> hashes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(32 * hashes.size());
    for (String h : hashes) out.writeBytes(HEX.parseHex(h));
    return out.toByteArray();
  }

  /** The inverse of {@link #pack}; a blob whose length is not a multiple of 32 is malformed. */
  static List<String> unpack(byte[] packed) {
    if (packed.length % 32 != 0) throw new IllegalArgumentException("hashes: " + packed.length + " bytes, not a whole number of 32-byte SHA-256 digests");
    String[] out = new String[packed.length / 32];
    for (int i = 0; i < out.length; i++) out[i] = HEX.formatHex(packed, 32 * i, 32 * i + 32);
    return List.of(out);
  }

  @Override
  public String toString() {
    return "checkpoint of " + persistenceId + " " + firstSeq + ".." + lastSeq + " by " + signer + " at " + signedAt;
  }
}
