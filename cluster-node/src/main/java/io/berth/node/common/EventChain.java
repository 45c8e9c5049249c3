package io.berth.node.common;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.event.EventHashes;
import io.berth.protocol.event.EventMeta;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Builds the events of one command, each linked to the one before it by {@link EventMeta#prevHash()}:
 * the first to the entity's chain head, the next ones to the event just made (the per-entity hash
 * chain that audit's verify recomputes).
 */
public final class EventChain<E extends BerthEvent> {
  private final Clock clock;
  private final CommandContext context;
  private final List<E> events = new ArrayList<>();
  private String head;

  public EventChain(Clock clock, CommandContext context, String head) {
    this.clock = clock;
    this.context = context;
    this.head = head;
  }

  public EventChain<E> add(Function<EventMeta, ? extends E> make) {
    E event = make.apply(context.meta(clock.instant(), head));
    head = EventHashes.hashOf(event);
    events.add(event);
    return this;
  }

  public List<E> events() {
    return List.copyOf(events);
  }
}
