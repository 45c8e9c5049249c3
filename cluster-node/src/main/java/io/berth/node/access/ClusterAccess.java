package io.berth.node.access;

import io.berth.protocol.access.AccessCommand;
import io.berth.protocol.access.AccessReply;
import io.berth.protocol.access.AccessState;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.Role;
import io.berth.protocol.access.TokenScope;
import io.berth.protocol.event.CommandContext;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;

/** The access log as the operations reach it: the singleton started on every node, asked with a bounded wait. */
public final class ClusterAccess {
  private static final Duration ASK = Duration.ofSeconds(10);

  private final ActorSystem<?> system;
  private final ActorRef<AccessCommand> log;

  private ClusterAccess(ActorSystem<?> system, ActorRef<AccessCommand> log) {
    this.system = system;
    this.log = log;
  }

  public static ClusterAccess start(ActorSystem<?> system, java.time.Clock clock) {
    ActorRef<AccessCommand> log = ClusterSingleton.get(system).init(SingletonActor.of(
        AccessLog.create(clock, io.berth.persistence.BerthTags::tagsFor), "access"));
    return new ClusterAccess(system, log);
  }

  public CompletionStage<AccessState> tokens() {
    return AskPattern.<AccessCommand, AccessReply>ask(log, AccessCommand.Read::new, ASK, system.scheduler())
        .thenApply(r -> ((AccessReply.Snapshot) r).state());
  }

  public CompletionStage<AccessReply> issue(String name, Credential credential, Role role, Optional<TokenScope> scope, Optional<Instant> expiresAt,
      CommandContext context) {
    return AskPattern.ask(log, replyTo -> new AccessCommand.Issue(name, credential, role, scope, expiresAt, context, replyTo), ASK, system.scheduler());
  }

  public CompletionStage<AccessReply> revoke(String name, CommandContext context) {
    return AskPattern.ask(log, replyTo -> new AccessCommand.Revoke(name, context, replyTo), ASK, system.scheduler());
  }
}
