package io.berth.node.api;

import io.berth.protocol.access.Role;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Which role each route needs, and which routes a scoped token may use. Roles: {@code viewer} reads (every GET, and
 * verifying the audit chains, which changes nothing); {@code operator} also acts on containers; {@code admin} also on
 * hosts, templates and tokens (and reads the tokens). A scoped token is a tenant's: it may use the container routes
 * (for the containers its scope admits, but not to migrate or recover one, which chooses hosts), read the templates
 * it creates from, and read the event stream and the audit timeline, which show it its own containers' events only
 * ({@link TenantEvents}); nothing that shows the cluster's hosts or tokens, nor the verify of every chain.
 */
final class AccessRules {
  private AccessRules() {}

  static Role needs(String method, String template) {
    if (template.startsWith("/v1/tokens")) return Role.ADMIN;
    if (method.equals("GET") || template.equals("/v1/audit/verify")) return Role.VIEWER;
    if (template.startsWith("/v1/containers")) return Role.OPERATOR;
    return Role.ADMIN;
  }

  static boolean scopedMayUse(String method, String template) {
    // Moving a container and recovering it on another host choose hosts: the provider's call, not a tenant's.
    if (template.equals("/v1/containers/{id}/migrations") || template.equals("/v1/containers/{id}/recover")) return false;
    if (template.startsWith("/v1/containers")) return true;
    return method.equals("GET") && (template.equals("/v1/templates") || template.equals("/v1/events") || template.equals("/v1/audit/timeline"));
  }

  /** The 403 for a call the identity's role or scope does not allow, or null when it may make it. */
  static HttpResponse refusal(Endpoint e, ApiAccess.Identity who) {
    Role need = needs(e.method(), e.template());
    String call = e.method() + " " + e.template();
    if (!who.role().allows(need)) {
      return BerthRoutes.problem(BerthRoutes.forbidden(call + " needs the role " + need.wireName() + " or above; " + who.described()
          + " has the role " + who.role().wireName(), "role", "must be " + need.wireName() + " or above"));
    }
    if (who.scope().isPresent() && !scopedMayUse(e.method(), e.template())) {
      return BerthRoutes.problem(BerthRoutes.forbidden(who.described() + " is scoped to " + who.scope().get() + ": it may use the container "
          + "routes but migrations and recover, and GET /v1/templates, /v1/events and /v1/audit/timeline (its containers' events), not " + call, "scope", "must be a token without a scope"));
    }
    return null;
  }
}
