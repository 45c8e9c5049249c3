package io.berth.protocol.container;

import io.berth.protocol.ids.HostId;
import java.time.Instant;

/**
 * How a container's last migration ended, folded from its saga's events ({@code ct show}'s {@code lastMigration}).
 *
 * @param outcome        {@code completed} or {@code aborted}
 * @param frozenMillis   from the moment it stopped running on the source until it ran on the target, measured
 *                       by the source around CRIU (CRIU's own figures are wrong in lazy mode); 0 if it was not running
 * @param totalMillis    from the request to the end
 * @param bytes          what crossed the network: the disk pre-copy, the images and the disk's last delta
 * @param fallbackReason why a live move went cold; empty when it did not
 * @param cause          why it was aborted; empty when it completed
 * @param postCopied     its memory moved after it ran on the target (post-copy)
 * @param memoryLost     why its memory was lost on the way (post-copy cut short: it was started again from its disk); empty if not
 */
public record MigrationRecord(String migrationId, MigrationMode mode, HostId from, HostId to, String outcome, long frozenMillis,
    long totalMillis, long bytes, String fallbackReason, String cause, boolean postCopied, String memoryLost, Instant endedAt) {}
