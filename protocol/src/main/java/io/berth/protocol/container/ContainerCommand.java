package io.berth.protocol.container;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a container entity is asked to do. Each changing command carries its {@link CommandContext}
 * (principal, reason, correlation id) and is answered with a {@link ContainerReply} once the outcome is
 * durable. {@code replyTo} is the last field (Pekko style guide).
 */
public sealed interface ContainerCommand extends BerthMessage {

  /** Who gets the answer (every command's last component). */
  ActorRef<ContainerReply> replyTo();

  /**
   * Defines the container on the host placement chose (the entity runs there), with the address the
   * cluster allocated and placement's reason; with {@code start}, starts it too (one intent, one answer
   * once it runs).
   */
  record Define(
      ContainerSpec spec,
      HostId host,
      String placementDecision,
      String address,
      int prefixLength,
      boolean start,
      CommandContext context,
      ActorRef<ContainerReply> replyTo)
      implements ContainerCommand {}

  record Start(CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  /** SIGTERM to the init, SIGKILL after {@code timeoutMillis}. */
  record Stop(long timeoutMillis, CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  record Kill(int signal, CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  record SetLimits(Limits limits, CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  record Destroy(CommandContext context, ActorRef<ContainerReply> replyTo) implements ContainerCommand {}

  record Migrate(HostId target, MigrationMode mode, CommandContext context, ActorRef<ContainerReply> replyTo)
      implements ContainerCommand {}

  /** Runs {@code argv} inside the running container; answered with {@link ContainerReply.ExecResult}. */
  record Exec(List<String> argv, long timeoutMillis, CommandContext context, ActorRef<ContainerReply> replyTo)
      implements ContainerCommand {}

  /** Answered with {@link ContainerReply.Done} carrying the current state (which may be {@code Empty}). */
  record Get(ActorRef<ContainerReply> replyTo) implements ContainerCommand {}
}
