package io.berth.node.api;

import java.util.List;
import java.util.Map;

/**
 * The request bodies the API accepts, exactly: an unknown field is refused (400, {@code unknown-field}).
 * Fields are nullable here; {@link Validation} turns them into protocol values, naming the field that breaks a
 * rule, before anything is asked of Berth.
 */
final class Requests {
  private Requests() {}

  /**
   * Limits as people write them. Strings or numbers: {@code "64M"} or {@code 67108864} for bytes, {@code "0.5"},
   * {@code 0.5} or {@code "500m"} for cpu. {@code cpu}, {@code memory}, {@code pids}, {@code disk}: caps;
   * {@code cpuWeight}: the share of contended cpu (1-10000, default 100); {@code cpuGuarantee},
   * {@code memoryGuarantee}: what placement reserves (default none and 16M).
   */
  record LimitsBody(@NumberOrText String cpu, @NumberOrText String memory, @NumberOrText String pids, @NumberOrText String disk,
      @NumberOrText String cpuWeight, @NumberOrText String cpuGuarantee, @NumberOrText String memoryGuarantee) {
    LimitsBody(String cpu, String memory, String pids, String disk) {
      this(cpu, memory, pids, disk, null, null, null);
    }
  }

  record PlacementBody(String host, Map<String, String> hostLabels, String antiAffinityGroup) {}

  /**
   * POST /v1/containers. {@code start}: start it once defined. {@code privileged}: no user namespace and no
   * confinement layer (root inside is root on the host); false unless given as true.
   */
  record CreateContainer(String name, String template, String hostname, List<String> command, LimitsBody limits,
      String restart, Map<String, String> labels, PlacementBody placement, Boolean start, Boolean privileged, String storage, Integer haPriority,
      String checkpointEvery) {}

  /** PUT /v1/containers/{id}/checkpoint-schedule: {@code checkpointEvery} a duration ({@code 30s}, {@code 5m}) or {@code off}. */
  record CheckpointSchedule(String checkpointEvery) {}

  /** POST /v1/containers/{id}/stop: the init gets SIGTERM, then SIGKILL after the timeout. */
  record Stop(Long timeoutMillis) {}

  /** POST /v1/containers/{id}/kill: a signal number (9) or name (KILL, SIGKILL); SIGKILL by default. */
  record Kill(@NumberOrText String signal) {}

  /** A field that takes a JSON string or number (the API refuses a number for any other text). */
  @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
  @java.lang.annotation.Target({java.lang.annotation.ElementType.PARAMETER, java.lang.annotation.ElementType.FIELD,
      java.lang.annotation.ElementType.RECORD_COMPONENT, java.lang.annotation.ElementType.METHOD})
  @com.fasterxml.jackson.annotation.JacksonAnnotationsInside
  @com.fasterxml.jackson.databind.annotation.JsonDeserialize(using = Json.NumberOrText.class)
  @interface NumberOrText {}

  record Exec(List<String> command, Long timeoutMillis) {}

  /**
   * POST /v1/containers/{id}/migrations: {@code to} a host (placement picks when absent); {@code mode} live or cold
   * (absent: live, or cold when live cannot work); {@code postCopy} auto (absent), on or off.
   */
  record Migrate(String to, String mode, String postCopy) {}

  /** POST /v1/containers/{id}/recover: {@code from} is {@code empty} (a new disk) or {@code checkpoint}. */
  record Recover(String from) {}

  /** POST /v1/templates: a directory or tarball on the node's filesystem. */
  record ImportTemplate(String name, String path) {}

  /** POST /v1/templates/build: a distribution ({@code debian-12}) and the packages to include besides its own. */
  record BuildTemplate(String name, String distribution, List<String> include) {}

  /** POST /v1/audit/verify: one entity, or every one when empty. */
  record Verify(String container, String host) {}

  /**
   * POST /v1/tokens: {@code scope} a label {@code key=value}, {@code expires} a duration ({@code 30d}) from now; both
   * optional. {@code certificate}: a client certificate (PEM) to register instead of making a token.
   */
  record IssueToken(String name, String role, String scope, String expires, String certificate) {}

  /** POST /v1/hosts/{id}/drain: {@code mode} live (default), cold or stop; {@code parallel} moves at a time (default 2). */
  record Drain(String mode, Integer parallel) {}
}
