package io.berth.node.template;

import io.berth.isolation.IsolationLayer;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.template.TemplateCommand;
import io.berth.protocol.template.TemplateReply;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node: imports and lists templates in its host's store. Registered with the receptionist, so an
 * import asked of any node reaches every host ({@link ClusterTemplates}). Store work runs on the blocking
 * executor; the agent itself only dispatches.
 */
public final class TemplateAgent {
  public static final ServiceKey<TemplateCommand> KEY = ServiceKey.create(TemplateCommand.class, "berth-templates");

  private TemplateAgent() {}

  /** @param buildNetwork where a build's debootstrap reaches the archive ({@link BuildNetwork}) */
  public static Behavior<TemplateCommand> create(HostId host, IsolationLayer layer, Executor blocking, java.util.Optional<java.nio.file.Path> buildNetwork) {
    HostTemplates store = new HostTemplates(layer, buildNetwork);
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      return Behaviors.receiveMessage(message -> {
        if (message instanceof TemplateCommand.Import c) {
          CompletableFuture.supplyAsync(() -> store.importTemplate(c.name(), c.path()), blocking).whenComplete((info, error) ->
              c.replyTo().tell(error == null ? new TemplateReply.Imported(host, info) : failed(host, error)));
        } else if (message instanceof TemplateCommand.Build c) {
          // One build at a time per host would be the store's business; two at once only cost the machine twice.
          CompletableFuture.supplyAsync(() -> store.build(c.name(), c.distribution(), c.include()), blocking).whenComplete((built, error) ->
              c.replyTo().tell(error == null ? new TemplateReply.Built(host, built.info(), built.rootfs().toString()) : failed(host, error)));
        } else if (message instanceof TemplateCommand.List c) {
          CompletableFuture.supplyAsync(store::list, blocking).whenComplete((infos, error) ->
              c.replyTo().tell(error == null ? new TemplateReply.Listed(host, infos) : failed(host, error)));
        }
        return Behaviors.same();
      });
    });
  }

  private static TemplateReply failed(HostId host, Throwable error) {
    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof InvalidFieldException e) return new TemplateReply.Failed(host, e.field(), e.rule(), e.getMessage());
    return new TemplateReply.Failed(host, "", "", String.valueOf(cause.getMessage()));
  }
}
