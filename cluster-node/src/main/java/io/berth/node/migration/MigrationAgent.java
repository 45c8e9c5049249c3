package io.berth.node.migration;

import io.berth.isolation.ContainerInfo;
import io.berth.isolation.ContainerStatus;
import io.berth.isolation.IsolationLayer;
import io.berth.isolation.NetworkAttachment;
import io.berth.node.migration.transfer.TransferReceiver;
import io.berth.protocol.container.MigrationMode;
import io.berth.protocol.directory.DirectoryCommand;
import io.berth.protocol.directory.DirectoryReply;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.migration.MigrationCommand;
import io.berth.protocol.migration.MigrationReply;
import io.berth.protocol.migration.MigrationReply.Holding;
import io.berth.protocol.spec.ContainerSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per node: the target side of migrations to its host. It keeps no log: what it holds of a container is what
 * its kernel holds ({@link MigrationCommand.Status}), so the source's saga can always ask, also after this node
 * restarted. Between the preflight and the restore it keeps the migration's receiver (in memory; a restart of
 * this node loses it, and the source's restore then fails cleanly and is undone). Kernel work runs on the blocking
 * executor; the agent only dispatches.
 */
public final class MigrationAgent {
  private static final Logger log = LoggerFactory.getLogger(MigrationAgent.class);
  static final String DISK = IsolationSource.DISK;

  /** The receptionist key of {@code host}'s agent (one per host). */
  public static ServiceKey<MigrationCommand> keyFor(HostId host) {
    return ServiceKey.create(MigrationCommand.class, "berth-migration-" + host.value());
  }

  /** One incoming migration: its receiver and what the restore needs. */
  private record Incoming(MigrationCommand.Prepare prepare, TransferReceiver receiver, String token, Path imagesDir, Path diskImage,
      io.berth.isolation.PageServer pageServer) {}

  private final ActorSystem<?> system;
  private final HostId host;
  private final IsolationLayer layer;
  private final String bridge;
  private final String gateway;
  private final String transferHost;
  private final MigrationSettings settings;
  private final ActorRef<DirectoryCommand> directory;
  private final Executor blocking;
  /** This host's source side, for the steps a saga running elsewhere asks of it ({@link MigrationCommand.OnSource}). */
  private final SourceRuntime source;
  private final Map<String, Incoming> incoming = new ConcurrentHashMap<>();
  /**
   * The containers whose restore runs now: a status asked meanwhile says so (the source must not take "not here"
   * for an answer while the restore may still succeed), and a discard waits for it to end.
   */
  private final java.util.Set<ContainerId> restoring = ConcurrentHashMap.newKeySet();
  /** Post-copies under way or ended here, by migration: how each ended (kept for the saga's questions; in memory). */
  private final Map<String, CompletableFuture<PostCopyEnd>> postCopies = new ConcurrentHashMap<>();

  /** How a post-copy ended here: the container's pid then, the pages' bytes, and why its memory was lost (empty: it was not). */
  private record PostCopyEnd(long pid, long bytes, String lost) {}
  private final SecureRandom random = new SecureRandom();

  private MigrationAgent(ActorSystem<?> system, HostId host, IsolationLayer layer, String bridge, String gateway, String transferHost,
      MigrationSettings settings, ActorRef<DirectoryCommand> directory, Executor blocking, SourceRuntime source) {
    this.source = source;
    this.system = system;
    this.host = host;
    this.layer = layer;
    this.bridge = bridge;
    this.gateway = gateway;
    this.transferHost = transferHost;
    this.settings = settings;
    this.directory = directory;
    this.blocking = blocking;
  }

  /**
   * @param transferHost the address this node's receivers listen on (its cluster address: the other nodes reach it)
   */
  public static Behavior<MigrationCommand> create(HostId host, IsolationLayer layer, String bridge, String gateway, String transferHost,
      MigrationSettings settings, ActorRef<DirectoryCommand> directory, Executor blocking, SourceRuntime source, Optional<Path> sharedRoot) {
    return Behaviors.setup(ctx -> {
      removeReceivedDisks(layer, ctx.getLog());
      for (long pid : io.berth.isolation.PageServer.endLeftovers(settings.workDir().resolve(host.value()))) {
        ctx.getLog().info("ended criu page-server {}: started for a move to this host before its node started, it can never be used", pid);
      }
      ctx.getSystem().receptionist().tell(Receptionist.register(keyFor(host), ctx.getSelf()));
      MigrationAgent agent = new MigrationAgent(ctx.getSystem(), host, layer, bridge, gateway, transferHost, settings, directory, blocking, source);
      var reports = new io.berth.node.fence.StrayReports(ctx.getSystem(), host);
      agent.sweepStrays(new io.berth.node.fence.StrayCopies(layer, host, sharedRoot, agent::readDirectory, agent::entityState, agent::movingHere,
          copy -> reports.report(copy, "sweep")));
      return Behaviors.receiveMessage(message -> {
        agent.handle(message);
        return Behaviors.same();
      });
    });
  }

  /**
   * Disk images received for moves to this host before this node started: none can be used (a restore needs the
   * receiver this node held in memory, see {@link #restore}), and the move's discard, tried three times while this
   * node was down, never reached them, so they stayed in {@code .incoming} after their containers were destroyed (the
   * chaos run's no-leaks checker found one: a host cut off while a cold move to it ran). Removed before the agent takes
   * its first command, so no image of a move begun since is touched.
   */
  private static void removeReceivedDisks(IsolationLayer layer, org.slf4j.Logger log) {
    Path dir = layer.config().imagesRoot().resolve(".incoming");
    if (!Files.isDirectory(dir)) return;
    try (var images = Files.list(dir)) {
      for (Path image : images.toList()) {
        Files.deleteIfExists(image);
        log.info("removed {}: received for a move to this host before its node started, it can never be used", image);
      }
    } catch (java.io.IOException e) {
      log.warn("remove the disk images received before this node started from {}: {}", dir, e.toString());
    }
  }

  private void handle(MigrationCommand message) {
    if (message instanceof MigrationCommand.Prepare c) run(c, () -> prepare(c));
    else if (message instanceof MigrationCommand.Restore c) run(c, () -> restore(c));
    else if (message instanceof MigrationCommand.Status c) run(c, () -> holds(c.migrationId(), c.container()));
    else if (message instanceof MigrationCommand.Discard c) run(c, () -> discard(c));
    else if (message instanceof MigrationCommand.AwaitPostCopy c) run(c, () -> awaitPostCopy(c));
    else if (message instanceof MigrationCommand.OnSource c) run(c, () -> onSource(c));
  }

  private void run(MigrationCommand c, Supplier<MigrationReply> work) {
    CompletableFuture.supplyAsync(work, blocking).whenComplete((reply, error) -> {
      if (error != null) {
        Throwable cause = error.getCause() != null ? error.getCause() : error;
        log.warn("migration {}: {} failed on host {}: {}", c.migrationId(), step(c), host, cause.getMessage());
        c.replyTo().tell(new MigrationReply.Failed(c.migrationId(), host, step(c), String.valueOf(cause.getMessage())));
      } else {
        c.replyTo().tell(reply);
      }
    });
  }

  // --- the steps ---------------------------------------------------------------------------------

  /** Preflight: the template is here, the container is not, CRIU can restore (for live); then a receiver opens. */
  private MigrationReply prepare(MigrationCommand.Prepare c) {
    ContainerSpec spec = c.spec();
    ContainerId id = spec.id();
    Incoming open = incoming.get(c.migrationId());
    if (open != null) return prepared(open, c);
    layer.templates().resolve(spec.template()); // throws, naming the template, when this host lacks it
    ContainerStatus here = layer.inspect(id).status();
    if (here != ContainerStatus.ABSENT) {
      throw new IllegalStateException("host " + host + " holds a container " + id + " already (" + here.name().toLowerCase(java.util.Locale.ROOT)
          + "): a leftover of an earlier move? `berth ct show " + id + "` names its host");
    }
    Path dir = settings.workDir().resolve(host.value()).resolve(c.migrationId());
    Path images = dir.resolve("images");
    Path disk = layer.incomingDiskImage(id, c.migrationId());
    IsolationSource.deleteTree(dir);
    try {
      Files.createDirectories(images);
      Files.deleteIfExists(disk);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("make the directories of migration " + c.migrationId(), e);
    }
    String token = HexFormat.of().formatHex(bytes(32));
    // The images land on this node's tmpfs (they are memory); the disk image on the images root's filesystem,
    // where the container's prepare takes it by a rename.
    TransferReceiver receiver = await(TransferReceiver.bind(system, transferHost, images, Map.of(DISK, disk), token, settings.restoreTimeout()),
        "open the receiver of migration " + c.migrationId());
    // A live move's pages come straight from the source's CRIU to CRIU's page server here (no JVM in their path).
    io.berth.isolation.PageServer pages = null;
    if (c.mode() == MigrationMode.LIVE && layer.liveRestoreRefusal().isEmpty()) {
      try {
        pages = layer.startPageServer(images, transferHost, freePort());
      } catch (RuntimeException e) {
        receiver.close();
        throw e;
      }
    }
    Incoming in = new Incoming(c, receiver, token, images, disk, pages);
    incoming.put(c.migrationId(), in);
    log.info("migration {}: container {} may come to host {} ({}); receiving on {}:{}", c.migrationId(), id, host, c.mode(), transferHost,
        receiver.port());
    return prepared(in, c);
  }

  private MigrationReply.Prepared prepared(Incoming in, MigrationCommand.Prepare c) {
    String liveRefusal = c.mode() == MigrationMode.LIVE ? layer.liveRestoreRefusal().orElse("") : "";
    String postCopyRefusal = c.mode() == MigrationMode.LIVE && c.postCopy() ? layer.postCopyRefusal().orElse("") : "not asked for";
    String findings = "template " + c.spec().template().value() + " present on " + host
        + (c.mode() == MigrationMode.LIVE ? liveRefusal.isEmpty() ? "; CRIU can restore here" : "; CRIU cannot restore here: " + liveRefusal : "")
        + (c.mode() == MigrationMode.LIVE && c.postCopy() ? postCopyRefusal.isEmpty() ? "; post-copy can restore here" : "; no post-copy here: "
            + postCopyRefusal : "");
    String pageServer = in.pageServer() == null ? "" : in.pageServer().endpoint();
    return new MigrationReply.Prepared(c.migrationId(), host, transferHost, in.receiver().port(), in.token(), pageServer, findings, liveRefusal,
        postCopyRefusal);
  }

  /**
   * Runs the container from what arrived: restored (live), or set up on its disk and started (cold). The restore
   * claims the container first ({@code restoring}: a status asked meanwhile answers that it restores, a discard
   * waits) and then takes the migration's receiver for its own ({@code incoming}), so a discard that came first
   * leaves it nothing to run from: a restore and a discard of one move never both go ahead. CI's chaos run saw a
   * status answered "nothing here" while a restore was about to begin, the move undone, and the restore then run a
   * copy the log placed nowhere.
   */
  private MigrationReply restore(MigrationCommand.Restore c) {
    ContainerId id = c.container();
    if (!restoring.add(id)) return new MigrationReply.Holds(c.migrationId(), host, Holding.RESTORING, 0, 0, "");
    try {
      return restoreClaimed(c);
    } finally {
      restoring.remove(id);
    }
  }

  private MigrationReply restoreClaimed(MigrationCommand.Restore c) {
    ContainerId id = c.container();
    ContainerInfo info = layer.inspect(id);
    if (info.status() == ContainerStatus.RUNNING) return new MigrationReply.Holds(c.migrationId(), host, Holding.RUNNING, info.initPid(), 0, lostMemory(c.migrationId()));
    Incoming in = incoming.remove(c.migrationId());
    if (in == null) {
      throw new IllegalStateException("host " + host + " has no receiver for migration " + c.migrationId()
          + " (its node restarted since the preflight, or the move was discarded): nothing to run it from");
    }
    in.receiver().close();
    MigrationCommand.Prepare p = in.prepare();
    long start = System.nanoTime();
    boolean lazy = c.live() && !c.lazyPagesFrom().isEmpty();
    try {
      if (info.status() == ContainerStatus.ABSENT) {
        Path disk = Files.isRegularFile(in.diskImage()) ? in.diskImage() : null;
        layer.prepare(p.spec(), new NetworkAttachment(p.address(), p.prefixLength(), gateway, bridge), disk);
      }
      long pid = 0;
      long pageBytes = 0;
      if (c.live() && c.viaPageServer()) {
        if (in.pageServer() == null) throw new IllegalStateException("the dump sent its pages to a page server this host never started");
        pageBytes = in.pageServer().await(Duration.ofSeconds(30));
      }
      if (lazy) {
        int colon = c.lazyPagesFrom().lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("lazyPagesFrom must be ADDRESS:PORT, not " + c.lazyPagesFrom());
        IsolationLayer.LazyRestore restored = layer.restoreLazy(id, in.imagesDir(), c.lazyPagesFrom().substring(0, colon),
            Integer.parseInt(c.lazyPagesFrom().substring(colon + 1)));
        pid = restored.pid();
        // It runs; its memory comes on: watched until every page arrived, or the copy killed and started again from its disk.
        postCopies.put(c.migrationId(), CompletableFuture.supplyAsync(() -> finishPostCopy(c.migrationId(), id, restored, in.imagesDir()), blocking));
      } else if (c.live()) {
        pid = layer.restore(id, in.imagesDir());
      } else if (c.start()) {
        pid = layer.start(id);
      }
      log.info("migration {}: container {} {} on host {} in {} ms (pid {})", c.migrationId(), id, c.live() ? "restored" : c.start() ? "started" : "set up",
          host, (System.nanoTime() - start) / 1_000_000, pid);
      return new MigrationReply.Holds(c.migrationId(), host, pid > 0 ? Holding.RUNNING : Holding.SET_UP, pid, pageBytes, "");
    } catch (RuntimeException e) {
      // Nothing of it may stay here: the source resumes its own copy.
      try {
        layer.destroy(id);
      } catch (RuntimeException undo) {
        e.addSuppressed(undo);
      }
      throw e;
    } finally {
      if (in.pageServer() != null) in.pageServer().close();
      // Post-copy's daemon works in the images directory until its end (finishPostCopy removes it then).
      if (!postCopies.containsKey(c.migrationId())) IsolationSource.deleteTree(in.imagesDir().getParent());
    }
  }

  /**
   * Waits (bounded) for the post-copy's end. Every page arrived: nothing to do. Cut short (the source or the link went
   * away): the daemon's wrapper killed the copy before it could read a missing page as zeros; it is started again here
   * from its disk, which holds everything it wrote, and the loss is kept for the saga to record.
   */
  private PostCopyEnd finishPostCopy(String migrationId, ContainerId id, IsolationLayer.LazyRestore restored, Path imagesDir) {
    try {
      io.berth.isolation.LazyPages.Outcome out = restored.pages().await(settings.restoreTimeout());
      long bytes = out.pages() * 4096;
      if (out.complete()) {
        log.info("migration {}: container {}'s memory arrived whole on host {} ({} pages)", migrationId, id, host, out.pages());
        return new PostCopyEnd(restored.pid(), bytes, "");
      }
      log.error("migration {}: container {}'s post-copy was cut short on host {}: {}; starting it again from its disk", migrationId, id, host,
          out.cause());
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (layer.inspect(id).status() == ContainerStatus.RUNNING && System.nanoTime() < deadline) sleepMillis(10);
      long pid = 0;
      String lost = out.cause();
      try {
        pid = layer.start(id);
      } catch (RuntimeException e) {
        lost = lost + "; starting it again from its disk failed: " + e.getMessage();
        log.error("migration {}: container {} could not start again from its disk on host {}: {}", migrationId, id, host, e.getMessage());
      }
      return new PostCopyEnd(pid, bytes, lost);
    } finally {
      restored.pages().removeControlDir();
      IsolationSource.deleteTree(imagesDir.getParent());
    }
  }

  /** The source side's step, for a saga whose entity runs on another host now (this host's node went down meanwhile). */
  private MigrationReply onSource(MigrationCommand.OnSource c) {
    ContainerId id = c.container();
    switch (c.action()) {
      case COMMIT -> source.commit(id, c.migrationId());
      case REMOVE -> {
        source.removeLocal(id, c.migrationId());
      }
      case RESUME -> {
        long pid = source.resumeOrRestart(id, c.migrationId(), c.spec(), c.address(), c.prefixLength(), c.ran());
        return new MigrationReply.Holds(c.migrationId(), host, pid > 0 ? Holding.RUNNING : Holding.SET_UP, pid, 0, "");
      }
    }
    log.info("migration {}: {} of container {} done on its source host {} for a saga running elsewhere", c.migrationId(),
        c.action().name().toLowerCase(java.util.Locale.ROOT), id, host);
    return holds(c.migrationId(), id);
  }

  /** Post-copy: answers once this migration's memory transfer ended here (at once when none runs). */
  private MigrationReply awaitPostCopy(MigrationCommand.AwaitPostCopy c) {
    CompletableFuture<PostCopyEnd> f = postCopies.get(c.migrationId());
    if (f == null) return holds(c.migrationId(), c.container());
    PostCopyEnd end = await(f, settings.restoreTimeout().plusSeconds(30), "the post-copy of migration " + c.migrationId());
    return new MigrationReply.Holds(c.migrationId(), host, end.pid() > 0 ? Holding.RUNNING : Holding.SET_UP, end.pid(), end.bytes(), end.lost());
  }

  /** Why this migration's post-copy lost the container's memory here, or empty. */
  private String lostMemory(String migrationId) {
    CompletableFuture<PostCopyEnd> f = postCopies.get(migrationId);
    return f != null && f.isDone() && !f.isCompletedExceptionally() ? f.join().lost() : "";
  }

  private static void sleepMillis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private MigrationReply holds(String migrationId, ContainerId id) {
    if (restoring.contains(id)) return new MigrationReply.Holds(migrationId, host, Holding.RESTORING, 0, 0, "");
    ContainerInfo info = layer.inspect(id);
    if (info.status() == ContainerStatus.RUNNING) return new MigrationReply.Holds(migrationId, host, Holding.RUNNING, info.initPid(), 0, lostMemory(migrationId));
    if (info.status() == ContainerStatus.ABSENT) return new MigrationReply.Holds(migrationId, host, Holding.NOTHING, 0, 0, lostMemory(migrationId));
    return new MigrationReply.Holds(migrationId, host, Holding.SET_UP, 0, 0, lostMemory(migrationId));
  }

  /** The move is off: remove what this host made for it, unless the directory places the container here. */
  private MigrationReply discard(MigrationCommand.Discard c) {
    Optional<HostId> placed = await(AskPattern.<DirectoryCommand, DirectoryReply>ask(directory, r -> new DirectoryCommand.Locate(c.container(), r),
        settings.stepTimeout(), system.scheduler()), "ask the directory where container " + c.container() + " belongs")
        instanceof DirectoryReply.Located l ? l.host() : Optional.empty();
    // The receiver first: a restore that has not taken it yet finds none and runs nothing (see restore).
    Incoming in = incoming.remove(c.migrationId());
    if (in != null) {
      in.receiver().close();
      if (in.pageServer() != null) in.pageServer().close();
      IsolationSource.deleteTree(in.imagesDir().getParent());
      try {
        Files.deleteIfExists(in.diskImage());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("remove the received disk image " + in.diskImage(), e);
      }
    }
    if (restoring.contains(c.container())) {
      throw new IllegalStateException("the restore of container " + c.container() + " runs on host " + host + " now: ask again once it ended");
    }
    if (placed.map(host::equals).orElse(false)) {
      throw new IllegalStateException("the directory places container " + c.container() + " on host " + host + ": it is not a leftover of migration "
          + c.migrationId() + ", nothing was removed");
    }
    if (layer.inspect(c.container()).status() != ContainerStatus.ABSENT) layer.destroy(c.container());
    log.info("migration {}: host {} discarded what it held of container {}", c.migrationId(), host, c.container());
    return new MigrationReply.Holds(c.migrationId(), host, Holding.NOTHING, 0, 0, "");
  }

  // --- stray copies --------------------------------------------------------------------------------

  /**
   * Every {@link io.berth.node.fence.StrayCopies#SWEEP_EVERY}, on the blocking executor, one sweep at a time: the
   * copies of moves that ended without them (and any other the log places elsewhere) are found and removed here,
   * where what a move to this host holds is known.
   */
  private void sweepStrays(io.berth.node.fence.StrayCopies strays) {
    java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean();
    Duration every = io.berth.node.fence.StrayCopies.SWEEP_EVERY;
    var timer = system.scheduler().scheduleWithFixedDelay(every, every, () -> {
      if (!running.compareAndSet(false, true)) return;
      CompletableFuture.runAsync(strays::sweep, blocking).whenComplete((done, error) -> {
        running.set(false);
        if (error != null) log.warn("host {}: the sweep for stray copies failed: {}", host, error.toString());
      });
    }, system.executionContext());
    system.getWhenTerminated().thenRun(timer::cancel);
  }

  /** Whether a move to this host holds the container here now: its receiver is open, or its restore runs. */
  private boolean movingHere(ContainerId id) {
    return restoring.contains(id) || incoming.values().stream().anyMatch(in -> in.prepare().spec().id().equals(id));
  }

  private Optional<io.berth.protocol.directory.DirectoryState> readDirectory() {
    try {
      DirectoryReply reply = await(AskPattern.<DirectoryCommand, DirectoryReply>ask(directory, DirectoryCommand.Read::new, settings.stepTimeout(),
          system.scheduler()), "read the directory");
      return reply instanceof DirectoryReply.Snapshot snapshot ? Optional.of(snapshot.state()) : Optional.empty();
    } catch (IllegalStateException e) {
      log.debug("host {}: the sweep for stray copies cannot read the directory: {}", host, e.getMessage());
      return Optional.empty();
    }
  }

  private Optional<io.berth.protocol.container.ContainerState> entityState(ContainerId id) {
    try {
      var reply = await(org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(system)
          .entityRefFor(io.berth.node.container.ContainerEntity.TYPE_KEY, id.value())
          .ask(io.berth.protocol.container.ContainerCommand.Get::new, settings.stepTimeout()), "ask container " + id + "'s entity");
      return reply instanceof io.berth.protocol.container.ContainerReply.Done done ? Optional.of(done.state()) : Optional.empty();
    } catch (IllegalStateException e) {
      log.debug("host {}: the sweep for stray copies had no answer from container {}'s entity: {}", host, id, e.getMessage());
      return Optional.empty();
    }
  }

  // --- helpers -----------------------------------------------------------------------------------

  /** A port free on this host now (bound and released: the page server binds it right after). */
  private int freePort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket()) {
      s.bind(new java.net.InetSocketAddress(transferHost, 0));
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("find a free port on " + transferHost + " for the page server", e);
    }
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private <T> T await(java.util.concurrent.CompletionStage<T> stage, String what) {
    return await(stage, settings.stepTimeout(), what);
  }

  private <T> T await(java.util.concurrent.CompletionStage<T> stage, Duration bound, String what) {
    try {
      return stage.toCompletableFuture().get(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(what + ": no answer within " + bound, e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(what + ": " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + ": interrupted", e);
    }
  }

  private static String step(MigrationCommand c) {
    return c.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }
}
