package io.berth.persistence.audit;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Takes signed checkpoints of every Berth log's head. For each log it continues from the newest valid checkpoint (any
 * signer's): the rows after it must link to its head, and then their hashes are signed as the next checkpoint. A log
 * whose new rows do not link is not signed (its chain is broken: signing it would bless the break) and is reported.
 * The first checkpoint of a log signs it from event 1 as it is found: rows written before checkpoints existed are
 * only as trustworthy as their chain was when first signed.
 */
public final class Checkpointer {
  /** One log's outcome in a round. */
  public sealed interface Outcome {
    String persistenceId();

    record Signed(String persistenceId, long firstSeq, long lastSeq) implements Outcome {}

    record Unchanged(String persistenceId, long lastSeq) implements Outcome {}

    /** Not signed: the rows after the last checkpoint do not hold. */
    record Refused(String persistenceId, ChainReport.Broken why) implements Outcome {}
  }

  /** What one round did. */
  public record Round(List<Outcome> outcomes) {
    public long signed() {
      return outcomes.stream().filter(o -> o instanceof Outcome.Signed).count();
    }

    public List<Outcome.Refused> refused() {
      return outcomes.stream().filter(o -> o instanceof Outcome.Refused).map(o -> (Outcome.Refused) o).toList();
    }
  }

  /** How many of a log's newest checkpoints a round reads first. */
  private static final int NEWEST = 4;

  private final ActorSystem<?> system;
  private final AuditService audit;
  private final CheckpointSigner signer;
  private final Clock clock;
  private volatile boolean keyRecorded;

  public Checkpointer(ActorSystem<?> system, AuditService audit, CheckpointSigner signer, Clock clock) {
    this.system = system;
    this.audit = audit;
    this.signer = signer;
    this.clock = clock;
  }

  public String signer() {
    return signer.name();
  }

  /** Records this signer's public key, then checkpoints every log that grew since its last checkpoint. */
  public CompletionStage<Round> round() {
    return signers().thenCompose(signers ->
        audit.berthLogs().mapAsync(2, pid -> checkpoint(pid, signers)).runWith(Sink.seq(), system).thenApply(Round::new));
  }

  /** Checkpoints one log (for tests and the round). */
  public CompletionStage<Outcome> checkpoint(String persistenceId) {
    return signers().thenCompose(signers -> checkpoint(persistenceId, signers));
  }

  /** The recorded signers, this one's key recorded first (once per node: the name carries the key's fingerprint). */
  private CompletionStage<CheckpointValidation.Signers> signers() {
    CompletionStage<org.apache.pekko.Done> recorded = keyRecorded ? CompletableFuture.completedFuture(org.apache.pekko.Done.getInstance())
        : audit.checkpoints().recordSigner(signer.name(), signer.publicKey()).thenApply(d -> {
          keyRecorded = true;
          return d;
        });
    return recorded.thenCompose(d -> audit.checkpoints().signers()).thenApply(CheckpointValidation.Signers::new);
  }

  private CompletionStage<Outcome> checkpoint(String persistenceId, CheckpointValidation.Signers signers) {
    // The newest few first: each round reads only the last checkpoints of a log, not its whole history of them;
    // only when none of those is valid (edited or forged rows on top) does it read them all.
    return audit.checkpoints().newest(persistenceId, NEWEST)
        .thenCompose(few -> CheckpointValidation.of(persistenceId, few, signers).valid.isEmpty() && few.size() == NEWEST
            ? audit.checkpoints().of(persistenceId) : CompletableFuture.completedFuture(few))
        .thenCompose(stored -> {
      List<Checkpoint> valid = CheckpointValidation.of(persistenceId, stored, signers).valid;
      Checkpoint newest = valid.stream().max(java.util.Comparator.comparingLong(Checkpoint::lastSeq)).orElse(null);
      long from = newest == null ? 0 : newest.lastSeq();
      String head = newest == null ? "" : newest.head();
      return audit.rows().rows(persistenceId, from + 1)
          .runWith(Sink.fold(ChainVerifier.from(persistenceId, audit.rows(), from, head), ChainVerifier::accept), system)
          .thenCompose(v -> {
            if (v.result() instanceof ChainReport.Broken b) {
              return CompletableFuture.completedFuture(new Outcome.Refused(persistenceId, b));
            }
            if (v.lastSequenceNr() == from) return CompletableFuture.completedFuture(new Outcome.Unchanged(persistenceId, from));
            java.time.Instant at = clock.instant();
            List<String> hashes = v.hashes();
            byte[] payload = Checkpoint.payload(persistenceId, from + 1, v.lastSequenceNr(), signer.name(), at, hashes);
            Checkpoint c = new Checkpoint(persistenceId, from + 1, v.lastSequenceNr(), signer.name(), at, hashes, signer.sign(payload));
            return audit.checkpoints().write(c).thenApply(done -> (Outcome) new Outcome.Signed(persistenceId, c.firstSeq(), c.lastSeq()));
          });
    });
  }
}
