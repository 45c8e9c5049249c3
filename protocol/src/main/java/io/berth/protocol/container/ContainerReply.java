package io.berth.protocol.container;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.reply.Rejection;
import java.util.List;

/** What a container entity answers. Sent only after the events of the outcome are durable. */
public sealed interface ContainerReply extends BerthMessage {

  /** The command was carried out; the container's state afterwards. */
  record Done(ContainerState state) implements ContainerReply {}

  /** The command was refused and nothing was persisted, or the operation failed (then it is in the log). */
  record Refused(Rejection rejection) implements ContainerReply {}

  /** The outcome of {@link ContainerCommand.Exec}. Output is capped; {@code truncated} says so. */
  record ExecResult(int exitCode, String stdout, String stderr, boolean truncated) implements ContainerReply {}

  /** Answer to a request for several containers (used by listing). */
  record States(List<ContainerState> states) implements ContainerReply {}
}
