package io.berth.protocol.container;

import java.time.Instant;

/**
 * An intent persisted but whose outcome is not yet: the operation in progress. After recovery the
 * entity reconciles it against what the kernel reports.
 */
public record Pending(Operation operation, String correlationId, Instant since) {}
