package io.berth.node.api;

import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.access.Role;
import io.berth.protocol.access.TokenScope;
import io.berth.protocol.event.CommandContext;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * One request as a handler sees it: path parameters, query, the body (already read within the size limit) and
 * the command context built from the headers.
 */
final class Call {
  static final String PRINCIPAL = "X-Berth-Principal";
  static final String REASON = "X-Berth-Reason";
  static final String CORRELATION = "X-Correlation-Id";

  final HttpRequest request;
  final Map<String, String> params;
  final String body;
  private final String defaultPrincipal;
  /** Who the request's credentials name, or null when the API takes none. */
  private final ApiAccess.Identity identity;

  Call(HttpRequest request, Map<String, String> params, String body, String defaultPrincipal) {
    this(request, params, body, defaultPrincipal, null);
  }

  Call(HttpRequest request, Map<String, String> params, String body, String defaultPrincipal, ApiAccess.Identity identity) {
    this.request = request;
    this.params = params;
    this.body = body;
    this.defaultPrincipal = defaultPrincipal;
    this.identity = identity;
  }

  /** The containers the caller's token is limited to; empty when it reaches all (or the API takes no credentials). */
  Optional<TokenScope> scope() {
    return identity == null ? Optional.empty() : identity.scope();
  }

  /** How a refusal names the caller: {@code token ci}, {@code certificate ops-alice}, or its principal without credentials. */
  String described() {
    return identity == null ? "principal " + context().principal() : identity.described();
  }

  /** The caller's role: admin when the API takes no credentials (whoever reaches it may do anything). */
  Role role() {
    return identity == null ? Role.ADMIN : identity.role();
  }

  String param(String name) {
    return params.get(name);
  }

  Optional<String> query(String name) {
    return request.getUri().query().get(name);
  }

  Optional<String> header(String name) {
    return request.getHeader(name).map(h -> h.value());
  }

  <T> T body(Class<T> type) {
    return Json.read(body, type);
  }

  /**
   * Who asks and why: validated like the event meta it becomes, the header named when it breaks a rule. With
   * credentials the principal is who they name; without, the client's {@code X-Berth-Principal} or the node's user.
   */
  CommandContext context() {
    String principal = identity != null ? identity.name() : header(PRINCIPAL).orElse(defaultPrincipal);
    String reason = header(REASON).orElse("");
    String correlation = header(CORRELATION).orElse("");
    try {
      return new CommandContext(principal, reason, correlation);
    } catch (InvalidFieldException e) {
      String field = switch (e.field()) {
        case "principal" -> PRINCIPAL;
        case "reason" -> REASON;
        case "correlationId" -> CORRELATION;
        default -> e.field();
      };
      throw new InvalidFieldException(field, e.rule(), switch (field) {
        case PRINCIPAL -> principal;
        case REASON -> reason.length() + " characters";
        default -> correlation;
      });
    }
  }
}
