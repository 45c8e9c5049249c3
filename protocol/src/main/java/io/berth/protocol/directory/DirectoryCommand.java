package io.berth.protocol.directory;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import org.apache.pekko.actor.typed.ActorRef;

/** What the cluster directory (a singleton) is asked; {@code replyTo} last. */
public sealed interface DirectoryCommand extends BerthMessage {

  /** Places a new container and allocates its address; answered with {@link DirectoryReply.Allocated}. */
  record Allocate(ContainerSpec spec, CommandContext context, ActorRef<DirectoryReply> replyTo) implements DirectoryCommand {}

  /** Changes a container's limits if its host can take them; answered with {@link DirectoryReply.Done}. */
  record Resize(ContainerId container, Limits limits, CommandContext context, ActorRef<DirectoryReply> replyTo)
      implements DirectoryCommand {}

  /** Frees a destroyed (or never defined) container's share and address. */
  record Release(ContainerId container, CommandContext context, ActorRef<DirectoryReply> replyTo) implements DirectoryCommand {}

  /** The whole directory, for views and for placing shards; answered with {@link DirectoryReply.Snapshot}. */
  record Read(ActorRef<DirectoryReply> replyTo) implements DirectoryCommand {}
}
