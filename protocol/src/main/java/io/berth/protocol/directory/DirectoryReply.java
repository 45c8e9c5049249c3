package io.berth.protocol.directory;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;
import java.util.Optional;

/** What the cluster directory answers, after its events are durable. */
public sealed interface DirectoryReply extends BerthMessage {

  record Done(DirectoryState state) implements DirectoryReply {}

  record Snapshot(DirectoryState state) implements DirectoryReply {}

  /** The host {@code container} runs on or is being created on; empty when the directory does not know the name. */
  record Located(ContainerId container, Optional<HostId> host) implements DirectoryReply {}

  record Refused(Rejection rejection) implements DirectoryReply {}
}
