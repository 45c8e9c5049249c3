package io.berth.node.template;

import io.berth.node.directory.Directory;
import io.berth.node.ops.BerthOperations.TemplateView;
import io.berth.node.ops.ClusterOperations;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.event.CommandContext;
import io.berth.protocol.template.TemplateCommand;
import io.berth.protocol.template.TemplateInfo;
import io.berth.protocol.template.TemplateReply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Templates across the cluster: an import is asked of every host's {@link TemplateAgent} and succeeds only
 * when every host has it; a listing merges what the hosts hold. The path must be readable on each host (the
 * local cluster shares one filesystem; a real cluster uses shared storage until templates are streamed
 * between hosts with the transfer layer).
 */
public final class ClusterTemplates implements ClusterOperations.Templates {
  static final Duration FIND = Duration.ofSeconds(5);
  static final Duration LIST = Duration.ofSeconds(30);
  static final Duration IMPORT = Duration.ofMinutes(10);
  /** debootstrap's own bound and a margin: the API's request timeout (5 min) must leave room for the import after it. */
  static final Duration BUILD = Duration.ofMinutes(4);

  private final ActorSystem<?> system;

  public ClusterTemplates(ActorSystem<?> system) {
    this.system = system;
  }

  @Override
  public CompletionStage<List<TemplateView>> list() {
    return agents().thenCompose(agents -> {
      List<CompletableFuture<TemplateReply>> replies = ask(agents, TemplateCommand.List::new, LIST);
      return CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).handle((v, e) -> {
        Map<String, TemplateView> byNameAndDigest = new TreeMap<>();
        for (CompletableFuture<TemplateReply> r : replies) {
          if (r.isCompletedExceptionally() || !(r.join() instanceof TemplateReply.Listed listed)) continue;
          for (TemplateInfo t : listed.templates()) {
            byNameAndDigest.merge(t.name() + " " + t.digest(), view(t), (a, b) -> a.importedAt().isBefore(b.importedAt()) ? a : b);
          }
        }
        return List.copyOf(byNameAndDigest.values());
      });
    });
  }

  @Override
  public CompletionStage<TemplateView> importTemplate(String name, Path source, CommandContext context) {
    return agents().thenCompose(agents -> {
      if (agents.isEmpty()) return CompletableFuture.failedFuture(new IllegalStateException("no host's template agent is reachable"));
      long hosts = upHosts();
      if (agents.size() < hosts) {
        return CompletableFuture.failedFuture(new IllegalStateException("import template " + name + ": only " + agents.size()
            + " of " + hosts + " hosts' template agents answer; try again"));
      }
      List<CompletableFuture<TemplateReply>> replies =
          ask(agents, r -> new TemplateCommand.Import(name, source.toString(), context, r), IMPORT);
      return CompletableFuture.allOf(replies.toArray(CompletableFuture[]::new)).handle((v, e) -> {
        List<String> failures = new ArrayList<>();
        TemplateView done = null;
        for (CompletableFuture<TemplateReply> r : replies) {
          TemplateReply reply;
          try {
            reply = r.join();
          } catch (RuntimeException error) {
            failures.add("a host did not answer: " + error.getMessage());
            continue;
          }
          if (reply instanceof TemplateReply.Imported i) done = view(i.template());
          if (reply instanceof TemplateReply.Failed f) {
            // Bad input is refused alike by every host: report it as such.
            if (!f.field().isEmpty()) throw new InvalidFieldException(f.field(), f.rule(), source.toString());
            failures.add(f.host() + ": " + f.message());
          }
        }
        if (!failures.isEmpty()) {
          throw new IllegalStateException("import template " + name + " failed on " + failures.size() + " of " + replies.size()
              + " hosts: " + String.join("; ", failures));
        }
        return done;
      });
    });
  }

  /**
   * A build runs on this node's host alone (debootstrap takes most of a minute and a few hundred MB: once is
   * enough), then every host imports the built tree from where it lies here, as an import of a directory does;
   * the builder's own host finds the digest it holds and only names it.
   */
  @Override
  public CompletionStage<TemplateView> buildTemplate(io.berth.isolation.template.TemplateBuild build, CommandContext context) {
    return agents().thenCompose(agents -> {
      ActorRef<TemplateCommand> local = agents.stream().filter(a -> a.path().address().hasLocalScope()).findFirst().orElse(null);
      if (local == null) return CompletableFuture.failedFuture(new IllegalStateException("build template " + build.name()
          + ": this node's template agent is not registered yet; try again"));
      return AskPattern.<TemplateCommand, TemplateReply>ask(local, r -> new TemplateCommand.Build(build.name(), build.distribution().name(),
              build.include(), context, r), BUILD, system.scheduler())
          .thenCompose(reply -> {
            if (reply instanceof TemplateReply.Built b) return importTemplate(build.name(), Path.of(b.rootfs()), context);
            if (reply instanceof TemplateReply.Failed f && !f.field().isEmpty()) throw new InvalidFieldException(f.field(), f.rule(), build.name());
            String why = reply instanceof TemplateReply.Failed f ? f.message() : String.valueOf(reply);
            throw new IllegalStateException("build template " + build.name() + " on " + (reply instanceof TemplateReply.Failed f ? f.host() : "this host")
                + ": " + why);
          });
    });
  }

  /**
   * Every host's agent. The receptionist learns of agents by gossip, so a listing taken just after a node
   * joined may lack it: ask again (bounded) until there is one agent per member that is up.
   */
  private CompletionStage<Set<ActorRef<TemplateCommand>>> agents() {
    return findAgents(System.nanoTime() + FIND.toNanos());
  }

  private CompletionStage<Set<ActorRef<TemplateCommand>>> findAgents(long deadline) {
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
            r -> Receptionist.find(TemplateAgent.KEY, r), FIND, system.scheduler())
        .thenCompose(listing -> {
          // One agent per member that is up, counted by where each runs: a listing can also hold the agent of a member
          // that has left (until gossip removes it), which a bare count would take for a host's.
          Set<org.apache.pekko.actor.Address> up = upMemberAddresses();
          Set<ActorRef<TemplateCommand>> agents = new java.util.HashSet<>();
          Set<org.apache.pekko.actor.Address> covered = new java.util.HashSet<>();
          for (ActorRef<TemplateCommand> a : listing.getServiceInstances(TemplateAgent.KEY)) {
            org.apache.pekko.actor.Address at = a.path().address().hasLocalScope() ? Cluster.get(system).selfMember().address() : a.path().address();
            if (up.contains(at) && covered.add(at)) agents.add(a);
          }
          if (covered.containsAll(up) || System.nanoTime() > deadline) return CompletableFuture.completedFuture(agents);
          return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(200, java.util.concurrent.TimeUnit.MILLISECONDS))
              .thenCompose(v -> findAgents(deadline));
        });
  }

  private Set<org.apache.pekko.actor.Address> upMemberAddresses() {
    Set<org.apache.pekko.actor.Address> up = new java.util.HashSet<>();
    for (var m : hostMembers()) up.add(m.address());
    return up;
  }

  /**
   * The members an import must reach: every host that is up and every host still joining. A joining member is a
   * host that will run containers; counted out (as {@link Directory#upHosts} does), an import asked while this node
   * still saw the third host joining reached two hosts and answered done (ThreeNodeTest saw the third lack the
   * name). Counted in, the import waits for its agent and, if it is not there within {@link #FIND}, fails with
   * "try again" rather than report done without it.
   */
  private List<org.apache.pekko.cluster.Member> hostMembers() {
    List<org.apache.pekko.cluster.Member> hosts = new ArrayList<>();
    for (var m : Cluster.get(system).state().getMembers()) {
      var status = m.status();
      boolean host = status == org.apache.pekko.cluster.MemberStatus.up() || status == org.apache.pekko.cluster.MemberStatus.weaklyUp()
          || status == org.apache.pekko.cluster.MemberStatus.joining();
      if (host && Directory.hostOf(m).isPresent()) hosts.add(m);
    }
    return hosts;
  }

  private List<CompletableFuture<TemplateReply>> ask(Set<ActorRef<TemplateCommand>> agents,
      org.apache.pekko.japi.function.Function<ActorRef<TemplateReply>, TemplateCommand> make, Duration timeout) {
    List<CompletableFuture<TemplateReply>> replies = new ArrayList<>();
    for (ActorRef<TemplateCommand> agent : agents) {
      replies.add(AskPattern.ask(agent, make, timeout, system.scheduler()).toCompletableFuture());
    }
    return replies;
  }

  /** How many hosts' members are up or joining: each should have an agent. */
  private long upHosts() {
    return hostMembers().size();
  }

  private static TemplateView view(TemplateInfo t) {
    return new TemplateView(t.name(), t.digest(), t.bytes(), t.importedAt());
  }
}
