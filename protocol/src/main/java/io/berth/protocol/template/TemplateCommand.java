package io.berth.protocol.template;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.event.CommandContext;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a host's template agent is asked (one agent per node, found through the receptionist), so an
 * imported template reaches every host. {@code replyTo} last.
 */
public sealed interface TemplateCommand extends BerthMessage {

  /** Imports a directory or a tarball at {@code path} (on the host's filesystem) under {@code name}. */
  record Import(String name, String path, CommandContext context, ActorRef<TemplateReply> replyTo) implements TemplateCommand {}

  /**
   * Builds a template from a distribution ({@code debian-12}) with debootstrap, including the named packages,
   * into this host's store. Asked of one host (the one the request reached); the others then import what it built.
   */
  record Build(String name, String distribution, java.util.List<String> include, CommandContext context,
      ActorRef<TemplateReply> replyTo) implements TemplateCommand {}

  /** Lists the host's templates. */
  record List(ActorRef<TemplateReply> replyTo) implements TemplateCommand {}
}
