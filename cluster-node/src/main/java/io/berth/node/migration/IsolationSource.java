package io.berth.node.migration;

import io.berth.isolation.ContainerInfo;
import io.berth.isolation.ContainerStatus;
import io.berth.isolation.HeldCheckpoint;
import io.berth.isolation.IsolationLayer;
import io.berth.isolation.LazyPageRelay;
import io.berth.protocol.container.PostCopy;
import io.berth.node.agent.ContainerRuntime;
import io.berth.node.migration.transfer.DiskImageSync;
import io.berth.node.migration.transfer.RoundReport;
import io.berth.node.migration.transfer.TransferItem;
import io.berth.node.migration.transfer.TransferSender;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.ids.HostId;
import io.berth.protocol.migration.MigrationReply;
import io.berth.protocol.spec.ContainerSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of a migration on the real kernel: CRIU's held dump ({@link IsolationLayer#checkpointHeld}), the
 * disk image's pre-copy and last delta ({@link DiskImageSync}), and the transfer to the target's receiver over the
 * node-to-node stream ({@link TransferSender}). What one migration keeps between its steps (the disk's chunk sums
 * of the pre-copy, the hold) is in memory; after this node restarts the saga re-attaches the hold from its control
 * files and sends the disk whole again if it must.
 */
public final class IsolationSource implements SourceRuntime {
  private static final Logger log = LoggerFactory.getLogger(IsolationSource.class);
  private static final Duration DECIDE = Duration.ofSeconds(30);
  static final String DISK = "disk.img";
  /** From this much memory on, a live dump sends its pages to the target's page server (measured: MigrationBench). */
  static final long PAGE_SERVER_FROM = 64L << 20;

  private final ActorSystem<?> system;
  private final IsolationLayer layer;
  private final ContainerRuntime runtime;
  private final MigrationSettings settings;
  private final Path workDir;
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();

  /** What one migration keeps on the source between steps. */
  private static final class Session {
    volatile DiskImageSync disk;
    volatile HeldCheckpoint held;
    /** Post-copy: the relay between the target's daemon and CRIU, until the migration ends. */
    volatile LazyPageRelay relay;
  }

  private final String transferHost;

  /** @param transferHost this node's address the target's post-copy daemon connects to (its cluster address) */
  public IsolationSource(ActorSystem<?> system, IsolationLayer layer, ContainerRuntime runtime, MigrationSettings settings, HostId host,
      String transferHost) {
    this.transferHost = transferHost;
    this.system = system;
    this.layer = layer;
    this.runtime = runtime;
    this.settings = settings;
    this.workDir = settings.workDir().resolve(host.value());
    warnUnlessTmpfs(settings.workDir());
  }

  /** The images are the processes' memory: on a disk they would be written whole, which a migration must not do. */
  private static void warnUnlessTmpfs(Path dir) {
    try {
      Files.createDirectories(dir);
      String type = Files.getFileStore(dir).type();
      if (!"tmpfs".equals(type)) {
        log.warn("berth.migration.work-dir {} is on {}, not a tmpfs: a live migration's images would be written to a disk", dir, type);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("make berth.migration.work-dir " + dir, e);
    }
  }

  @Override
  public Optional<String> liveRefusal(ContainerId id) {
    return layer.liveCheckpointRefusal(id);
  }

  @Override
  public boolean hasDisk(ContainerId id) {
    return layer.inspect(id).status() != ContainerStatus.ABSENT && Files.isRegularFile(layer.diskImage(id));
  }

  @Override
  public Sent preCopyDisk(ContainerId id, String migrationId, MigrationReply.Prepared target) {
    Session s = session(migrationId);
    long start = System.nanoTime();
    s.disk = new DiskImageSync(layer.diskImage(id), DISK);
    RoundReport r = send(target, List.of(TransferItem.diskImage(s.disk)), "the disk's pre-copy of container " + id);
    return new Sent(r.bytes(), r.sha256(), millisSince(start));
  }

  @Override
  public Frozen freezeAndSend(ContainerId id, String migrationId, MigrationReply.Prepared target, PostCopy postCopy) {
    Session s = session(migrationId);
    Path images = imagesDir(migrationId);
    deleteTree(images);
    long memory = layer.stats(id).memoryBytes();
    boolean lazy = postCopy == PostCopy.ON || postCopy == PostCopy.AUTO && memory >= settings.postCopyFrom();
    // With the target's page server, the pages go there while CRIU dumps, and only the other images are sent after;
    // below PAGE_SERVER_FROM its fixed cost (about 0.2 s here: CRIU's last message on a corked socket) outweighs that.
    // With a bandwidth limit they go in the images round instead: CRIU's page server would ignore the limit.
    boolean viaPageServer = !lazy && !target.pageServer().isEmpty() && memory >= PAGE_SERVER_FROM && settings.bytesPerSecond() == 0;
    HeldCheckpoint held;
    String lazyPagesFrom = "";
    if (lazy) {
      int criuPort = freeLoopbackPort();
      held = layer.checkpointHeldLazy(id, images, settings.holdBound(), criuPort);
      s.held = held;
      try {
        // The target's daemon connecting is the moment its copy takes over: the hold is committed then.
        s.relay = LazyPageRelay.open(transferHost, criuPort, settings.restoreTimeout(), target.transferHost(), held::decideCommit);
      } catch (RuntimeException e) {
        held.resume(DECIDE);
        throw e;
      }
      lazyPagesFrom = transferHost + ":" + s.relay.port();
    } else {
      held = layer.checkpointHeld(id, images, settings.holdBound(), viaPageServer ? target.pageServer() : null);
      s.held = held;
    }
    try {
      // Everything the container wrote is in its image file once its filesystem is synced (it is frozen now).
      layer.syncDisk(id);
      List<TransferItem> items = new ArrayList<>(imageFiles(images));
      DiskImageSync disk = s.disk != null ? s.disk : new DiskImageSync(layer.diskImage(id), DISK);
      items.add(TransferItem.diskImage(disk));
      RoundReport r = send(target, items, "the checkpoint of container " + id);
      return new Frozen(held.imageBytes(), new Sent(r.bytes(), r.sha256(), millisSince(held.dumpStartedNanos())), held.dumpStartedNanos(),
          viaPageServer, lazyPagesFrom);
    } catch (RuntimeException e) {
      // The target gets no restore: the source goes on where it was.
      try {
        closeRelay(s);
        held.resume(DECIDE);
      } catch (RuntimeException undo) {
        e.addSuppressed(undo);
      }
      throw e;
    }
  }

  @Override
  public Sent stopAndSend(ContainerId id, String migrationId, MigrationReply.Prepared target, boolean running) {
    Session s = session(migrationId);
    long start = System.nanoTime();
    if (running) runtime.stop(id, Duration.ofSeconds(10));
    // Unmounted and detached, the image file is consistent and no loop device holds it.
    layer.release(id);
    DiskImageSync disk = s.disk != null ? s.disk : new DiskImageSync(layer.diskImage(id), DISK);
    RoundReport r = send(target, List.of(TransferItem.diskImage(disk)), "the disk of container " + id);
    return new Sent(r.bytes(), r.sha256(), millisSince(start));
  }

  @Override
  public void commit(ContainerId id, String migrationId) {
    Session s = sessions.get(migrationId);
    if (s != null && s.held != null && s.held.isLazy()) {
      // Post-copy: CRIU serves the pages after the commit and ends once every page was taken (or the transfer broke:
      // then the source is killed all the same; the target knows whether its copy has its memory whole).
      try {
        s.held.commit(settings.restoreTimeout());
      } finally {
        closeRelay(s);
      }
      return;
    }
    Optional<HeldCheckpoint> held = hold(id, migrationId);
    if (held.isPresent()) {
      held.get().commit(DECIDE);
      return;
    }
    // No hold (its bound ended it, or it never began): nothing of the source may run while the target does.
    ContainerInfo info = layer.inspect(id);
    if (info.status() == ContainerStatus.RUNNING) {
      log.error("container {}: runs on the source without a hold while the target runs it: killing the source's copy", id);
      layer.kill(id, 9);
    }
  }

  @Override
  public long resumeOrRestart(ContainerId id, String migrationId, ContainerSpec spec, String address, int prefixLength, boolean ran) {
    Session session = sessions.get(migrationId);
    if (session != null) closeRelay(session);
    Optional<HeldCheckpoint> held = hold(id, migrationId);
    if (held.isPresent()) held.get().resume(DECIDE);
    long pid = runningPid(id);
    if (pid > 0 || !ran) {
      forget(migrationId);
      return pid;
    }
    // It ran before the move and no longer does (a cold stop, or the hold's bound ended it): start it again from
    // its disk, set up again here if the stop took it down.
    pid = runtime.start(spec, address, prefixLength);
    forget(migrationId);
    return pid;
  }

  @Override
  public boolean isHeld(ContainerId id, String migrationId) {
    return hold(id, migrationId).isPresent();
  }

  /** The container's init pid here, or 0. */
  private long runningPid(ContainerId id) {
    ContainerInfo info = layer.inspect(id);
    return info.status() == ContainerStatus.RUNNING ? info.initPid() : 0;
  }

  @Override
  public void removeLocal(ContainerId id, String migrationId) {
    runtime.destroy(id);
    forget(migrationId);
  }

  // --- helpers -----------------------------------------------------------------------------------

  private Optional<HeldCheckpoint> hold(ContainerId id, String migrationId) {
    Session s = sessions.get(migrationId);
    if (s != null && s.held != null && s.held.isWaiting()) return Optional.of(s.held);
    return layer.attachHeld(id, imagesDir(migrationId));
  }

  private RoundReport send(MigrationReply.Prepared target, List<TransferItem> items, String what) {
    try {
      return TransferSender.send(system, target.transferHost(), target.transferPort(), target.token(), items, settings.bytesPerSecond(),
          settings.restoreTimeout()).toCompletableFuture().get(settings.restoreTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(what + ": the transfer to " + target.host() + " did not end within " + settings.restoreTimeout(), e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(what + ": the transfer to " + target.host() + " failed: " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + ": interrupted", e);
    }
  }

  private static List<TransferItem> imageFiles(Path images) {
    try (Stream<Path> files = Files.list(images)) {
      return files.filter(Files::isRegularFile).sorted().map(p -> TransferItem.file(p)).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("list the checkpoint images in " + images, e);
    }
  }

  private static void closeRelay(Session s) {
    LazyPageRelay r = s.relay;
    if (r != null) r.close();
  }

  private static int freeLoopbackPort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("find a free loopback port for CRIU's lazy page server", e);
    }
  }

  private Session session(String migrationId) {
    return sessions.computeIfAbsent(migrationId, m -> new Session());
  }

  private void forget(String migrationId) {
    Session s = sessions.remove(migrationId);
    if (s != null) closeRelay(s);
    deleteTree(workDir.resolve(migrationId));
  }

  private Path imagesDir(String migrationId) {
    return workDir.resolve(migrationId).resolve("images");
  }

  private static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  /**
   * Removes a migration's directory. Mounts below it are detached first, deepest first: a CRIU restore that was killed
   * part-way leaves its cgroup yard ({@code images/.criu.cgyard.*}, a tmpfs with a mount of each cgroup hierarchy)
   * mounted there, and a walk into it would try to delete the host's cgroup files (it failed on the first, leaving
   * the directory for ever and every later move with the same id refused).
   */
  static void deleteTree(Path dir) {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
    List<String> mounts = new ArrayList<>(io.berth.isolation.rootfs.Rootfs.mountsUnder(dir));
    mounts.sort(Comparator.comparingInt(String::length).reversed());
    for (String m : mounts) io.berth.isolation.rootfs.Rootfs.unmount(Path.of(m));
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("remove " + dir, e);
    }
  }
}
