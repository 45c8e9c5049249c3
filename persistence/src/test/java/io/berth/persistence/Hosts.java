package io.berth.persistence;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.berth.protocol.event.CommandContext;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/** Asking the test host entity, bounded. */
final class Hosts {
  private Hosts() {}

  static CommandContext ctx(String principal, String reason, String correlation) {
    return new CommandContext(principal, reason, correlation);
  }

  /** Registers on the first call, then alternates cordon and uncordon: event n is Registered, Cordoned, Uncordoned, Cordoned... */
  static CompletionStage<TestHostEntity.Reply> nth(ActorSystem<?> system, ActorRef<TestHostEntity.Command> host, int n, CommandContext c) {
    return AskPattern.ask(host, replyTo -> n == 1 ? new TestHostEntity.Register(c, replyTo)
        : n % 2 == 0 ? new TestHostEntity.Cordon(c, replyTo) : new TestHostEntity.Uncordon(c, replyTo), TestSystems.ASK, system.scheduler());
  }

  static TestHostEntity.Done done(CompletionStage<TestHostEntity.Reply> reply) {
    try {
      return assertInstanceOf(TestHostEntity.Done.class, reply.toCompletableFuture().get(TestSystems.ASK.toSeconds() + 5, TimeUnit.SECONDS),
          "the command was acknowledged as durable");
    } catch (Exception e) {
      throw new AssertionError("no acknowledgement within " + TestSystems.ASK.toSeconds() + " s", e);
    }
  }

  static Duration askTimeout() {
    return TestSystems.ASK;
  }
}
