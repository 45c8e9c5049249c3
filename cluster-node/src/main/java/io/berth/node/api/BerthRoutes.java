package io.berth.node.api;

import io.berth.node.ops.BerthOperations;
import io.berth.node.ops.BerthOperations.EntityRef;
import io.berth.node.ops.BerthOperations.HostView;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.access.AccessReply;
import io.berth.protocol.access.Credential;
import io.berth.protocol.access.IssuedToken;
import io.berth.protocol.access.Role;
import io.berth.protocol.access.TokenScope;
import io.berth.protocol.container.ContainerReply;
import io.berth.protocol.container.ContainerState;
import io.berth.protocol.event.EventMeta;
import io.berth.protocol.host.HostReply;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;

/**
 * The REST API, {@code /v1}: maps HTTP to {@link BerthOperations} and its answers to JSON. Every input is
 * validated here before any operation is called, so bad input persists nothing; every error is a problem
 * detail (RFC 9457) naming the field and the rule. The routes are a table ({@link #endpoints()}) that the
 * OpenAPI document is checked against.
 */
public final class BerthRoutes extends AllDirectives {
  /** The largest request body accepted; bigger ones get 413 before anything is parsed. */
  public static final long MAX_BODY_BYTES = 256 * 1024;
  static final ContentType PROBLEM_JSON = ContentTypes.create(MediaTypes.applicationWithFixedCharset("problem+json",
      org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8));
  static final ContentType JSON_LINES = ContentTypes.create(MediaTypes.applicationWithFixedCharset("jsonl",
      org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8));
  private static final Duration SSE_HEARTBEAT = Duration.ofSeconds(15);
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BerthRoutes.class);
  private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");

  /** What a 503 asks the client to wait before trying again: about the journal's health probe and its reconnect. */
  static final int RETRY_AFTER_SECONDS = 5;
  /** Set on a read answered while the journal is down: its value says why (from what the nodes hold, maybe stale). */
  public static final String POSSIBLY_STALE = "Berth-Possibly-Stale";

  private final BerthOperations ops;
  private final String defaultPrincipal;
  /** With tokens every route but the OpenAPI document needs one, the principal is its name and its role decides. */
  private final Optional<ApiAccess> access;
  private final Clock clock;
  private final List<X509Certificate> clientCas;
  private final byte[] openApi;
  private final List<Endpoint> endpoints;

  public BerthRoutes(BerthOperations ops, String defaultPrincipal) {
    this(ops, defaultPrincipal, Optional.empty(), Clock.systemUTC());
  }

  public BerthRoutes(BerthOperations ops, String defaultPrincipal, Optional<ApiTokens> tokens) {
    this(ops, defaultPrincipal, tokens, List.of(), Clock.systemUTC());
  }

  /** With {@code clientCas}: the CA a client certificate registered with POST /v1/tokens must chain to. */
  public BerthRoutes(BerthOperations ops, String defaultPrincipal, Optional<ApiTokens> tokens, List<X509Certificate> clientCas) {
    this(ops, defaultPrincipal, tokens, clientCas, Clock.systemUTC());
  }

  BerthRoutes(BerthOperations ops, String defaultPrincipal, Clock clock) {
    this(ops, defaultPrincipal, Optional.empty(), clock);
  }

  BerthRoutes(BerthOperations ops, String defaultPrincipal, Optional<ApiTokens> tokens, Clock clock) {
    this(ops, defaultPrincipal, tokens, List.of(), clock);
  }

  BerthRoutes(BerthOperations ops, String defaultPrincipal, Optional<ApiTokens> tokens, List<X509Certificate> clientCas, Clock clock) {
    this.ops = ops;
    this.clientCas = List.copyOf(clientCas);
    this.access = tokens.map(file -> new ApiAccess(Optional.of(file), ops::accessTokens, clock));
    this.access.ifPresent(ApiAccess::warm);
    // Checked once, at start, as a request's principal would be.
    this.defaultPrincipal = new io.berth.protocol.event.CommandContext(defaultPrincipal, "", "start").principal();
    this.clock = clock;
    this.openApi = loadOpenApi();
    this.endpoints = table();
  }

  /** The principal for requests without {@code X-Berth-Principal}: the node's OS user, when it is a valid name. */
  public static String osPrincipal() {
    String user = System.getProperty("user.name", "");
    return PRINCIPAL.matcher(user).matches() ? user : "operator";
  }

  /** Every route served, as "METHOD /template". */
  public List<String> endpoints() {
    return endpoints.stream().map(e -> e.method() + " " + e.template()).toList();
  }

  public Route route() {
    return handleExceptions(ExceptionHandler.newBuilder().matchAny(t -> complete(problem(toProblem(t)))).build(),
        () -> extractRequest(req -> extractMaterializer(mat -> completeWithFuture(dispatch(req, mat)))));
  }

  // --- the table ---------------------------------------------------------------------------------

  private List<Endpoint> table() {
    List<Endpoint> t = new ArrayList<>();
    t.add(new Endpoint("GET", "/v1/status", this::status));
    t.add(new Endpoint("GET", "/v1/openapi.json", c -> done(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, openApi))));
    t.add(new Endpoint("GET", "/v1/containers", this::listContainers));
    t.add(new Endpoint("POST", "/v1/containers", this::create));
    t.add(new Endpoint("GET", "/v1/containers/{id}", this::showContainer));
    t.add(new Endpoint("DELETE", "/v1/containers/{id}", c -> containerReply(ops.destroy(cid(c), c.context()), 200)));
    t.add(new Endpoint("POST", "/v1/containers/{id}/start", c -> {
      noBody(c);
      return containerReply(ops.start(cid(c), c.context()), 200);
    }));
    t.add(new Endpoint("POST", "/v1/containers/{id}/stop", c -> {
      long timeout = Validation.stopTimeout(c.body(Requests.Stop.class));
      return containerReply(ops.stop(cid(c), timeout, c.context()), 200);
    }));
    t.add(new Endpoint("POST", "/v1/containers/{id}/kill", c -> {
      int signal = Validation.signal(c.body(Requests.Kill.class));
      return containerReply(ops.kill(cid(c), signal, c.context()), 200);
    }));
    t.add(new Endpoint("POST", "/v1/containers/{id}/exec", c -> {
      Requests.Exec body = c.body(Requests.Exec.class);
      List<String> argv = Validation.execCommand(body);
      long timeout = Validation.execTimeout(body);
      return containerReply(ops.exec(cid(c), argv, timeout, c.context()), 200);
    }));
    t.add(new Endpoint("POST", "/v1/containers/{id}/migrations", c -> {
      Requests.Migrate body = c.body(Requests.Migrate.class);
      var target = body.to() == null ? java.util.Optional.<HostId>empty() : java.util.Optional.of(Validation.hostId("to", body.to()));
      var mode = Validation.migrationMode(body.mode());
      var postCopy = Validation.postCopy(body.postCopy(), mode);
      return containerReply(ops.migrate(cid(c), target, mode, postCopy, c.context()), 202);
    }));
    t.add(new Endpoint("POST", "/v1/containers/{id}/recover", c -> {
      Requests.Recover body = c.body(Requests.Recover.class);
      String from = body.from() == null ? "" : body.from();
      if (!from.equals("empty") && !from.equals("checkpoint")) {
        throw new io.berth.protocol.InvalidFieldException("from", "must be empty (a new disk) or checkpoint", body.from());
      }
      return containerReply(ops.recover(cid(c), from.equals("checkpoint"), c.context()), 202);
    }));
    t.add(new Endpoint("PUT", "/v1/containers/{id}/limits", c -> {
      Limits limits = Validation.limits(c.body(Requests.LimitsBody.class), Limits.DEFAULT);
      return setLimits(c, current -> limits);
    }));
    t.add(new Endpoint("PATCH", "/v1/containers/{id}/limits", this::patchLimits));
    t.add(new Endpoint("PUT", "/v1/containers/{id}/checkpoint-schedule", c -> {
      java.time.Duration every = Validation.checkpointEvery(c.body(Requests.CheckpointSchedule.class));
      return containerReply(ops.setCheckpointSchedule(cid(c), every, c.context()), 200);
    }));
    t.add(new Endpoint("GET", "/v1/containers/{id}/history", c -> history(c, EntityRef.container(cid(c)))));
    t.add(new Endpoint("GET", "/v1/hosts", this::listHosts));
    t.add(new Endpoint("GET", "/v1/hosts/{id}", this::showHost));
    t.add(new Endpoint("POST", "/v1/hosts/{id}/cordon", c -> {
      noBody(c);
      return hostReply(ops.cordon(hid(c), c.context()));
    }));
    t.add(new Endpoint("POST", "/v1/hosts/{id}/drain", c -> {
      Requests.Drain body = c.body(Requests.Drain.class);
      var mode = Validation.drainMode(body.mode());
      int parallel = Validation.drainParallel(body.parallel());
      return hostReply(ops.drain(hid(c), mode, parallel, c.context()));
    }));
    t.add(new Endpoint("POST", "/v1/hosts/{id}/uncordon", c -> {
      noBody(c);
      return hostReply(ops.uncordon(hid(c), c.context()));
    }));
    t.add(new Endpoint("GET", "/v1/hosts/{id}/history", c -> history(c, EntityRef.host(hid(c)))));
    t.add(new Endpoint("GET", "/v1/templates", c -> fromOps(ops.templates()).thenApply(list ->
        json(200, new Views.Items<>(list.stream().map(Views.TemplateJson::of).toList())))));
    t.add(new Endpoint("POST", "/v1/templates", c -> {
      Requests.ImportTemplate body = c.body(Requests.ImportTemplate.class);
      String name = Validation.templateName(body.name());
      var source = Validation.templateSource(body.path());
      var context = c.context();
      return fromOps(ops.importTemplate(name, source, context)).thenApply(v -> json(201, Views.TemplateJson.of(v)));
    }));
    t.add(new Endpoint("POST", "/v1/templates/build", c -> {
      Requests.BuildTemplate body = c.body(Requests.BuildTemplate.class);
      var build = Validation.templateBuild(body);
      var context = c.context();
      return fromOps(ops.buildTemplate(build, context)).thenApply(v -> json(201, Views.TemplateJson.of(v)));
    }));
    t.add(new Endpoint("GET", "/v1/audit/timeline", this::timeline));
    t.add(new Endpoint("POST", "/v1/audit/verify", this::verify));
    t.add(new Endpoint("GET", "/v1/events", this::events));
    t.add(new Endpoint("GET", "/v1/tokens", this::listTokens));
    t.add(new Endpoint("POST", "/v1/tokens", this::issueToken));
    t.add(new Endpoint("DELETE", "/v1/tokens/{id}", this::revokeToken));
    return List.copyOf(t);
  }

  // --- containers --------------------------------------------------------------------------------

  private CompletionStage<HttpResponse> create(Call c) {
    Requests.CreateContainer body = c.body(Requests.CreateContainer.class);
    ContainerSpec spec = Validation.spec(body);
    Optional<TokenScope> scope = c.scope();
    if (scope.isPresent() && !scope.get().admits(spec.labels())) {
      throw new ProblemException(forbidden(c.described() + " is scoped to " + scope.get()
          + ": a container it creates must carry the label " + scope.get(), "labels", "must include " + scope.get()));
    }
    if (spec.privileged() && !c.role().allows(Role.ADMIN)) {
      // Root in a privileged container is root on the host: that is the host's administrator's call.
      throw new ProblemException(forbidden("a privileged container needs the role admin; " + c.described()
          + " has the role " + c.role().wireName(), "privileged", "must be false below the role admin"));
    }
    boolean start = body.start() != null && body.start();
    var context = c.context();
    return fromOps(ops.create(spec, start, context)).thenApply(reply -> {
      HttpResponse r = containerResponse(reply, 201);
      return r.status().intValue() == 201 ? r.addHeader(RawHeader.create("Location", "/v1/containers/" + spec.id().value())) : r;
    });
  }

  /** Each with what it uses, from its host's last measurement: a host that does not answer leaves its containers' unknown. */
  private CompletionStage<HttpResponse> listContainers(Call c) {
    CompletionStage<Map<String, Views.UsedJson>> used = ops.hosts().thenApply(Views::containerUsage)
        .exceptionally(e -> Map.<String, Views.UsedJson>of());
    Optional<TokenScope> scope = c.scope();
    return fromOps(ops.list()).thenCombine(used, (states, u) -> json(200, new Views.Items<>(states.stream()
        .filter(s -> s instanceof ContainerState.Live live && (scope.isEmpty() || scope.get().admits(live.data().spec().labels()))).map(s -> Views.container((ContainerState.Live) s, u.get(s.id().value())))
        .sorted((a, b) -> a.id().compareTo(b.id())).toList())));
  }

  private CompletionStage<HttpResponse> showContainer(Call c) {
    ContainerId id = cid(c);
    Optional<String> at = c.query("at");
    if (at.isPresent()) {
      Instant when = Validation.instant("at", at.get());
      return fromOps(ops.containerAt(id, when)).thenApply(s -> s instanceof ContainerState.Live live
          ? json(200, Views.container(live))
          : problem(Problem.of("not-found", "Not found", 404, "container " + id + " did not exist at " + when, "container", "must exist")));
    }
    return fromOps(ops.get(id)).thenCompose(s -> {
      if (!(s instanceof ContainerState.Live live)) {
        return done(problem(Problem.of("not-found", "Not found", 404, "container " + id + ": no such container", "container", "must exist")));
      }
      // Its checkpoints are on shared storage, not in its log: read beside it (only a shared container has any).
      if (live.data().spec().storage() != io.berth.protocol.spec.Storage.SHARED) return done(json(200, Views.container(live)));
      return fromOps(ops.checkpoints(id)).thenApply(cp -> json(200, Views.container(live, cp, Instant.now())));
    });
  }

  private CompletionStage<HttpResponse> patchLimits(Call c) {
    Requests.LimitsBody body = c.body(Requests.LimitsBody.class);
    if (body == null || body.equals(new Requests.LimitsBody(null, null, null, null))) {
      throw new io.berth.protocol.InvalidFieldException("limits",
          "a PATCH names at least one of cpu, memory, pids, disk, cpuWeight, cpuGuarantee, memoryGuarantee", "{}");
    }
    // Parse against the widest limits first, so a malformed field is refused even before the current limits are read
    // (a rule between two fields, a guarantee above its cap, is checked against the container's own limits below).
    Validation.limits(body, Validation.WIDEST);
    return setLimits(c, current -> Validation.limits(body, current));
  }

  /**
   * Resizes to {@code target} of the container's current limits; limits it has already are answered from its state,
   * with no change recorded (a repeated `ct set`, or a PUT of what it runs with, writes nothing to its log).
   */
  private CompletionStage<HttpResponse> setLimits(Call c, java.util.function.UnaryOperator<Limits> target) {
    ContainerId id = cid(c);
    var context = c.context();
    return fromOps(ops.get(id)).thenCompose(s -> {
      if (!(s instanceof ContainerState.Live live) || s instanceof ContainerState.Destroyed) {
        return done(problem(Problem.of("not-found", "Not found", 404, "container " + id + ": no such container", "container", "must exist")));
      }
      Limits limits = target.apply(live.data().spec().limits());
      if (limits.equals(live.data().spec().limits()) && live.data().pending().isEmpty()) return done(json(200, Views.container(live)));
      return containerReply(ops.setLimits(id, limits, context), 200);
    });
  }

  // --- hosts -------------------------------------------------------------------------------------

  private CompletionStage<HttpResponse> listHosts(Call c) {
    return fromOps(ops.hosts()).thenApply(hosts -> json(200, new Views.Items<>(hosts.stream()
        .map(h -> Views.host(h.state(), h)).sorted((a, b) -> a.id().compareTo(b.id())).toList())));
  }

  private CompletionStage<HttpResponse> showHost(Call c) {
    HostId id = hid(c);
    return fromOps(ops.host(id)).thenCompose(reply -> {
      if (reply instanceof HostReply.Refused r) return done(problem(Problem.of(r.rejection())));
      HostReply.Done d = (HostReply.Done) reply;
      return fromOps(ops.hosts()).thenApply(views -> {
        HostView view = views.stream().filter(v -> v.state().id().equals(id)).findFirst().orElse(null);
        return json(200, Views.host(d.state(), view));
      });
    });
  }

  // --- audit -------------------------------------------------------------------------------------

  private CompletionStage<HttpResponse> history(Call c, EntityRef entity) {
    long from = Validation.fromSeqNr(c.query("from"));
    int limit = Validation.pageSize(c.query("limit"));
    boolean lines = jsonLines(c);
    return fromOps(ops.history(entity, from, limit)).thenCompose(page -> tenantsOnly(c, page).thenApply(entries -> {
      List<Views.AuditJson> items = entries.stream().map(Views.AuditJson::of).toList();
      Long next = page.size() == limit ? page.get(page.size() - 1).sequenceNr() + 1 : null;
      if (lines) {
        HttpResponse r = jsonLinesResponse(items);
        return next == null ? r : r.addHeader(RawHeader.create("X-Next-From", Long.toString(next)));
      }
      return json(200, new Views.HistoryJson(items, next));
    }));
  }

  /** A scoped caller's part of a read of the audit: its containers' events, by incarnation ({@link TenantEvents}). */
  private CompletionStage<List<BerthOperations.AuditEntry>> tenantsOnly(Call c, List<BerthOperations.AuditEntry> page) {
    return c.scope().map(scope -> new TenantEvents(scope, ops::containerBefore).filter(page))
        .orElseGet(() -> CompletableFuture.completedFuture(page));
  }

  private CompletionStage<HttpResponse> timeline(Call c) {
    Instant now = clock.instant();
    Instant since = c.query("since").map(s -> Validation.instant("since", s)).orElse(now.minus(Duration.ofHours(1)));
    Instant until = c.query("until").map(s -> Validation.instant("until", s)).orElse(now);
    if (!until.isAfter(since)) throw new InvalidFieldException("until", "must be after since (" + since + ")", until.toString());
    int limit = Validation.pageSize(c.query("limit"));
    boolean lines = jsonLines(c);
    return fromOps(ops.timeline(since, until, limit)).thenCompose(page -> tenantsOnly(c, page)).thenApply(entries -> {
      List<Views.AuditJson> items = entries.stream().map(Views.AuditJson::of).toList();
      return lines ? jsonLinesResponse(items) : json(200, new Views.Items<>(items));
    });
  }

  private CompletionStage<HttpResponse> verify(Call c) {
    Requests.Verify body = c.body(Requests.Verify.class);
    if (body.container() != null && body.host() != null) {
      throw new InvalidFieldException("host", "must not be given with container (verify one entity, or all)", body.host());
    }
    Optional<EntityRef> entity = body.container() != null ? Optional.of(EntityRef.container(Validation.containerId("container", body.container())))
        : body.host() != null ? Optional.of(EntityRef.host(Validation.hostId("host", body.host()))) : Optional.empty();
    return fromOps(ops.verify(entity)).thenApply(r -> json(200, Views.VerifyJson.of(r)));
  }

  /**
   * Server-sent events: each audit entry as {@code id: <offset>}, {@code event: <type>}, {@code data: <json>}.
   * A client resumes with {@code Last-Event-ID} (what browsers send on reconnect) or {@code ?offset=}; the
   * header wins, being the later position.
   */
  private CompletionStage<HttpResponse> events(Call c) {
    Optional<String> offset = c.header("Last-Event-ID").or(() -> c.query("offset")).filter(s -> !s.isEmpty())
        .map(Validation::offset);
    var all = ops.events(offset);
    var visible = c.scope().map(scope -> new TenantEvents(scope, ops::containerBefore).filter(all)).orElse(all);
    var source = visible.map(BerthRoutes::sse)
        .keepAlive(SSE_HEARTBEAT, () -> ByteString.fromString(":\n\n"));
    return done(HttpResponse.create()
        .withEntity(HttpEntities.createChunked(ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM), source))
        .addHeader(RawHeader.create("Cache-Control", "no-cache")));
  }

  static ByteString sse(BerthOperations.AuditEntry entry) {
    StringBuilder sb = new StringBuilder();
    if (entry.offset() != null && !entry.offset().isEmpty()) sb.append("id: ").append(entry.offset()).append('\n');
    sb.append("event: ").append(entry.type()).append('\n');
    sb.append("data: ").append(Json.line(Views.AuditJson.of(entry))).append("\n\n");
    return ByteString.fromString(sb.toString());
  }

  // --- tokens ------------------------------------------------------------------------------------

  /** The tokens file's (admin, for good until their line goes) and the access log's, by name. */
  private CompletionStage<HttpResponse> listTokens(Call c) {
    ApiAccess a = credentialsOn();
    Instant now = clock.instant();
    return fromOps(a.readNow()).thenApply(state -> {
      List<Views.TokenJson> items = new ArrayList<>();
      a.file().ifPresent(f -> f.names().forEach(n -> items.add(Views.TokenJson.ofFile(n))));
      state.tokens().values().forEach(t -> items.add(Views.TokenJson.of(t, now, null, null)));
      items.sort((x, y) -> x.name().compareTo(y.name()));
      return json(200, new Views.Items<>(items));
    });
  }

  /**
   * A new random token (only its hash is recorded, the token is in this answer and nowhere else), or, with
   * {@code certificate}, a client certificate of the client CA registered under the name (its fingerprint recorded).
   */
  private CompletionStage<HttpResponse> issueToken(Call c) {
    ApiAccess a = credentialsOn();
    Requests.IssueToken body = c.body(Requests.IssueToken.class);
    if (body == null) throw new InvalidFieldException("body", "must be a JSON object with name and role", null);
    String name = IssuedToken.checkName("name", body.name());
    var role = Role.parse("role", body.role());
    var scope = TokenScope.parse("scope", body.scope());
    Optional<Instant> expires = Validation.tokenExpiry(body.expires()).map(d -> clock.instant().plus(d));
    if (inTokensFile(a, name)) {
      throw new ProblemException(Problem.of("already-exists", "Already exists", 409, "a token named " + name + " is in " + ApiTokens.FIELD
          + ": choose another name", "name", "must not be a name of the tokens file"));
    }
    String token;
    Credential credential;
    if (body.certificate() == null) {
      token = ApiTokens.newToken();
      credential = Credential.token(ApiTokens.hashOf(token).substring("sha256:".length()));
    } else {
      token = null;
      X509Certificate certificate = ClientCertificates.registrable("certificate", body.certificate(), clientCas, clock.instant());
      credential = Credential.certificate(HexFormat.of().formatHex(ApiAccess.fingerprint(certificate)));
      // It is refused by the handshake after its own end anyway: the record says so.
      Instant notAfter = certificate.getNotAfter().toInstant();
      if (expires.isEmpty() || expires.get().isAfter(notAfter)) expires = Optional.of(notAfter);
    }
    var context = c.context();
    Optional<Instant> expiresAt = expires;
    return fromOps(ops.issueToken(name, credential, role, scope, expiresAt, context)).thenApply(reply -> {
      if (reply instanceof AccessReply.Refused r) return problem(Problem.of(r.rejection()));
      var done = (AccessReply.Done) reply;
      a.learned(done.state());
      return json(201, Views.TokenJson.of(done.token(), clock.instant(), token, null));
    });
  }

  private CompletionStage<HttpResponse> revokeToken(Call c) {
    ApiAccess a = credentialsOn();
    String name = IssuedToken.checkName("name", c.param("id"));
    if (inTokensFile(a, name)) {
      throw new ProblemException(Problem.of("in-tokens-file", "Conflict", 409, "token " + name + " is in " + ApiTokens.FIELD
          + ": remove its line there to revoke it", "name", "must be a token issued through the API"));
    }
    var context = c.context();
    return fromOps(ops.revokeToken(name, context)).thenApply(reply -> {
      if (reply instanceof AccessReply.Refused r) return problem(Problem.of(r.rejection()));
      var done = (AccessReply.Done) reply;
      a.learned(done.state());
      Instant now = clock.instant();
      return json(200, Views.TokenJson.of(done.token(), now, null, now));
    });
  }

  private static boolean inTokensFile(ApiAccess a, String name) {
    return a.file().map(f -> f.names().contains(name)).orElse(false);
  }

  /** Tokens only mean something where they are checked: without a tokens file this API takes no credentials. */
  private ApiAccess credentialsOn() {
    return access.orElseThrow(() -> new ProblemException(Problem.of("credentials-off", "Conflict", 409,
        "this node's API takes no credentials (" + ApiTokens.FIELD + " is not set): a token would never be checked", ApiTokens.FIELD,
        "must be set for the API to use tokens")));
  }

  // --- status ------------------------------------------------------------------------------------

  private CompletionStage<HttpResponse> status(Call c) {
    return fromOps(ops.hosts()).thenCombine(fromOps(ops.list()),
        (hosts, containers) -> json(200, Views.status(hosts, containers, clock.instant())));
  }

  // --- plumbing ----------------------------------------------------------------------------------

  private CompletionStage<HttpResponse> dispatch(HttpRequest req, Materializer mat) {
    String correlation = req.getHeader(Call.CORRELATION).map(HttpHeader::value).orElse(null);
    HttpRequest request = correlation == null || correlation.isEmpty()
        ? req.addHeader(RawHeader.create(Call.CORRELATION, UUID.randomUUID().toString())) : req;
    String cid = request.getHeader(Call.CORRELATION).map(HttpHeader::value).orElseThrow();
    CompletionStage<HttpResponse> response;
    try {
      response = route(request, mat);
    } catch (Throwable t) {
      response = CompletableFuture.failedFuture(t);
    }
    boolean read = request.method().value().equals("GET");
    return response.exceptionally(t -> problem(toProblem(t)))
        .thenApply(r -> r.addHeader(RawHeader.create(Call.CORRELATION, cid.length() > EventMeta.MAX_CORRELATION ? cid.substring(0, EventMeta.MAX_CORRELATION) : cid)))
        .thenApply(r -> r.status().intValue() == 503 ? r.addHeader(RawHeader.create("Retry-After", Integer.toString(RETRY_AFTER_SECONDS))) : r)
        .thenApply(r -> {
          // While the journal is down a read answers from what the nodes hold: say so (nothing can change meanwhile).
          Optional<String> stale = read && r.status().intValue() == 200 ? ops.possiblyStale() : Optional.empty();
          return stale.isPresent() ? r.addHeader(RawHeader.create(POSSIBLY_STALE, stale.get())) : r;
        });
  }

  private CompletionStage<HttpResponse> route(HttpRequest request, Materializer mat) throws Exception {
    List<String> path = new ArrayList<>();
    request.getUri().pathSegments().forEach(s -> { if (!s.isEmpty()) path.add(s); });
    String method = request.method().value();
    List<String> allowed = new ArrayList<>();
    for (Endpoint e : endpoints) {
      Map<String, String> params = e.match(path);
      if (params == null) continue;
      if (!e.method().equals(method)) {
        allowed.add(e.method());
        continue;
      }
      if (access.isEmpty() || e.template().equals("/v1/openapi.json")) return handle(e, request, params, mat, null);
      return authenticate(request, access.get(), clientCas, clock.instant()).thenCompose(who -> {
        HttpResponse refusal = who.refusal() != null ? who.refusal() : AccessRules.refusal(e, who.identity());
        if (refusal != null) {
          request.discardEntityBytes(mat);
          return done(refusal);
        }
        return handle(e, request, params, mat, who.identity());
      });
    }
    request.discardEntityBytes(mat);
    if (!allowed.isEmpty()) {
      return done(problem(Problem.of("method-not-allowed", "Method not allowed", 405,
          method + " " + request.getUri().path() + ": allowed are " + String.join(", ", allowed), "method", "must be one of " + String.join(", ", allowed)))
          .addHeader(RawHeader.create("Allow", String.join(", ", allowed))));
    }
    return done(problem(Problem.of("no-route", "Not found", 404, "no route for " + method + " " + request.getUri().path()
        + " (see GET /v1/openapi.json)", "path", "must be a route of the API")));
  }

  /**
   * Reads the body and runs the handler. A scoped token reaches a container's routes only for a container whose labels
   * carry its scope: any other answers 404, exactly as a name that does not exist, so a tenant learns nothing of
   * another's containers.
   */
  private CompletionStage<HttpResponse> handle(Endpoint e, HttpRequest request, Map<String, String> params, Materializer mat,
      ApiAccess.Identity identity) {
    CompletionStage<HttpResponse> outOfScope = CompletableFuture.completedFuture(null);
    if (identity != null && identity.scope().isPresent() && e.template().startsWith("/v1/containers/{id}")) {
      var scope = identity.scope().get();
      ContainerId id;
      try {
        id = Validation.containerId("container", params.get("id"));
      } catch (InvalidFieldException invalid) {
        request.discardEntityBytes(mat);
        return done(problem(Problem.invalid(invalid)));
      }
      outOfScope = fromOps(ops.get(id)).thenApply(s -> s instanceof ContainerState.Live live && !scope.admits(live.data().spec().labels())
          ? problem(Problem.of("not-found", "Not found", 404, "container " + id + ": no such container", "container", "must exist")) : null);
    }
    return outOfScope.thenCompose(refused -> {
      if (refused != null) {
        request.discardEntityBytes(mat);
        return done(refused);
      }
      return readBody(request, mat).thenCompose(body -> {
        try {
          return e.handler().handle(new Call(request, params, body, defaultPrincipal, identity));
        } catch (Throwable t) {
          return CompletableFuture.failedFuture(t);
        }
      });
    });
  }

  /**
   * Who a request's bearer token is, or the refusal: 401 without a token, with one this cluster does not hold or
   * with an expired one (RFC 6750's {@code WWW-Authenticate} says how to authenticate), 400 when a client names its
   * own principal ({@code X-Berth-Principal}): with credentials the principal is who authenticated, never what a
   * client claims.
   */
  private static CompletionStage<Authentication> authenticate(HttpRequest request, ApiAccess access, List<X509Certificate> clientCas, Instant now) {
    Optional<String> authorization = request.getHeader("Authorization").map(HttpHeader::value);
    String rule = "must be 'Bearer TOKEN' with a token of this cluster, or a registered client certificate";
    Optional<X509Certificate> certificate = authorization.isEmpty() ? ClientCertificates.of(request) : Optional.empty();
    if (certificate.isPresent()) {
      try {
        ClientCertificates.check("client certificate", certificate.get(), clientCas, now);
      } catch (InvalidFieldException e) {
        return done(Authentication.refused(unauthorized(e.getMessage(), rule)));
      }
      return access.authenticate(certificate.get()).thenApply(v -> identified(v, request, rule));
    }
    if (authorization.isEmpty() || !authorization.get().regionMatches(true, 0, "Bearer ", 0, 7)) {
      return done(Authentication.refused(unauthorized(authorization.isEmpty() ? "this API needs credentials: an Authorization header with a bearer token"
          : "the Authorization header is not a bearer token", rule)));
    }
    return access.authenticate(authorization.get().substring(7).strip()).thenApply(v -> identified(v, request, rule));
  }

  private static Authentication identified(ApiAccess.Verdict v, HttpRequest request, String rule) {
    if (v.identity() == null) return Authentication.refused(unauthorized(v.refusal(), rule));
    Optional<String> claimed = request.getHeader(Call.PRINCIPAL).map(HttpHeader::value);
    if (claimed.isPresent()) {
      return Authentication.refused(problem(Problem.invalid(new io.berth.protocol.InvalidFieldException(Call.PRINCIPAL,
          "must not be sent: the principal is the authenticated identity (the token's or certificate's name)", claimed.get()))));
    }
    return new Authentication(v.identity(), null);
  }

  /** Who a request's credentials name, or the answer that refuses it. */
  private record Authentication(ApiAccess.Identity identity, HttpResponse refusal) {
    static Authentication refused(HttpResponse refusal) {
      return new Authentication(null, refusal);
    }
  }

  static Problem forbidden(String detail, String field, String rule) {
    return Problem.of("forbidden", "Forbidden", 403, detail, field, rule);
  }

  private static HttpResponse unauthorized(String detail, String rule) {
    return problem(Problem.of("unauthenticated", "Unauthorized", 401, detail, "Authorization", rule))
        .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"berth\""));
  }

  /** The body as text, at most {@link #MAX_BODY_BYTES}; JSON only when there is one. */
  private CompletionStage<String> readBody(HttpRequest request, Materializer mat) {
    HttpEntity entity = request.entity();
    var length = entity.getContentLengthOption();
    if (length.isPresent() && length.getAsLong() > MAX_BODY_BYTES) {
      entity.discardBytes(mat);
      return CompletableFuture.failedFuture(tooLarge());
    }
    if (entity.isKnownEmpty()) return done("");
    var mediaType = entity.getContentType().mediaType();
    if (!mediaType.equals(MediaTypes.APPLICATION_JSON)) {
      entity.discardBytes(mat);
      return CompletableFuture.failedFuture(new ProblemException(Problem.of("unsupported-media-type", "Unsupported media type", 415,
          "body: must be application/json (got " + mediaType + ")", "Content-Type", "must be application/json")));
    }
    return entity.withSizeLimit(MAX_BODY_BYTES).toStrict(10_000, mat)
        .thenApply(strict -> strict.getData().decodeString(StandardCharsets.UTF_8));
  }

  private static ProblemException tooLarge() {
    return new ProblemException(Problem.of("body-too-large", "Body too large", 413,
        "body: must be at most " + MAX_BODY_BYTES + " bytes", "body", "must be at most " + MAX_BODY_BYTES + " bytes"));
  }

  private static void noBody(Call c) {
    c.body(NoFields.class);
  }

  /** A body with no fields: {@code {}} or nothing; any field is unknown. */
  record NoFields() {}

  private static ContainerId cid(Call c) {
    return Validation.containerId("container", c.param("id"));
  }

  private static HostId hid(Call c) {
    return Validation.hostId("host", c.param("id"));
  }

  private static boolean jsonLines(Call c) {
    Optional<String> format = c.query("format");
    if (format.isEmpty() || format.get().equals("json")) return false;
    if (format.get().equals("jsonl")) return true;
    throw new InvalidFieldException("format", "must be json or jsonl", format.get());
  }

  private CompletionStage<HttpResponse> containerReply(CompletionStage<ContainerReply> reply, int okStatus) {
    return fromOps(reply).thenApply(r -> containerResponse(r, okStatus));
  }

  private static HttpResponse containerResponse(ContainerReply reply, int okStatus) {
    if (reply instanceof ContainerReply.Refused r) return problem(Problem.of(r.rejection()));
    if (reply instanceof ContainerReply.ExecResult e) return json(200, Views.ExecJson.of(e));
    if (reply instanceof ContainerReply.Done d && d.state() instanceof ContainerState.Live live) {
      return json(okStatus, Views.container(live));
    }
    throw new IllegalStateException("unexpected reply " + reply.getClass().getSimpleName());
  }

  private CompletionStage<HttpResponse> hostReply(CompletionStage<HostReply> reply) {
    return fromOps(reply).thenApply(r -> r instanceof HostReply.Done d ? json(200, Views.host(d.state(), null))
        : problem(Problem.of(((HostReply.Refused) r).rejection())));
  }

  /** A failed future from Berth means it could not reach the entity or make the outcome durable: 503. */
  private static <T> CompletionStage<T> fromOps(CompletionStage<T> stage) {
    return stage.handle((v, t) -> {
      if (t == null) return v;
      Throwable cause = unwrap(t);
      if (cause instanceof ProblemException || cause instanceof InvalidFieldException) throw new CompletionException(cause);
      if (cause instanceof io.berth.persistence.PersistenceUnavailableException) {
        throw new CompletionException(new ProblemException(Problem.of("journal-unavailable", "Journal unavailable", 503, cause.getMessage(),
            "journal", "must answer: try again after Retry-After")));
      }
      if (cause instanceof java.util.concurrent.TimeoutException) {
        LOG.warn("a request was answered 503: {}", cause.getMessage());
        throw new CompletionException(new ProblemException(Problem.of("unavailable", "Unavailable", 503, noAnswer(cause), "", "")));
      }
      throw new CompletionException(new ProblemException(Problem.of("unavailable", "Unavailable", 503,
          "Berth could not complete the request: " + cause.getMessage(), "", "")));
    });
  }

  private static final Pattern ASKED_FOR = Pattern.compile("after \\[(\\d+) ms\\]");

  /**
   * What a timed-out ask means to the caller. Pekko's text names actor paths and message classes (kept in the node's
   * log): an entity that did not answer is one that is starting, recovering its log, or moving with its shard.
   */
  static String noAnswer(Throwable timeout) {
    Matcher m = ASKED_FOR.matcher(String.valueOf(timeout.getMessage()));
    long ms = m.find() ? Long.parseLong(m.group(1)) : -1;
    String within = ms < 0 ? " in time" : ms % 1000 == 0 ? " within " + ms / 1000 + " s" : " within " + ms + " ms";
    return "Berth could not complete the request: the part of the cluster that holds it did not answer" + within
        + " (it may be starting, recovering its log, or moving to another host); try again";
  }

  static Problem toProblem(Throwable t) {
    Throwable cause = unwrap(t);
    if (cause instanceof ProblemException p) return p.problem;
    if (cause instanceof InvalidFieldException e) return Problem.invalid(e);
    if (cause instanceof EntityStreamSizeException) return tooLarge().problem;
    return Problem.of("internal", "Internal error", 500, "the API failed: " + cause, "", "");
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) t = t.getCause();
    return t;
  }

  static HttpResponse json(int status, Object value) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, Json.write(value));
  }

  private static HttpResponse jsonLinesResponse(List<?> items) {
    String body = items.stream().map(Json::line).collect(Collectors.joining("\n", "", items.isEmpty() ? "" : "\n"));
    return HttpResponse.create().withStatus(StatusCodes.OK).withEntity(JSON_LINES, body.getBytes(StandardCharsets.UTF_8));
  }

  static HttpResponse problem(Problem p) {
    return HttpResponse.create().withStatus(p.status()).withEntity(PROBLEM_JSON, Json.write(p));
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }

  private static byte[] loadOpenApi() {
    try (InputStream in = BerthRoutes.class.getResourceAsStream("/openapi/berth-v1.json")) {
      if (in == null) throw new IllegalStateException("resource /openapi/berth-v1.json is missing from the classpath");
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("read /openapi/berth-v1.json", e);
    }
  }
}
