package io.berth.bench.cli;

import io.berth.node.ops.BerthOperations;
import io.berth.protocol.container.ContainerData;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.TemplateRef;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * What the CLI benchmark serves behind the real routes: a fixed list of running containers, answered at once,
 * so the figure is the CLI's own cost (JVM start, HTTP, JSON, table) and not the cluster's. Every other
 * operation fails (the API answers 503); the benchmark does not call them.
 */
final class ListOnlyOperations implements BerthOperations {
  private final List<ContainerState> containers = new ArrayList<>();

  ListOnlyOperations(int count) {
    Instant t = Instant.parse("2025-01-31T12:00:00Z");
    for (int i = 0; i < count; i++) {
      ContainerSpec spec = new ContainerSpec(ContainerId.of("web-" + i), TemplateRef.of("busybox"), null, List.of("/bin/sleep", "1000"),
          new Limits(500, 64L << 20, 0, 128), null, null, null);
      ContainerData data = new ContainerData(spec, Optional.of(HostId.of("host-" + (i % 3 + 1))), "198.18.1." + (10 + i), 16,
          Optional.empty(), Optional.empty(), "", 0, 0, "", t, Optional.empty());
      containers.add(new ContainerState.Running(data, 1000 + i, t));
    }
  }

  @Override
  public CompletionStage<List<ContainerState>> list() {
    return CompletableFuture.completedFuture(containers);
  }

  private static <T> CompletionStage<T> notHere() {
    return CompletableFuture.failedFuture(new UnsupportedOperationException("not served by the CLI benchmark"));
  }

  @Override
  public CompletionStage<ContainerReply> create(ContainerSpec spec, boolean start, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerReply> start(ContainerId id, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerReply> stop(ContainerId id, long timeoutMillis, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerReply> kill(ContainerId id, int signal, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerReply> destroy(ContainerId id, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerReply> setLimits(ContainerId id, Limits limits, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerReply> setCheckpointSchedule(ContainerId id, java.time.Duration every, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<CheckpointView> checkpoints(ContainerId id) {
    return CompletableFuture.completedFuture(CheckpointView.NONE);
  }

  @Override
  public CompletionStage<ContainerReply> recover(ContainerId id, boolean fromCheckpoint, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerReply> migrate(ContainerId id, java.util.Optional<HostId> target, java.util.Optional<MigrationMode> mode,
      io.berth.protocol.container.PostCopy postCopy, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerReply> exec(ContainerId id, List<String> argv, long timeoutMillis, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerState> get(ContainerId id) {
    return notHere();
  }

  @Override
  public CompletionStage<List<HostView>> hosts() {
    return notHere();
  }

  @Override
  public CompletionStage<HostReply> host(HostId id) {
    return notHere();
  }

  @Override
  public CompletionStage<HostReply> cordon(HostId id, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<HostReply> drain(HostId id, io.berth.protocol.host.DrainMode mode, int parallel, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<HostReply> markDrained(HostId id, java.util.List<String> notMoved, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<HostReply> uncordon(HostId id, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<io.berth.protocol.access.AccessState> accessTokens() {
    return CompletableFuture.completedFuture(access);
  }

  /** The access log the API reads: empty, as on a fresh cluster, unless a benchmark registers tokens in it. */
  volatile io.berth.protocol.access.AccessState access = io.berth.protocol.access.AccessState.EMPTY;

  @Override
  public CompletionStage<io.berth.protocol.access.AccessReply> issueToken(String name, io.berth.protocol.access.Credential credential, io.berth.protocol.access.Role role,
      java.util.Optional<io.berth.protocol.access.TokenScope> scope, java.util.Optional<java.time.Instant> expiresAt, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<io.berth.protocol.access.AccessReply> revokeToken(String name, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<List<TemplateView>> templates() {
    return notHere();
  }

  @Override
  public CompletionStage<TemplateView> importTemplate(String name, Path source, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<TemplateView> buildTemplate(io.berth.isolation.template.TemplateBuild build, CommandContext context) {
    return notHere();
  }

  @Override
  public CompletionStage<List<AuditEntry>> history(EntityRef entity, long fromSeqNr, int limit) {
    return notHere();
  }

  @Override
  public CompletionStage<List<AuditEntry>> timeline(Instant since, Instant until, int limit) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerState> containerAt(ContainerId id, Instant at) {
    return notHere();
  }

  @Override
  public CompletionStage<ContainerState> containerBefore(ContainerId id, long sequenceNr) {
    return notHere();
  }

  @Override
  public CompletionStage<VerifyReport> verify(Optional<EntityRef> entity) {
    return notHere();
  }

  @Override
  public Source<AuditEntry, NotUsed> events(Optional<String> offset) {
    return Source.failed(new UnsupportedOperationException("not served by the CLI benchmark"));
  }
}
