package io.berth.protocol.directory;

import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.Limits;
import java.time.Instant;

/**
 * A change of one container's allocation under way: step 1 of one of the directory's sagas, held until the
 * container's entity settles it (confirmed: the allocation follows what the entity recorded; released: the
 * entity answered that it did not and will not carry it out). One per container at a time.
 *
 * @param number            the directory's number for it, in order: the entity refuses a request of an older one
 * @param kind              what it changes
 * @param host              where it holds capacity: the placed host (create), the container's own host (resize), the target (migrate)
 * @param limits            what it holds there: the new container's limits (create), the new limits (resize)
 * @param antiAffinityGroup the container's group ({@code ""} for none)
 * @param address           the address it holds (create), or the container's own (resize)
 * @param decision          placement's reason (create); {@code ""} otherwise
 * @param since             when it was reserved
 * @param correlationId     the correlation id of the operation that reserved it (its settlement carries it on)
 */
public record Reservation(long number, Kind kind, HostId host, Limits limits, String antiAffinityGroup, String address,
    String decision, Instant since, String correlationId) {

  public enum Kind {
    /** A new container: its name, capacity on its host and address are held. */
    CREATE,
    /** New limits: the host holds the larger of the current and the new ones until the entity settles it. */
    RESIZE,
    /** A move: the target holds the container's share too (its host is the target) until the entity settles it. */
    MIGRATE
  }
}
