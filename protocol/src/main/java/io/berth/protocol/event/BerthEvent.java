package io.berth.protocol.event;

import io.berth.protocol.BerthMessage;

/** A stored fact. Never edited once shipped: a changed event is a new type plus an upcaster (SERIALIZATION.md). */
public interface BerthEvent extends BerthMessage {
  EventMeta meta();
}
