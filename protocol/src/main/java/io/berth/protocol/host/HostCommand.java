package io.berth.protocol.host;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.event.CommandContext;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/** What a host entity is asked to do; {@code replyTo} last. */
public sealed interface HostCommand extends BerthMessage {

  /** Who gets the answer (every command's last component). */
  ActorRef<HostReply> replyTo();

  /**
   * The node of this host started: registers its capacity, labels, address, {@code incarnation} (its member uid) and overcommit ratios.
   * A fenced host is answered with its fenced state and nothing is recorded: the node must empty the host and
   * {@link MarkRejoined} first.
   */
  record Register(HostCapacity capacity, Map<String, String> labels, String address, long incarnation, Overcommit overcommit,
      CommandContext context, ActorRef<HostReply> replyTo) implements HostCommand {}

  /**
   * The host's node measured what its containers use ({@link HostUsage}): kept by the entity for its answers to
   * {@link Get}, not recorded. Not answered (the node reports again in a few seconds).
   */
  record ReportUsage(HostUsage usage, ActorRef<HostReply> replyTo) implements HostCommand {}

  record Cordon(CommandContext context, ActorRef<HostReply> replyTo) implements HostCommand {}

  record Uncordon(CommandContext context, ActorRef<HostReply> replyTo) implements HostCommand {}

  /** Cordons the host and records the drain; a drain already under way is answered as it is. */
  record Drain(DrainMode mode, int parallel, CommandContext context, ActorRef<HostReply> replyTo) implements HostCommand {}

  /** The drain's driver found nothing more it can move: records the end, with what is left and why. */
  record MarkDrained(java.util.List<String> notMoved, CommandContext context, ActorRef<HostReply> replyTo) implements HostCommand {}

  /**
   * Records that the host's node incarnation {@code incarnation} is fenced (its containers are gone, on {@code evidence}).
   * Refused when a newer incarnation has registered meanwhile: the host came back before the fence was decided.
   */
  record MarkFenced(String by, String evidence, long incarnation, CommandContext context, ActorRef<HostReply> replyTo) implements HostCommand {}

  record MarkRejoined(CommandContext context, ActorRef<HostReply> replyTo) implements HostCommand {}

  /** Records what the host's watchdog or node fenced while it was cut off ({@link HostEvent.HostSelfFenced}); any phase. */
  record ReportSelfFence(String by, java.time.Instant fencedAt, java.time.Instant lastFedAt, long deadlineMillis, java.util.List<String> containers,
      boolean complete, long tookMillis, CommandContext context, ActorRef<HostReply> replyTo) implements HostCommand {}

  /** Records a copy the host's node removed because the log places its container elsewhere ({@link HostEvent.StrayCopyRemoved}). */
  record ReportStrayCopy(io.berth.protocol.ids.ContainerId container, String why, String found, boolean diskKept, CommandContext context,
      ActorRef<HostReply> replyTo) implements HostCommand {}

  record Get(ActorRef<HostReply> replyTo) implements HostCommand {}
}
