package io.berth.protocol.host;

import io.berth.protocol.event.BerthEvent;
import io.berth.protocol.event.EventMeta;
import java.util.Map;

/**
 * Everything that happens to a host, in its own log (persistence id {@code host|<id>}). What is allocated
 * on a host is not here: it is derived from the container events.
 *
 * <p>These types are stored: never edit one that has shipped. Add a new type and an upcaster.
 */
public sealed interface HostEvent extends BerthEvent {

  /**
   * The node started (or restarted) on this host and offers this capacity, with these overcommit ratios (its
   * settings). {@code incarnation}: the node's cluster member uid (each JVM start has its own; 0 when recorded
   * before incarnations were), which a fence names.
   */
  record HostRegistered(EventMeta meta, HostCapacity capacity, Map<String, String> labels, String address, long incarnation,
      Overcommit overcommit) implements HostEvent {
    public HostRegistered {
      java.util.Objects.requireNonNull(overcommit, "overcommit");
    }

    /** As recorded before overcommit existed: caps were reservations. */
    public HostRegistered(EventMeta meta, HostCapacity capacity, Map<String, String> labels, String address, long incarnation) {
      this(meta, capacity, labels, address, incarnation, Overcommit.NONE);
    }

    public HostRegistered(EventMeta meta, HostCapacity capacity, Map<String, String> labels, String address) {
      this(meta, capacity, labels, address, 0);
    }
  }

  /** No new containers are placed here. */
  record HostCordoned(EventMeta meta) implements HostEvent {}

  record HostUncordoned(EventMeta meta) implements HostEvent {}

  /**
   * Every container is to be moved off this host ({@code mode}: live, cold or stop in place), {@code parallel} at
   * a time; it is cordoned meanwhile. The drain is driven from this record, so it resumes after any node's crash.
   */
  record DrainRequested(EventMeta meta, DrainMode mode, int parallel) implements HostEvent {}

  /**
   * The drain ended: every container is off the host (or stopped, for {@code stop}) but those in {@code notMoved},
   * each "name: why".
   */
  record HostDrained(EventMeta meta, java.util.List<String> notMoved) implements HostEvent {}

  /**
   * The host lost the cluster and its containers were made sure to be gone; {@code by} recorded it, on the
   * {@code evidence} (who saw it unreachable since when, the split brain resolver's decision, the watchdog's bound),
   * for the node incarnation {@code incarnation} (0: not named, as recorded before incarnations were).
   */
  record HostFenced(EventMeta meta, String by, String evidence, long incarnation) implements HostEvent {
    public HostFenced(EventMeta meta, String by) {
      this(meta, by, "", 0);
    }
  }

  /**
   * What the host did to itself when it lost the cluster, reported by its node when it came back (a host cut off
   * cannot write to the log at the time): {@code by} "watchdog" (the node stopped feeding it, or was dead or hung)
   * or "node" (it learned it was downed); at {@code fencedAt} it froze and killed {@code containers}, having last been
   * fed at {@code lastFedAt} under a deadline of {@code deadlineMillis}; {@code complete}: every process was gone
   * within the bound ({@code tookMillis} after the fence began).
   */
  record HostSelfFenced(EventMeta meta, String by, java.time.Instant fencedAt, java.time.Instant lastFedAt, long deadlineMillis,
      java.util.List<String> containers, boolean complete, long tookMillis) implements HostEvent {
    public HostSelfFenced {
      containers = java.util.List.copyOf(containers);
    }
  }

  /** A fenced host came back, empty, and may take containers again. */
  record HostRejoined(EventMeta meta) implements HostEvent {}

  /**
   * The host's node removed a copy of {@code container} its kernel held although the log placed the container
   * elsewhere ({@code why}), found by the sweep of the running node ({@code found} "sweep") or by the host's return
   * after it was fenced ("return"); {@code diskKept}: the copy's disk image was on shared storage and stays, its
   * container's host's; otherwise it was a local disk and went with the copy. A report of the past, like
   * {@link HostSelfFenced}: the host's phase does not change.
   */
  record StrayCopyRemoved(EventMeta meta, io.berth.protocol.ids.ContainerId container, String why, String found, boolean diskKept)
      implements HostEvent {}
}
