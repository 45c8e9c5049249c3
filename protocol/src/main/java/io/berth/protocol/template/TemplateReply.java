package io.berth.protocol.template;

import io.berth.protocol.BerthMessage;
import io.berth.protocol.ids.HostId;

/** What a host's template agent answers. */
public sealed interface TemplateReply extends BerthMessage {

  record Imported(HostId host, TemplateInfo template) implements TemplateReply {}

  /** Built into the host's store: {@code rootfs} is where it lies on that host, for the others to import. */
  record Built(HostId host, TemplateInfo template, String rootfs) implements TemplateReply {}

  record Listed(HostId host, java.util.List<TemplateInfo> templates) implements TemplateReply {}

  /**
   * The host could not do it. {@code field} and {@code rule} are set when the input broke a rule (then every
   * host refuses alike), empty when the host itself failed.
   */
  record Failed(HostId host, String field, String rule, String message) implements TemplateReply {}
}
