package io.berth.protocol.directory;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.reply.Rejection;

/** What the cluster directory answers, after its events are durable. */
public sealed interface DirectoryReply extends BerthMessage {

  /** Placement's decision and the allocated address. */
  record Allocated(HostId host, String decision, String address, int prefixLength) implements DirectoryReply {}

  record Done(DirectoryState state) implements DirectoryReply {}

  record Snapshot(DirectoryState state) implements DirectoryReply {}

  record Refused(Rejection rejection) implements DirectoryReply {}
}
