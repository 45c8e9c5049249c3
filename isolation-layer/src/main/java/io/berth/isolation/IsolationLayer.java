package io.berth.isolation;

import io.berth.isolation.cgroup.CgroupFiles;
import io.berth.isolation.cgroup.CgroupLayout;
import io.berth.isolation.cgroup.CgroupStats;
import io.berth.isolation.cgroup.Cgroups;
import io.berth.isolation.checkpoint.Checkpoint;
import io.berth.isolation.checkpoint.CheckpointStore;
import io.berth.isolation.checkpoint.Criu;
import io.berth.isolation.checkpoint.CriuException;
import io.berth.isolation.checkpoint.HeldDump;
import io.berth.isolation.checkpoint.UsernsImage;
import io.berth.isolation.config.LimitRules;
import io.berth.isolation.disk.Ext4;
import io.berth.isolation.idmap.IdRanges;
import io.berth.isolation.lxcfs.Lxcfs;
import io.berth.isolation.lxcfs.LxcfsException;
import io.berth.isolation.nativ.Syscalls;
import io.berth.isolation.network.Network;
import io.berth.isolation.network.NetworkException;
import io.berth.isolation.network.Nftables;
import io.berth.isolation.process.Commands;
import io.berth.isolation.process.ExitWatcher;
import io.berth.isolation.process.Helper;
import io.berth.isolation.process.HelperException;
import io.berth.isolation.process.Procs;
import io.berth.isolation.rootfs.NsFiles;
import io.berth.isolation.rootfs.Rootfs;
import io.berth.isolation.rootfs.RootfsPaths;
import io.berth.isolation.store.ContainerRecord;
import io.berth.isolation.store.ContainerStore;
import io.berth.isolation.template.Template;
import io.berth.protocol.spec.TemplateRef;
import io.berth.isolation.template.TemplateStore;
import io.berth.protocol.InvalidFieldException;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Limits;
import io.berth.protocol.spec.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Berth's local OS-virtualization layer: the facade the host agent drives. One class per kernel
 * concern sits behind it (rootfs, cgroups, network, checkpoint, templates, the namespace helper);
 * this class orders their steps, validates before any syscall, reverts a failed prepare, and
 * keeps one lifecycle operation per container at a time.
 *
 * <p>What must survive the owner's restart lives in the container's directory and in the kernel;
 * containers are never children of this JVM (a shim per container, re-parented to init), so the
 * owner can restart at will and {@link #adopt()} takes them back.
 */
public final class IsolationLayer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(IsolationLayer.class);
  /** Where the container's command is searched when it names no directory (execvp in the container). */
  private static final List<String> SEARCH_PATH = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");
  private static final List<String> ENV = List.of("PATH=" + String.join(":", SEARCH_PATH), "HOME=/root", "TERM=xterm");
  private static final int SIGKILL = 9;
  private static final int SIGTERM = 15;
  private static final Duration DESTROY_GRACE = Duration.ofSeconds(10);
  /** How long a fence waits for its freezes, then for its kills: the watchdog's bounds (berth-watchdog.c). */
  private static final Duration FENCE_FREEZE_BOUND = Duration.ofSeconds(2);
  private static final Duration FENCE_KILL_BOUND = Duration.ofSeconds(5);
  /** The longest hold a caller may ask: a migration's transfer and restore, with room to spare. */
  private static final Duration MAX_HOLD = Duration.ofHours(1);
  /** How often the LXCFS supervisor checks its daemon. */
  private static final Duration LXCFS_CHECK = Duration.ofSeconds(1);

  private final IsolationConfig config;
  private final ContainerStore store;
  private final TemplateStore templates;
  private final Cgroups cgroups;
  private final Network network;
  private final Nftables filter;
  private final Helper helper;
  private final Criu criu;
  private final ContainerRoot root;
  private final Lxcfs lxcfs;
  private final ContainerDisk disks;
  /** The disks of containers on shared storage, when this host mounts a shared images root. */
  private final Optional<ContainerDisk> sharedDisks;
  private final PeriodicCheckpoints periodic;
  private final ExitWatcher watcher = new ExitWatcher();
  private final Map<ContainerId, ReentrantLock> locks = new ConcurrentHashMap<>();
  /** Containers whose init Berth itself is ending (stop, kill, destroy, checkpoint). */
  private final Set<ContainerId> expectedExits = ConcurrentHashMap.newKeySet();
  private volatile Consumer<ContainerExit> exitListener = e -> {};

  public IsolationLayer(IsolationConfig config) {
    this.config = config;
    try {
      Files.createDirectories(config.dataRoot().resolve("containers"));
      requireSearchable(config.dataRoot().resolve("containers"));
    } catch (IOException e) {
      throw new UncheckedIOException("make data root " + config.dataRoot(), e);
    }
    this.store = new ContainerStore(config.dataRoot());
    this.templates = new TemplateStore(config.dataRoot().resolve("templates"), config.templateSources());
    this.cgroups = new Cgroups(CgroupFiles.host(), config.cgroupRoot());
    this.helper = Helper.locate(config.helper().orElse(null), config.dataRoot().resolve("bin"));
    this.network = new Network(helper);
    this.filter = new Nftables(config.dataRoot());
    this.criu = new Criu(config.criu());
    this.root = new ContainerRoot(store, helper, IdRanges.machine(), config.dataRoot());
    // Started on first need (an unprivileged start or restore, or adopting containers that use it).
    this.lxcfs = new Lxcfs(config.dataRoot().resolve("lxcfs"), Lxcfs.onPath(), LXCFS_CHECK, this::injectLxcfs);
    this.disks = new ContainerDisk(store, config.imagesRoot(), config.defaultDiskBytes(), config.dataRoot());
    this.sharedDisks = config.sharedImagesRoot().map(r -> new ContainerDisk(store, r, config.defaultDiskBytes(), config.dataRoot()));
    this.periodic = new PeriodicCheckpoints(this, config, java.time.Clock.systemUTC());
    for (String change : KernelLimits.raise(Path.of("/proc/sys"))) {
      if (change.contains("cannot")) LOG.warn("kernel limit {}", change);
      else LOG.info("raised kernel limit {}", change);
    }
  }

  public IsolationConfig config() {
    return config;
  }

  public TemplateStore templates() {
    return templates;
  }

  /** Called on a watcher thread each time a container's init ends. */
  public void onExit(Consumer<ContainerExit> listener) {
    this.exitListener = listener == null ? e -> {} : listener;
  }

  /**
   * Creates {@code name} with {@code gatewayCidr} (e.g. 198.18.0.1/24) unless it exists, and protects
   * the host from it: no new connection from the bridge to any of the host's addresses (see
   * {@link Nftables}). Idempotent.
   */
  public void ensureBridge(String name, String gatewayCidr) {
    ensureBridge(name, gatewayCidr, List.of());
  }

  /**
   * As {@link #ensureBridge(String, String)}, and declares the control plane's networks ({@code a.b.c.d/n}:
   * where the API, the cluster port and Cassandra listen): nothing from a container bridge is forwarded there.
   */
  public void ensureBridge(String name, String gatewayCidr, List<String> controlPlaneNetworks) {
    network.ensureBridge(name, gatewayCidr);
    filter.protectHost(name, controlPlaneNetworks);
  }

  // ---- prepare ------------------------------------------------------------------------------

  /**
   * Sets up everything but the init: a new disk image (sized by {@code limits.disk}) mounted as the
   * writable layer, overlay rootfs, cgroup with limits, net namespace with the veth (when {@code net}
   * is given; otherwise loopback only). One reversible step: on failure nothing of it is left.
   */
  public void prepare(ContainerSpec spec, NetworkAttachment net) {
    prepare(spec, net, null);
  }

  /**
   * {@link #prepare(ContainerSpec, NetworkAttachment)} with an existing disk image as the writable layer
   * instead of a new one ({@code diskImage} null: a new one): the image a migration sent, or, on shared
   * storage, the one already at {@link #diskImage}'s place, adopted in place. It is renamed into the images
   * root (so it must be on that filesystem), grown to {@code limits.disk} when that is larger, and never
   * shrunk. A failed prepare gives it back where it was. One already at its place on the shared images root
   * stays there.
   *
   * <p>{@link Storage#SHARED} without {@code diskImage}: the image lives on the shared images root
   * ({@link IsolationConfig#sharedImagesRoot}); when {@code <sharedRoot>/<id>.img} is there already (the
   * container's disk survived its dead host: a failover) it is adopted in place (this layer becomes its owner;
   * never moved, never formatted again), else it is made there. A host without a shared root refuses it.
   */
  public void prepare(ContainerSpec spec, NetworkAttachment net, Path diskImage) {
    InvalidFieldException.required("spec", spec);
    ContainerId id = spec.id();
    // Validation first, before any syscall: storage, limits against this host, the template, the command, the disk.
    boolean shared = spec.storage() == Storage.SHARED;
    if (shared && sharedDisks.isEmpty()) {
      throw new InvalidFieldException("storage", "shared storage needs a shared images root on this host (berth.storage.shared-root)",
          Storage.SHARED.wireName());
    }
    LimitRules.check(spec.limits(), config.host());
    // Where the image lives and, when it exists already, which one is adopted.
    ContainerDisk home = diskImage != null ? sharedDisks.filter(d -> d.holds(id, diskImage)).orElse(disks)
        : shared ? sharedDisks.get() : disks;
    Path adopted = diskImage != null ? diskImage
        : shared && Files.exists(home.imageFor(id), java.nio.file.LinkOption.NOFOLLOW_LINKS) ? home.imageFor(id) : null;
    String refusedField = diskImage != null ? "diskImage" : "storage";
    long diskBytes = home.bytesFor(spec.limits());
    if (adopted == null) {
      LimitRules.checkDiskRoom(spec.limits().diskBytes(), diskBytes, 0, home.freeBytes(), home.imagesRoot().toString());
    } else {
      Optional<String> refused = home.refusesAdoption(id, adopted);
      if (refused.isPresent()) {
        throw new InvalidFieldException(refusedField, diskImage != null ? refused.get()
            : "its disk image on the shared images root " + refused.get(), adopted);
      }
      long have = home.size(adopted);
      if (diskBytes > have) LimitRules.checkDiskRoom(spec.limits().diskBytes(), diskBytes, have, home.freeBytes(), home.imagesRoot().toString());
    }
    Template template = templates.resolve(spec.template());
    // No command: the template's own init when it boots systemd (a server template), else /bin/sh as before.
    List<String> argv = spec.command().isEmpty() && SystemdInit.isSystemd(RootfsPaths.findProgram(template.rootfs(), "/sbin/init", SEARCH_PATH))
        ? List.of("/sbin/init") : spec.argv();
    String argv0 = argv.get(0);
    if (RootfsPaths.findProgram(template.rootfs(), argv0, SEARCH_PATH).isEmpty()) {
      throw new InvalidFieldException("command[0]", "must name an executable file in the template's root filesystem", argv0);
    }
    if (net != null && !network.isBridge(net.bridge())) {
      throw new InvalidFieldException("network.bridge", "must name an existing bridge on this host", net.bridge());
    }
    withLock(id, () -> {
      if (Files.exists(store.dir(id))) throw new ContainerStateException("prepare", id.value(), status(id), "it must not exist yet");
      Path image = home.imageFor(id);
      if (adopted == null && Files.exists(image, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new ContainerStateException("prepare", id.value(), ContainerStatus.ABSENT, "its disk image " + image + " exists already ("
            + disks.ownerOf(id).map(o -> "held by " + o).orElse("no holder named") + "): adopt it (prepare with that image) or remove it");
      }
      Optional<String> veth = Optional.ofNullable(net).map(n -> Network.vethName(config.dataRoot().toString(), id.value()));
      Optional<String> mac = Optional.ofNullable(net).map(n -> Network.macAddress(id.value()));
      try (Reverter revert = new Reverter()) {
        try {
          step(id, "make container directory", () -> Files.createDirectories(store.dir(id)));
          revert.add(() -> deleteDir(store.dir(id)));
          long idBase = spec.privileged() ? 0 : stepValue(id, "make user namespace", () -> root.makeUserns(id, 0, revert));
          // mke2fs runs while the cgroup and the network are made (nothing of those needs the disk).
          Ext4.Formatting[] mkfs = new Ext4.Formatting[1];
          if (adopted == null) {
            step(id, "make disk image", () -> mkfs[0] = home.create(id, image, diskBytes, revert));
          } else {
            step(id, "adopt disk image", () -> home.adopt(id, adopted, revert));
            if (diskBytes > home.size(image)) step(id, "grow adopted disk image", () -> home.resizeUnmounted(image, diskBytes));
          }
          step(id, "create cgroup", () -> cgroups.create(id.value(), !spec.privileged(), revert::add));
          step(id, "write cgroup limits", () -> cgroups.apply(id.value(), spec.limits()));
          step(id, "create net namespace", () -> helper.createNetns(store.netns(id), idBase == 0 ? null : store.userns(id), id.value()));
          revert.add(() -> removeNetns(id));
          if (net != null) {
            // The rules go in before the veth exists (they name it), so the container never sends unfiltered.
            step(id, "install network filter", () -> guard(net, veth.get(), mac.get(), spec.privileged()));
            revert.add(() -> filter.unguard(veth.get()));
            step(id, "attach veth", () -> network.attach(store.netns(id), net, veth.get(), mac.get(),
                () -> revert.add(() -> network.deleteLink(veth.get()))));
          } else {
            step(id, "bring loopback up", () -> network.loopbackOnly(store.netns(id)));
          }
          if (mkfs[0] != null) step(id, "make ext4 on disk image", mkfs[0]::await);
          if (adopted == null) step(id, "mount disk image", () -> home.mountNew(id, image, revert));
          else step(id, "mount disk image", () -> home.mount(id, image, revert));
          step(id, "mount overlay rootfs", () -> root.mount(id, template.rootfs(), idBase, revert));
          store.save(new ContainerRecord(id, spec.hostname(), argv, template.digest(), spec.limits(),
              Optional.ofNullable(net), veth, 0, 0, 0, spec.privileged(), idBase, mac, Optional.of(image)));
          revert.success();
          LOG.info("prepared container={} template={} limits=[{}] address={} {} storage={} disk={}{}", id, template.digest(), spec.limits(),
              net == null ? "-" : net.address(), spec.privileged() ? "PRIVILEGED" : "ids=" + idBase + "+" + IdRanges.SIZE,
              spec.storage().wireName(), image, adopted == null ? "" : " (adopted from " + adopted + ")");
        } catch (RuntimeException e) {
          throw revert.fail(e);
        }
      }
      return null;
    });
  }

  // ---- start / stop / kill / destroy --------------------------------------------------------

  /** Runs the container's init as PID 1 of its own namespaces; returns once it has exec'd. */
  public int start(ContainerId id) {
    return withLock(id, () -> {
      ContainerRecord r = record(id, "start");
      if (isRunning(r)) throw new ContainerStateException("start", id.value(), ContainerStatus.RUNNING, "it must not be running");
      String argv0 = r.command().get(0);
      if (RootfsPaths.findProgram(store.rootfs(id), argv0, SEARCH_PATH).isEmpty()) {
        throw new InvalidFieldException("command[0]", "must name an executable file in the container's root filesystem", argv0);
      }
      Files.deleteIfExists(store.exitFile(id));
      String program = argv0.contains("/") ? argv0 : resolveInContainer(id, argv0);
      boolean systemd = SystemdInit.isSystemd(RootfsPaths.findProgram(store.rootfs(id), argv0, SEARCH_PATH));
      if (systemd && r.privileged()) {
        throw new InvalidFieldException("privileged", "must be false for a container whose init is systemd (its cgroups are mounted "
            + "inside its own cgroup namespace, which a privileged container does not have)", true);
      }
      List<CgroupLayout> layout = systemd ? CgroupLayout.host() : List.of();
      if (systemd) step(id, "delegate cgroups", () -> cgroups.delegate(id.value(), layout, r.idBase(), undo -> {}));
      Optional<Path> view = r.privileged() ? Optional.empty() : lxcfsForStart(id);
      Helper.Records rec = new Helper.Records()
          .put("rootfs", store.rootfs(id).toString())
          .put("hostname", r.hostname())
          .put("netns", store.netns(id).toString())
          .put("exitfile", store.exitFile(id).toString())
          .put("log", store.shimLog(id).toString())
          .putAll("cgroup", cgroups.procsFiles(id.value(), !r.privileged(), layout))
          .put("arg", program);
      confinement(r, rec);
      view.ifPresent(m -> rec.put("lxcfs", m.toString()));
      rec.putAll("arg", r.command().subList(1, r.command().size()));
      rec.putAll("env", ENV);
      rec.put("env", "HOSTNAME=" + r.hostname());
      rec.putAll("etc", GuestFiles.records(store.rootfs(id), r.hostname(), r.network(), config.dns()));
      if (systemd) rec.putAll("etc", GuestFiles.systemdRecords(store.rootfs(id)));
      if (systemd) SystemdInit.records(rec, id, layout);
      Helper.Started s;
      try {
        s = systemd ? helper.start(rec, SystemdInit.READY_BOUND.plusSeconds(15), "start container " + id) : helper.start(rec, "start container " + id);
      } catch (HelperException e) {
        throw new IsolationException("start init", id.value(), e);
      }
      store.save(r.withInit(s.initPid(), Procs.startTime(s.initPid()), s.shimPid()));
      expectedExits.remove(id);
      watch(id, s.shimPid());
      LOG.info("started container={} init={} shim={}{}", id, s.initPid(), s.shimPid(), systemd ? " (systemd, READY=1 received)" : "");
      announce(id, r);
      return s.initPid();
    });
  }

  /**
   * SIGTERM to the init (SIGRTMIN+3, its halt request, when the init is systemd: SIGTERM would only make it
   * re-execute itself), SIGKILL after {@code timeout}; returns once it has ended.
   */
  public void stop(ContainerId id, Duration timeout) {
    withLock(id, () -> {
      ContainerRecord r = record(id, "stop");
      requireNotHeld(id, "stop");
      if (!isRunning(r)) return null;
      expectedExits.add(id);
      int ask = SystemdInit.runsSystemd(r.initPid()) ? SystemdInit.HALT : SIGTERM;
      if (signal(r, ask) && awaitExit(r, timeout)) return null;
      if (ask == SystemdInit.HALT) LOG.warn("container={}: systemd did not halt within {}: killing it", id, timeout);
      signal(r, SIGKILL);
      if (!awaitExit(r, DESTROY_GRACE)) throw new IsolationException("stop", id.value(), "init " + r.initPid() + " still alive after SIGKILL");
      return null;
    });
  }

  /** Sends {@code signal} to the container's init. */
  public void kill(ContainerId id, int signal) {
    if (signal < 1 || signal > 64) throw new InvalidFieldException("signal", "must be between 1 and 64", signal);
    withLock(id, () -> {
      ContainerRecord r = record(id, "kill");
      requireNotHeld(id, "kill");
      if (!isRunning(r)) throw new ContainerStateException("kill", id.value(), ContainerStatus.STOPPED, "it must be running");
      if (signal == SIGKILL || signal == SIGTERM) expectedExits.add(id);
      signal(r, signal);
      return null;
    });
  }

  /**
   * Removes everything: processes, veth, net namespace, mounts, cgroup, directory, and its disk image unless
   * another layer holds it now (its owner file names that one). Idempotent.
   */
  public void destroy(ContainerId id) {
    tearDown(id, true);
  }

  /**
   * Removes everything of the container on this host as {@link #destroy} does (processes, mounts, loop device,
   * cgroup, veth, net namespace, directory, id range) but leaves its disk image and the image's owner file as they
   * are, wherever they are. For a host that comes back after its containers were restarted elsewhere: its copy is
   * stale, and the image (on shared storage) belongs to another host now, which may be writing it. Idempotent.
   */
  public void forget(ContainerId id) {
    tearDown(id, false);
  }

  private void tearDown(ContainerId id, boolean deleteDisk) {
    String operation = deleteDisk ? "destroy" : "forget";
    withLock(id, () -> {
      Optional<ContainerRecord> r = store.load(id);
      if (r.isPresent()) endHoldForTeardown(id);
      if (r.isPresent() && isRunning(r.get())) {
        expectedExits.add(id);
        signal(r.get(), SIGKILL);
        if (!awaitExit(r.get(), DESTROY_GRACE)) {
          throw new IsolationException(operation, id.value(), "init " + r.get().initPid() + " still alive after SIGKILL");
        }
      }
      watcher.cancel(id.value());
      // Stragglers (an exec'd process that left the pid namespace is impossible, but be thorough).
      for (int pid : cgroups.procs(id.value())) Syscalls.kill(pid, SIGKILL);
      r.flatMap(ContainerRecord::veth).ifPresent(network::deleteLink);
      if (r.isEmpty()) network.deleteLink(Network.vethName(config.dataRoot().toString(), id.value()));
      // Without a record (a prepare cut short by a crash) the rules may still be there under the veth's name.
      if (r.isEmpty() || r.get().veth().isPresent()) filter.unguard(r.flatMap(ContainerRecord::veth)
          .orElseGet(() -> Network.vethName(config.dataRoot().toString(), id.value())));
      removeNetns(id);
      root.unmount(id);
      disks.unmount(id);
      root.dropUserns(id);
      cgroups.remove(id.value(), System.nanoTime() + DESTROY_GRACE.toNanos());
      deleteDir(store.dir(id));
      // A prepare that died before its record was written may have made the image already: it is at its place in
      // the local images root. Without a record a shared image is left alone: it may be one that survived its dead
      // host, adopted by that prepare; losing it is worse than leaving a file the cluster still names.
      Path image = r.flatMap(ContainerRecord::diskImage).orElse(disks.imageFor(id));
      if (deleteDisk) disks.delete(id, image);
      else disks.detach(image);
      // Its checkpoints go with its image: kept while another host holds the image (it may restore them), else deleted.
      if (deleteDisk && !Files.exists(image, java.nio.file.LinkOption.NOFOLLOW_LINKS)) periodic.store().ifPresent(c -> c.deleteAll(id));
      root.releaseRange(id);
      expectedExits.remove(id);
      LOG.info(deleteDisk ? "destroyed container={}" : "forgot container={} (disk image {} left as it is)", id, image);
      return null;
    });
  }

  /**
   * Takes down what a container holds in the kernel (processes, veth, net namespace, rootfs and disk
   * mounts, loop device, cgroup) and keeps its directory and its disk image: its writable layer and its
   * record. This is what a host reboot does, done on purpose ({@code berth down}); {@link #revive} sets it
   * up again. The shim is killed before the init, so no exit is recorded: the container's status is "lost
   * with its host", as after a power cut.
   */
  public void release(ContainerId id) {
    withLock(id, () -> {
      Optional<ContainerRecord> r = store.load(id);
      if (r.isEmpty()) return null;
      endHoldForTeardown(id);
      watcher.cancel(id.value());
      if (isRunning(r.get())) {
        expectedExits.add(id);
        if (Procs.startTime(r.get().shimPid()) >= 0) Syscalls.kill(r.get().shimPid(), SIGKILL);
        signal(r.get(), SIGKILL);
      }
      for (int pid : cgroups.procs(id.value())) Syscalls.kill(pid, SIGKILL);
      long deadline = System.nanoTime() + DESTROY_GRACE.toNanos();
      while (isRunning(r.get()) && System.nanoTime() < deadline) sleep(5);
      if (isRunning(r.get())) throw new IsolationException("release", id.value(), "init " + r.get().initPid() + " still alive after SIGKILL");
      r.get().veth().ifPresent(network::deleteLink);
      r.get().veth().ifPresent(filter::unguard);
      removeNetns(id);
      root.unmount(id);
      disks.unmount(id);
      root.dropUserns(id);
      cgroups.remove(id.value(), System.nanoTime() + DESTROY_GRACE.toNanos());
      Files.deleteIfExists(store.exitFile(id));
      store.save(r.get().withInit(0, 0, 0));
      expectedExits.remove(id);
      LOG.info("released container={} (directory kept)", id);
      return null;
    });
  }

  // ---- fence ---------------------------------------------------------------------------------

  /** One container a fence is ending: its record (when it has one) and the hold CRIU had on it (when one ran). */
  private record Fencing(ContainerId id, Optional<ContainerRecord> record, Optional<HeldDump> held, List<String> errors) {}

  /**
   * The in-JVM fence of a host that lost its cluster, as the watchdog's ({@code berth-watchdog.c} {@code fence()}):
   * freezes every container of this layer that has a process (so none forks or writes on while the others are being
   * killed), SIGKILLs every process in their cgroups, kills the CRIU and hook of a held checkpoint (after its tasks
   * have the SIGKILL pending: a dead tracer lets its tracees go, and frozen they cannot), thaws so the kills land,
   * and waits, bounded, until each init is gone and each cgroup empty. It removes nothing else (directories, mounts,
   * disk images stay: {@link #forget} or {@link #destroy} decides later), so it is fast and fit for a shutdown path.
   *
   * <p>It takes no container's lock: a fence must not wait behind a long checkpoint or transfer. An operation that
   * starts a process after it (start, restore) is the caller's to stop first. Idempotent: a second call finds no
   * process and returns empty. One container's failure is logged and the others are fenced all the same.
   *
   * @return the containers whose processes it killed
   * @throws IsolationException after trying every container, when some process of one did not end within the bound
   *                            (or could not be signalled): it names each, and the ones fenced
   */
  public List<ContainerId> fenceAll() {
    long began = System.nanoTime();
    List<Fencing> fencing = new ArrayList<>();
    for (ContainerId id : store.ids()) {
      List<String> errors = new ArrayList<>();
      Optional<ContainerRecord> r = Optional.empty();
      Optional<HeldDump> held = Optional.empty();
      List<Integer> pids = List.of();
      try {
        r = store.load(id);
        held = liveHold(id);
        pids = cgroups.fenceProcs(id.value());
      } catch (RuntimeException e) {
        errors.add("read its state: " + e.getMessage());
      }
      boolean running = r.isPresent() && isRunning(r.get());
      if (pids.isEmpty() && !running && held.isEmpty() && errors.isEmpty()) continue;
      expectedExits.add(id); // a fence is Berth's doing: the exit is reported as requested
      try {
        cgroups.freeze(id.value());
      } catch (RuntimeException e) {
        errors.add("freeze (killed unfrozen): " + e.getMessage());
      }
      fencing.add(new Fencing(id, r, held, errors));
    }
    if (fencing.isEmpty()) return List.of();
    long frozenBy = System.nanoTime() + FENCE_FREEZE_BOUND.toNanos();
    while (System.nanoTime() < frozenBy && !fencing.stream().allMatch(f -> cgroups.isFrozen(f.id().value()))) sleep(2);
    for (Fencing f : fencing) {
      if (!cgroups.isFrozen(f.id().value())) LOG.warn("fence container={}: not frozen within {} ms, killed unfrozen", f.id(), FENCE_FREEZE_BOUND.toMillis());
      killAll(f);
      f.held().ifPresent(d -> {
        try {
          d.kill();
        } catch (RuntimeException e) {
          f.errors().add("kill the criu holding it: " + e.getMessage());
        }
      });
    }
    for (Fencing f : fencing) {
      try {
        cgroups.thaw(f.id().value());
      } catch (RuntimeException e) {
        f.errors().add("thaw: " + e.getMessage());
      }
    }
    long endedBy = System.nanoTime() + FENCE_KILL_BOUND.toNanos();
    List<Fencing> left = new ArrayList<>(fencing);
    while (true) {
      left.removeIf(this::fenced);
      if (left.isEmpty() || System.nanoTime() > endedBy) break;
      for (Fencing f : left) killAll(f);
      sleep(5);
    }
    List<ContainerId> ids = new ArrayList<>();
    List<String> failed = new ArrayList<>();
    for (Fencing f : fencing) {
      ids.add(f.id());
      if (left.contains(f)) {
        f.errors().add("still running after " + FENCE_KILL_BOUND.toMillis() + " ms: " + stillRunning(f));
      } else if (!cgroups.removeFreezer(f.id().value())) {
        f.errors().add("its freezer cgroup could not be removed");
      }
      if (f.errors().isEmpty()) {
        LOG.info("fenced container={} init={}", f.id(), f.record().map(ContainerRecord::initPid).orElse(0));
      } else {
        LOG.warn("fence container={}: {}", f.id(), String.join("; ", f.errors()));
        failed.add(f.id() + " (" + String.join("; ", f.errors()) + ")");
      }
    }
    releaseMounts();
    LOG.info("fence of data root {}: {} container(s) in {} ms, {} failed", config.dataRoot(), ids.size(),
        (System.nanoTime() - began) / 1_000_000, failed.size());
    if (!failed.isEmpty()) {
      throw new IsolationException("fence", String.join(",", failed.stream().map(x -> x.substring(0, x.indexOf(' '))).toList()),
          String.join("; ", failed) + " (fenced: " + ids + ")");
    }
    return ids;
  }

  /**
   * After a fence's kills: every mount under the containers' directories is detached (lazily: it goes once its last
   * user, now dead, is gone), as the watchdog does. The host stops using the disks: a shared image's loop device is
   * released (autoclear) and its filesystem is no longer mounted here when a survivor mounts it. A container that
   * runs here again later is revived (mounted again) like one after a reboot.
   */
  private void releaseMounts() {
    String prefix = config.dataRoot().resolve("containers") + "/";
    List<String> points = Rootfs.mountPoints().stream().filter(p -> p.startsWith(prefix)).toList();
    for (int i = points.size() - 1; i >= 0; i--) {
      try {
        Syscalls.umount2(points.get(i), Syscalls.MNT_DETACH);
      } catch (RuntimeException e) {
        LOG.warn("fence: detach mount {}: {}", points.get(i), e.getMessage());
      }
    }
    if (!points.isEmpty()) LOG.info("fence: detached {} container mount(s) under {}", points.size(), prefix);
  }

  /** SIGKILL to the init (through its pidfd) and to every pid of the container's cgroups. */
  private void killAll(Fencing f) {
    try {
      if (f.record().isPresent() && f.record().get().initPid() > 0) signal(f.record().get(), SIGKILL);
      for (int pid : cgroups.fenceProcs(f.id().value())) Syscalls.kill(pid, SIGKILL);
    } catch (RuntimeException e) {
      if (!f.errors().contains("kill: " + e.getMessage())) f.errors().add("kill: " + e.getMessage());
    }
  }

  /** Nothing of it runs: the recorded init is gone (a zombie counts as gone) and its cgroups hold no process. */
  private boolean fenced(Fencing f) {
    try {
      return f.record().map(r -> !isRunning(r)).orElse(true) && cgroups.fenceProcs(f.id().value()).isEmpty();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private String stillRunning(Fencing f) {
    String init = f.record().filter(IsolationLayer::isRunning).map(r -> "init " + r.initPid() + ", ").orElse("");
    try {
      return init + "pids " + cgroups.fenceProcs(f.id().value());
    } catch (RuntimeException e) {
      return init + "pids unreadable (" + e.getMessage() + ")";
    }
  }

  /**
   * Sets up again what {@link #release} (or a reboot) took down, from the container's record: its disk
   * image mounted, the overlay rootfs on its template with its own writable layer, its cgroup with its
   * limits, its net namespace and veth. Each part only if missing, so it is idempotent; a failure undoes
   * what it did.
   */
  public void revive(ContainerId id) {
    withLock(id, () -> {
      ContainerRecord recorded = record(id, "revive");
      if (isRunning(recorded)) return null;
      Template template = templates.resolve(TemplateRef.of(recorded.templateDigest()));
      try (Reverter revert = new Reverter()) {
        try {
          ContainerRecord r = recorded;
          if (r.userNamespaced() && !Rootfs.isMountPoint(store.userns(id))) {
            // The same range when this kernel still has it free (it does after a reboot or a release):
            // nothing on disk depends on it (idmapped mounts), but a checkpoint taken here names it.
            root.unmount(id);
            root.dropUserns(id);
            long base = stepValue(id, "make user namespace", () -> root.makeUserns(id, recorded.idBase(), revert));
            r = r.withIdBase(base);
          }
          ContainerRecord rec = r;
          if (rec.diskImage().isPresent() && !disks.isMounted(id)) {
            root.unmount(id); // nothing may stay on the empty mount point (the layer would be written to the host's disk)
            step(id, "mount disk image", () -> disks.mount(id, rec.diskImage().get(), revert));
          }
          if (!Rootfs.isMountPoint(store.rootfs(id))) {
            step(id, "mount overlay rootfs", () -> root.mount(id, template.rootfs(), rec.idBase(), revert));
          }
          // Idempotent: makes what is missing (in any hierarchy) and rewrites the device rules.
          step(id, "create cgroup", () -> cgroups.create(id.value(), !rec.privileged(), revert::add));
          step(id, "write cgroup limits", () -> cgroups.apply(id.value(), rec.limits()));
          boolean bridged = rec.network().isPresent() && rec.veth().isPresent() && rec.mac().isPresent();
          boolean newNetns = !Rootfs.isMountPoint(store.netns(id));
          if (bridged) {
            // Idempotent: a container whose namespace survived keeps its rules (installed again, unchanged).
            step(id, "install network filter", () -> guard(rec.network().get(), rec.veth().get(), rec.mac().get(), rec.privileged()));
            if (newNetns) revert.add(() -> filter.unguard(rec.veth().get()));
          }
          if (newNetns) {
            Files.deleteIfExists(store.netns(id));
            step(id, "create net namespace", () -> helper.createNetns(store.netns(id), rec.userNamespaced() ? store.userns(id) : null, id.value()));
            revert.add(() -> removeNetns(id));
            if (bridged) {
              network.deleteLink(rec.veth().get());
              step(id, "attach veth", () -> network.attach(store.netns(id), rec.network().get(), rec.veth().get(), rec.mac().get(),
                  () -> revert.add(() -> network.deleteLink(rec.veth().get()))));
            } else {
              step(id, "bring loopback up", () -> network.loopbackOnly(store.netns(id)));
            }
          }
          if (rec != recorded) store.save(rec);
          revert.success();
          LOG.info("revived container={}", id);
        } catch (RuntimeException e) {
          throw revert.fail(e);
        }
      }
      return null;
    });
  }

  // ---- limits, exec, inspect, stats ---------------------------------------------------------

  /**
   * Changes a container's limits (running or not), after the host rules. A new {@code limits.disk} resizes
   * its disk image: it grows while the container runs where the kernel allows an online ext4 resize
   * (CAP_SYS_RESOURCE), otherwise only while it is stopped, and shrinks only while it is stopped (an ext4
   * shrinks unmounted), never below what it holds. Refusals name the rule before anything changes.
   */
  public void setLimits(ContainerId id, Limits limits) {
    LimitRules.check(limits, config.host());
    withLock(id, () -> {
      ContainerRecord r = record(id, "set limits");
      requireNotHeld(id, "set limits");
      Optional<Path> image = r.diskImage();
      long want = disks.bytesFor(limits);
      long have = image.map(disks::size).orElse(want); // a layer from before disk images keeps its directory
      boolean running = isRunning(r);
      boolean online = want > have && Ext4.canGrowMounted();
      if (want != have) {
        if (!disks.isMounted(id)) {
          throw new ContainerStateException("set limits", id.value(), ContainerStatus.STOPPED,
              "limits.disk changes need its disk mounted: revive it first");
        }
        ContainerDisk home = diskHolding(id, image.get());
        if (want > have) LimitRules.checkDiskRoom(limits.diskBytes(), want, have, home.freeBytes(), home.imagesRoot().toString());
        else LimitRules.checkDiskShrink(limits.diskBytes(), want, disks.bytesInUse(id, image.get()));
        if (running && want < have) {
          throw new ContainerStateException("set limits", id.value(), ContainerStatus.RUNNING,
              "limits.disk can shrink only while it is stopped (an ext4 shrinks unmounted)");
        }
        if (running && !online) {
          throw new ContainerStateException("set limits", id.value(), ContainerStatus.RUNNING, "limits.disk can grow only while it is "
              + "stopped on this host: growing a mounted ext4 needs CAP_SYS_RESOURCE, which this host's root lacks");
        }
        if (online) step(id, "grow disk image", () -> disks.growMounted(id, image.get(), want));
        else step(id, "resize disk image", () -> resizeStopped(r, image.get(), want));
        LOG.info("resized disk of container={} from {} to {} bytes ({})", id, have, want, online ? "online" : "unmounted");
      }
      step(id, "write cgroup limits", () -> cgroups.apply(id.value(), limits));
      store.save(r.withLimits(limits));
      return null;
    });
  }

  /**
   * Resizes the disk of a prepared, stopped container: its overlay and layer unmounted (strictly: the
   * kernel must have closed the filesystem before resize2fs writes the file), resized, mounted again; also
   * when the resize failed, so it stays prepared as it was.
   */
  private void resizeStopped(ContainerRecord r, Path image, long bytes) throws IOException {
    ContainerId id = r.id();
    Template template = templates.resolve(TemplateRef.of(r.templateDigest()));
    root.unmount(id);
    RuntimeException failed = null;
    try {
      disks.unmountClosed(id, image);
      disks.resizeUnmounted(image, bytes);
    } catch (RuntimeException e) {
      failed = e;
    }
    try (Reverter keep = new Reverter()) {
      if (!disks.isMounted(id)) disks.mount(id, image, keep);
      root.mount(id, template.rootfs(), r.idBase(), keep);
      keep.success();
    } catch (IOException | RuntimeException e) {
      if (failed == null) throw e;
      failed.addSuppressed(e);
    }
    if (failed != null) throw failed;
  }

  /** Runs argv inside the running container (its namespaces, root and cgroup) and returns its outcome. */
  public ExecResult exec(ContainerId id, List<String> argv, Duration timeout) {
    if (argv == null || argv.isEmpty() || argv.get(0).isEmpty()) throw new InvalidFieldException("argv", "must name a program", argv);
    if (timeout == null || timeout.isNegative() || timeout.isZero()) throw new InvalidFieldException("timeout", "must be positive", timeout);
    ContainerRecord r = record(id, "exec");
    // Read only (exec takes no lock): a held container's files must not change under its dump.
    Optional<HeldDump> held = liveHold(id);
    if (held.isPresent()) {
      throw new ContainerStateException("exec", id.value(), ContainerStatus.RUNNING, "it is held frozen by a checkpoint into "
          + held.get().imagesDir() + ": commit or resume it first");
    }
    if (!isRunning(r)) throw new ContainerStateException("exec", id.value(), ContainerStatus.STOPPED, "it must be running");
    if (RootfsPaths.findProgram(store.rootfs(id), argv.get(0), SEARCH_PATH).isEmpty()) {
      throw new InvalidFieldException("command[0]", "must name an executable file in the container's root filesystem", argv.get(0));
    }
    Helper.Records rec = new Helper.Records().put("pid", Integer.toString(r.initPid()))
        .putAll("cgroup", cgroups.procsFiles(id.value(), !r.privileged(), execLayout(r))).putAll("arg", argv).putAll("env", ENV);
    // The exec'd command is confined exactly as the init was (the record says how it was started).
    if (r.privileged()) rec.put("privileged", "1");
    Commands.Result res = helper.exec(rec, timeout);
    HelperException failed = Helper.helperFailure(res, "exec in container " + id);
    if (failed != null) throw new IsolationException("exec " + argv.get(0), id.value(), failed);
    return new ExecResult(res.exitCode(), res.stdout(), res.stderr(), res.timedOut(), res.truncated());
  }

  /** The container as the kernel shows it now; ABSENT when nothing of it is here. */
  public ContainerInfo inspect(ContainerId id) {
    Optional<ContainerRecord> or = store.load(id);
    if (or.isEmpty()) {
      return new ContainerInfo(id, ContainerStatus.ABSENT, 0, null, List.of(), null, null, Optional.empty(), Optional.empty(),
          store.rootfs(id), cgroups.path(id.value()), Optional.empty());
    }
    ContainerRecord r = or.get();
    boolean running = isRunning(r);
    // The disk limit is the image's size, which follows the recorded limit, and the cpu guarantee is placement's (no
    // cgroup file holds it); the cgroup holds the rest.
    Limits limits = null;
    if (cgroups.exists(id.value())) {
      try {
        Limits kernel = cgroups.read(id.value());
        limits = kernel.withDiskBytes(r.limits().diskBytes()).withCpuGuaranteeMillis(Math.min(r.limits().cpuGuaranteeMillis(), kernel.cpuMillis()));
      } catch (io.berth.isolation.cgroup.CgroupException e) {
        // Destroyed meanwhile (its cgroup went between the check and the read): no limits, as for one without a cgroup.
        // A cgroup still there that cannot be read is a real failure.
        if (cgroups.exists(id.value())) throw e;
      }
    }
    return new ContainerInfo(id, running ? ContainerStatus.RUNNING : ContainerStatus.STOPPED, running ? r.initPid() : 0,
        r.hostname(), r.command(), r.templateDigest(), limits, r.network(), r.veth().filter(network::linkExists),
        store.rootfs(id), cgroups.path(id.value()), r.mac());
  }

  /** The containers with a directory under this data root, not inspected (a cheap listing). */
  public List<ContainerId> ids() {
    return List.copyOf(store.ids());
  }

  /** Every container with a directory under this data root, inspected. */
  public List<ContainerInfo> list() {
    List<ContainerInfo> out = new ArrayList<>();
    for (ContainerId id : store.ids()) out.add(inspect(id));
    return out;
  }

  public ContainerStats stats(ContainerId id) {
    record(id, "stats");
    CgroupStats s;
    try {
      s = cgroups.stats(id.value());
    } catch (RuntimeException e) {
      throw new IsolationException("read cgroup counters", id.value(), e);
    }
    return new ContainerStats(id, s.cpuNanos(), s.memoryBytes(), s.pids(), s.oomKills());
  }

  /** What this host's containers use together now (their parent cgroup's counters); a CgroupException names the file. */
  public io.berth.isolation.cgroup.RootUsage hostUsage() {
    return cgroups.rootUsage();
  }

  /**
   * After the owner restarted: finds the containers whose init still runs (pid alive with the
   * recorded start time, in the container's cgroup) and watches them again.
   */
  public List<ContainerInfo> adopt() {
    List<ContainerInfo> running = new ArrayList<>();
    boolean lxcfsUsed = false;
    for (ContainerId id : store.ids()) {
      Optional<ContainerRecord> r = store.load(id);
      if (r.isEmpty() || !isRunning(r.get())) continue;
      lxcfsUsed |= !r.get().privileged();
      if (!cgroups.procs(id.value()).contains(r.get().initPid())) {
        LOG.warn("adopt: container={} init={} is alive but not in its cgroup {}", id, r.get().initPid(), cgroups.path(id.value()));
      }
      // A hold in progress (its owner died): the init's end, by a decision or the bound, is Berth's doing.
      if (liveHold(id).isPresent()) expectedExits.add(id);
      watch(id, r.get().shimPid());
      running.add(inspect(id));
      LOG.info("adopted container={} init={}", id, r.get().initPid());
    }
    if (lxcfsUsed) {
      // The running LXCFS is adopted (or, if it died while the owner was down, restarted and its
      // mounts injected into the containers) and supervised from now on.
      try {
        lxcfs.ensure();
      } catch (LxcfsException e) {
        LOG.warn("adopt: LXCFS for the running containers does not answer (they see the host's /proc files until it does): {}", e.getMessage());
      }
    }
    return running;
  }

  /**
   * How the container's last init ended, as its shim recorded it (also when this process was
   * down at the time); empty when none has ended since the last start.
   */
  public Optional<ContainerExit> lastExit(ContainerId id) {
    record(id, "read last exit");
    if (!Files.exists(store.exitFile(id))) return Optional.empty();
    return Optional.of(parseExit(id, false));
  }

  /** The overlay's upper directory in the container's writable layer (on its mounted disk image). */
  public Path upperDir(ContainerId id) {
    return store.upper(id);
  }

  /**
   * The container's disk image: what moves with it to another host, one sparse file. Send it while the
   * container is released and no loop device holds it any more ({@code LoopDevices.referencing} empty: a
   * release whose unmount was busy detaches lazily, and the filesystem lives on until its last user goes),
   * so the file is consistent; keep it sparse
   * ({@code cp --sparse=always}, or a copy of its allocated extents only), and give it to the target's
   * {@link #prepare(ContainerSpec, NetworkAttachment, Path)}.
   */
  public Path diskImage(ContainerId id) {
    return store.load(id).flatMap(ContainerRecord::diskImage).orElse(disks.imageFor(id));
  }

  // ---- checkpoint / restore -----------------------------------------------------------------

  /**
   * Starts CRIU's page server for one incoming migration: it listens on {@code address:port}, takes the pages of one
   * dump into {@code imagesDir} and exits when that dump's session is over ({@link PageServer#await}). Kill it
   * ({@link PageServer#close}) when the migration ends otherwise.
   */
  public PageServer startPageServer(Path imagesDir, String address, int port) {
    InvalidFieldException.required("imagesDir", imagesDir);
    if (address == null || !address.matches("[0-9.]{7,15}")) throw new InvalidFieldException("address", "must be an IPv4 address", address);
    if (port < 1 || port > 65535) throw new InvalidFieldException("port", "must be 1 to 65535", port);
    criu.preflight();
    return PageServer.start(criu.binary(), imagesDir, address, port);
  }

  /** Beside a dump's images: the cgroups of a booted systemd that hold no task (Cgroups#emptyTree), made again at restore. */
  static final String EMPTY_CGROUPS = "berth-empty-cgroups";

  private void recordEmptyCgroups(ContainerRecord r, Path imagesDir) throws IOException {
    if (r.privileged() || !SystemdInit.runsSystemd(r.initPid())) return;
    Files.write(imagesDir.resolve(EMPTY_CGROUPS), cgroups.emptyTree(r.id().value(), CgroupLayout.host()));
  }

  /** Empty when a live checkpoint of the container can start here (it runs, CRIU serves), else why not. */
  public Optional<String> liveCheckpointRefusal(ContainerId id) {
    ContainerInfo info = inspect(id);
    if (info.status() != ContainerStatus.RUNNING) return Optional.of("container " + id + " is not running");
    return liveRestoreRefusal();
  }

  /** Empty when CRIU can dump and restore on this host (its version and {@code criu check}), else CRIU's reason. */
  public Optional<String> liveRestoreRefusal() {
    try {
      criu.preflight();
      return Optional.empty();
    } catch (CriuException e) {
      return Optional.of(e.getMessage());
    }
  }

  /** Empty when a post-copy restore can run here (CRIU, and a userfaultfd for a user-namespaced container), else why not. */
  public Optional<String> postCopyRefusal() {
    Optional<String> criuRefusal = liveRestoreRefusal();
    return criuRefusal.isPresent() ? criuRefusal : criu.postCopyRefusal();
  }

  /**
   * Where a migration's copy of the container's disk image is received: under the images root, on its
   * filesystem, so {@link #prepare(ContainerSpec, NetworkAttachment, Path)} adopts it by a rename.
   */
  public Path incomingDiskImage(ContainerId id, String migrationId) {
    InvalidFieldException.required("id", id);
    if (migrationId == null || !migrationId.matches("[a-z0-9][a-z0-9-]{0,127}")) {
      throw new InvalidFieldException("migrationId", "must be 1-128 lowercase letters, digits and dashes", migrationId);
    }
    Path dir = config.imagesRoot().resolve(".incoming");
    try {
      Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
          java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw new UncheckedIOException("make " + dir, e);
    }
    return dir.resolve(id.value() + "-" + migrationId + ".img");
  }


  /**
   * CRIU dump of the running container into {@code imagesDir} (made with mode 0700, must be empty).
   * Without {@code leaveRunning} the container is stopped afterwards (still prepared).
   */
  public void checkpoint(ContainerId id, Path imagesDir, boolean leaveRunning) {
    InvalidFieldException.required("imagesDir", imagesDir);
    withLock(id, () -> {
      ContainerRecord r = record(id, "checkpoint");
      requireNotHeld(id, "checkpoint");
      if (!isRunning(r)) throw new ContainerStateException("checkpoint", id.value(), ContainerStatus.STOPPED, "it must be running");
      criu.preflight();
      Criu.prepareImagesDir(imagesDir);
      recordEmptyCgroups(r, imagesDir);
      if (!leaveRunning) expectedExits.add(id);
      try {
        criu.dump(r.initPid(), imagesDir, r.veth().isPresent(), lxcfsBinds(r.initPid()), leaveRunning, "container " + id);
      } catch (CriuException e) {
        expectedExits.remove(id);
        throw new IsolationException("checkpoint", id.value(), e);
      }
      if (!leaveRunning && !awaitExit(r, DESTROY_GRACE)) {
        throw new IsolationException("checkpoint", id.value(), "init " + r.initPid() + " still alive after criu dump");
      }
      LOG.info("checkpointed container={} images={} leaveRunning={}", id, imagesDir, leaveRunning);
      return null;
    });
  }

  /**
   * A periodic checkpoint of the running container, kept on the shared images root ({@link CheckpointStore}): CRIU
   * dumps it and lets it run on; the frozen time is CRIU's own measure. {@code host} names this host in the
   * manifest. The newest {@value CheckpointStore#KEEP} are kept. A failure is recorded in the store (shown until the
   * next success) and thrown; the container runs on either way. Its disk is not part of it: see
   * {@link PeriodicCheckpoints}.
   *
   * @throws InvalidFieldException {@code storage} without a shared root, or for a container whose disk is not on it
   */
  public Checkpoint takeCheckpoint(ContainerId id, String host) {
    return periodic.take(id, host);
  }

  /** The shared images root's checkpoint store (kept checkpoints, their failures); empty on a host without one. */
  public Optional<CheckpointStore> checkpoints() {
    return periodic.store();
  }

  /**
   * Restores a periodic checkpoint into the prepared, not running container (on shared storage: prepared with its
   * disk adopted in place), from a copy of its images; the checkpoint stays as it was. Returns the init's pid. A
   * failed restore leaves the container prepared, as {@link #restore} does, so a cold start can follow.
   *
   * @throws InvalidFieldException {@code checkpoint} when it is another container's, gone, or its manifest corrupt
   */
  public int restoreCheckpoint(ContainerId id, Checkpoint checkpoint) {
    return periodic.restore(id, checkpoint);
  }

  /**
   * Restores a checkpointed container into this data root. The container must be prepared here
   * and not running (its rootfs upper layer as it was at the dump). The prepared net namespace
   * and veth are replaced by the ones CRIU restores (the veth re-created on the same bridge).
   */
  public int restore(ContainerId id, Path imagesDir) {
    return restore(id, imagesDir, null, 0).pid();
  }

  /** A post-copy restore: the container runs as {@code pid} while {@code pages} fills its memory from the source. */
  public record LazyRestore(int pid, LazyPages pages) {}

  /**
   * {@link #restore(ContainerId, Path)} for post-copy: the images hold no memory pages; a {@link LazyPages} daemon,
   * started here first, takes each page from the source's CRIU at {@code address:port} on its first touch and the
   * rest in the background. The container runs when this returns; {@link LazyPages#await} tells whether every page
   * arrived (if not, the container was killed: it never runs on pages it did not receive).
   */
  public LazyRestore restoreLazy(ContainerId id, Path imagesDir, String address, int port) {
    if (address == null || !address.matches("[0-9.]{7,15}")) throw new InvalidFieldException("address", "must be an IPv4 address", address);
    if (port < 1 || port > 65535) throw new InvalidFieldException("port", "must be 1 to 65535", port);
    return restore(id, imagesDir, address, port);
  }

  private LazyRestore restore(ContainerId id, Path imagesDir, String lazyAddress, int lazyPort) {
    InvalidFieldException.required("imagesDir", imagesDir);
    if (!Files.isRegularFile(imagesDir.resolve("inventory.img"))) {
      throw new InvalidFieldException("imagesDir", "must hold a CRIU checkpoint (inventory.img)", imagesDir);
    }
    return withLock(id, () -> {
      ContainerRecord r = record(id, "restore");
      if (isRunning(r)) throw new ContainerStateException("restore", id.value(), ContainerStatus.RUNNING, "it must not be running");
      criu.preflight();
      // The image's LXCFS binds are bound again from this host's LXCFS: it must answer first.
      Map<String, Path> binds = new java.util.TreeMap<>();
      if (!r.privileged()) {
        Path m;
        try {
          m = lxcfs.ensure();
        } catch (LxcfsException e) {
          throw new IsolationException("restore", id.value(), "LXCFS must answer on this host to bind the container's /proc files again: "
              + e.getMessage());
        }
        for (String f : Lxcfs.FILES) if (Files.exists(m.resolve(f))) binds.put("/" + f, m.resolve(f));
      }
      // The rules name the host veth, so they hold for the pair made below (installed again in case this
      // data root's were lost); CRIU gives eth0 back the MAC in its images: the id's, which they name.
      if (r.network().isPresent() && r.veth().isPresent() && r.mac().isPresent()) {
        step(id, "install network filter", () -> guard(r.network().get(), r.veth().get(), r.mac().get(), r.privileged()));
      }
      // CRIU restores the net namespace (from inside the user namespace it restores): the prepared one
      // goes, and the veth's container end waits in the host's namespace for CRIU to move it in.
      r.veth().ifPresent(network::deleteLink);
      removeNetns(id);
      String peer = r.veth().map(v -> network.createPairForRestore(v, r.network().orElseThrow().bridge(), () -> {})).orElse(null);
      Files.deleteIfExists(store.exitFile(id));
      Path pidfile = imagesDir.resolve("restore.pid");
      Files.deleteIfExists(pidfile);
      // CRIU reads some images after it has entered the container's user namespace, as its root: give
      // that root the images (still 0700; they are its own memory), as LXD does for unprivileged containers.
      if (r.userNamespaced()) {
        // The images name the dumping host's id range; here the container has this host's (its layers are
        // idmapped with it). CRIU's restored root task reads images both before it takes the container's root
        // (as the host's uid 0, which owns them) and after (as the range's first id): the range's root group
        // gets read access (0750/0640; they are its own memory), nobody else.
        step(id, "move the images' id mapping to this host's range", () -> {
          int n = UsernsImage.rebase(imagesDir, r.idBase(), IdRanges.SIZE);
          if (n == 0) throw new CriuException("checkpoint " + imagesDir + " of a user-namespaced container holds no userns image", "");
        });
        step(id, "give the images to the container's root group", () -> shareWithGroup(imagesDir, r.idBase(), id));
      }
      // A booted systemd has its cgroups (and its own tree below them) in every hierarchy: delegated here first, as a
      // start would, and CRIU told where each of them is on this host.
      boolean systemd = !r.privileged() && SystemdInit.isSystemd(RootfsPaths.findProgram(store.rootfs(id), r.command().get(0), SEARCH_PATH));
      List<CgroupLayout> layout = systemd ? CgroupLayout.host() : List.of();
      if (systemd) step(id, "delegate cgroups", () -> cgroups.delegate(id.value(), layout, r.idBase(), undo -> {}));
      Path emptyTree = imagesDir.resolve(EMPTY_CGROUPS);
      if (systemd && Files.exists(emptyTree)) {
        step(id, "make its empty cgroups", () -> cgroups.makeEmptyTree(id.value(), Files.readAllLines(emptyTree), r.idBase()));
      }
      List<String> roots = systemd ? cgroups.criuRoots(id.value(), layout) : cgroups.criuRoots(id.value(), !r.privileged());
      List<String> args = new ArrayList<>(criu.restoreArgs(imagesDir, store.rootfs(id), pidfile, peer, roots, binds));
      // Post-copy: the daemon must listen before the restore hands it the tasks' userfaultfds.
      LazyPages lazy = lazyAddress == null ? null
          : LazyPages.start(criu.binary(), imagesDir, lazyAddress, lazyPort, cgroups.procsFiles(id.value(), !r.privileged()));
      if (lazy != null) args.add("--lazy-pages");
      Helper.Records rec = new Helper.Records().put("criu", criu.binary().toString()).put("pidfile", pidfile.toString())
          .put("exitfile", store.exitFile(id).toString()).put("log", store.shimLog(id).toString()).putAll("arg", args);
      Helper.Started s;
      try {
        // A post-copy restore cannot finish once its daemon is gone (it failed, and its wrapper killed the container's
        // cgroups): CRIU was seen to wait on for good then (the source killed 3 s into the restore). It is ended.
        s = helper.restore(rec, Duration.ofMinutes(5), lazy == null ? () -> false : lazy::failed, "restore container " + id);
      } catch (HelperException e) {
        if (lazy != null) lazy.close();
        String why = lazy != null && lazy.failed() ? "criu lazy-pages exited " + lazy.status().getAsInt() + " during the restore, which was ended: "
            + lazy.lastError() : e.getMessage();
        IsolationException failed = new IsolationException("restore", id.value(),
            new CriuException(why, Criu.logTail(imagesDir.resolve(Criu.RESTORE_LOG))));
        // Leave it prepared as it was before, so a start or another restore can follow.
        try {
          r.veth().ifPresent(network::deleteLink);
          revive(id);
        } catch (RuntimeException undo) {
          failed.addSuppressed(undo);
        }
        throw failed;
      }
      // Keep the restored namespaces reachable as before, for a later start or exec after a stop: the net
      // namespace, and the user namespace CRIU made (same mapping) that owns it.
      step(id, "bind restored net namespace", () -> {
        NsFiles.bind(s.initPid(), "net", store.netns(id));
      });
      if (r.userNamespaced()) step(id, "bind restored user namespace", () -> root.rebindUserns(id, s.initPid()));
      if (systemd) step(id, "delegate the restored cgroups", () -> cgroups.delegateBelow(id.value(), layout, r.idBase()));
      store.save(r.withInit(s.initPid(), Procs.startTime(s.initPid()), s.shimPid()));
      expectedExits.remove(id);
      watch(id, s.shimPid());
      LOG.info("restored container={} init={} images={}{}", id, s.initPid(), imagesDir, lazy == null ? "" : " (post-copy from " + lazy.source() + ")");
      announce(id, r);
      return new LazyRestore(s.initPid(), lazy);
    });
  }

  // ---- held checkpoint (the source of a live migration), disk sync ------------------------

  /**
   * CRIU dump of the running container into {@code imagesDir} (made with mode 0700, must be empty) that
   * holds it frozen after the dump until the returned handle decides: {@link HeldCheckpoint#commit} (CRIU
   * kills the source; the copy restored from the images is the container now) or
   * {@link HeldCheckpoint#resume} (the tasks go on where they were, same init; no restore needed). The dump
   * takes today's {@link #checkpoint} arguments without leave-running (established TCP kept, the veth and
   * the LXCFS binds external), and runs with CRIU's post-dump action script as the hold ({@link HeldDump}).
   * Returns once the tasks are dumped and frozen; the images are complete then.
   *
   * <p>CRIU and its hook run in a session of their own, not as children of this JVM: if it dies the hold
   * goes on, and a new owner takes it back with {@link #attachHeld}. While held, the container refuses
   * stop, kill, exec, checkpoints and limit changes; destroy and release commit it first.
   *
   * <p><b>{@code holdBound}</b>, counted from the hold: without a decision by then the hook lets CRIU kill
   * the source, because never two running copies matters more than a lost memory image (the target may
   * already run one). The images stay; {@link HeldCheckpoint#resume} then fails saying so, and the caller
   * records the loss. The exit is reported to {@link #onExit} as requested.
   *
   * @throws IsolationException when CRIU fails before the hold: the container keeps running (CRIU lets a
   *                            failed dump's tasks go on), with CRIU's log tail
   */
  public HeldCheckpoint checkpointHeld(ContainerId id, Path imagesDir, Duration holdBound) {
    return checkpointHeld(id, imagesDir, holdBound, (String) null);
  }

  /**
   * {@link #checkpointHeld(ContainerId, Path, Duration)} with the memory pages sent by CRIU straight to a page server
   * on the target ({@link #startPageServer}) instead of written into {@code imagesDir}: the pages cross once, from the
   * kernel to the socket, while the dump runs; {@code imagesDir} then holds the other images only (tens of KB).
   *
   * @param pageServer {@code address:port} of the target's page server, or null for pages in {@code imagesDir}
   */
  public HeldCheckpoint checkpointHeld(ContainerId id, Path imagesDir, Duration holdBound, String pageServer) {
    if (pageServer != null && !pageServer.matches("[0-9.]{7,15}:[0-9]{1,5}")) {
      throw new InvalidFieldException("pageServer", "must be IPV4:PORT", pageServer);
    }
    List<String> extra = new ArrayList<>();
    if (pageServer != null) {
      int colon = pageServer.lastIndexOf(':');
      extra.addAll(List.of("--page-server", "--address", pageServer.substring(0, colon), "--port", pageServer.substring(colon + 1)));
    }
    return checkpointHeldWith(id, imagesDir, holdBound, extra);
  }

  /**
   * {@link #checkpointHeld(ContainerId, Path, Duration)} for post-copy ({@code criu dump --lazy-pages}): the images
   * hold everything but the memory pages, which stay with the frozen tasks; once the hold is committed CRIU serves
   * them on {@code 127.0.0.1:lazyPort} to the target's {@link LazyPages} daemon (through Berth's relay, which
   * connects there) and kills the tasks when every page was taken. {@link HeldCheckpoint#commit} returns then. If
   * that transfer fails, the source's tasks are killed all the same ({@link HeldDump}): the target's copy ran
   * already, and only the target can tell whether its memory is whole.
   */
  public HeldCheckpoint checkpointHeldLazy(ContainerId id, Path imagesDir, Duration holdBound, int lazyPort) {
    if (lazyPort < 1 || lazyPort > 65535) throw new InvalidFieldException("lazyPort", "must be 1 to 65535", lazyPort);
    return checkpointHeldWith(id, imagesDir, holdBound, List.of("--lazy-pages", "--address", "127.0.0.1", "--port", Integer.toString(lazyPort)));
  }

  private HeldCheckpoint checkpointHeldWith(ContainerId id, Path imagesDir, Duration holdBound, List<String> extraArgs) {
    InvalidFieldException.required("imagesDir", imagesDir);
    InvalidFieldException.required("holdBound", holdBound);
    if (holdBound.isNegative() || holdBound.isZero()) throw new InvalidFieldException("holdBound", "must be positive", holdBound);
    if (holdBound.compareTo(MAX_HOLD) > 0) throw new InvalidFieldException("holdBound", "must be at most " + MAX_HOLD, holdBound);
    Path images = imagesDir.toAbsolutePath().normalize();
    return withLock(id, () -> {
      ContainerRecord r = record(id, "checkpoint (held)");
      requireNotHeld(id, "checkpoint (held)");
      if (!isRunning(r)) throw new ContainerStateException("checkpoint (held)", id.value(), ContainerStatus.STOPPED, "it must be running");
      criu.preflight();
      Criu.prepareImagesDir(images);
      recordEmptyCgroups(r, images);
      List<String> argv = new ArrayList<>(criu.dumpArgv(r.initPid(), images, r.veth().isPresent(), lxcfsBinds(r.initPid()), false));
      argv.addAll(extraArgs);
      // Expected from now on: the bound may end the init with nobody deciding.
      expectedExits.add(id);
      HeldDump dump = null;
      try {
        // The marker first: from the launch on, the container is held (a crash leaves the marker naming it).
        Files.writeString(holdMarker(id), images + "\n");
        dump = HeldDump.launch(argv, r.initPid(), cgroups.procsFiles(id.value(), !r.privileged()), images, holdBound);
        if (dump.awaitHeld(Criu.dumpTimeout())) {
          LOG.info("held checkpoint container={} images={} dumpMs={} bound={}", id, images,
              (dump.heldAtNanos() - dump.launchedNanos()) / 1_000_000, holdBound);
          return new HeldCheckpoint(this, id, r, dump);
        }
        String ended = dump.outcome().map(o -> "its hold ended at once (" + o + ")").orElse("criu exited " + dump.status().orElse(-1)
            + " before the hold");
        boolean alive = isRunning(r);
        throw new CriuException("held dump of container " + id + " (pid " + r.initPid() + "): " + ended + "; "
            + (alive ? "the container keeps running (init " + r.initPid() + ")" : "its init " + r.initPid() + " is gone"), dump.logTail());
      } catch (Exception e) {
        try {
          // A failure after the hold was reached (none is expected) must not leave it to the bound's kill.
          if (dump != null && dump.isWaiting()) {
            dump.decide(HeldDump.Decision.RESUME);
            dump.awaitExit(DESTROY_GRACE);
          }
          if (isRunning(r)) expectedExits.remove(id);
          Files.deleteIfExists(holdMarker(id));
          if (dump != null && !dump.criuAlive()) dump.removeControlDir();
        } catch (Exception undo) {
          e.addSuppressed(undo);
        }
        throw e instanceof IsolationException ie ? ie : new IsolationException("checkpoint (held)", id.value(), e);
      }
    });
  }

  /**
   * The hold a {@link #checkpointHeld} started on {@code imagesDir}, taken back (by a new owner after the
   * one that started it died; CRIU and its hook outlive it): present while the hook still waits for a
   * decision (a dump still on its way to the hold is awaited), empty when none was started there or it has
   * ended. Its exit is expected from now on, as with the original handle.
   */
  public Optional<HeldCheckpoint> attachHeld(ContainerId id, Path imagesDir) {
    InvalidFieldException.required("imagesDir", imagesDir);
    Path images = imagesDir.toAbsolutePath().normalize();
    return withLock(id, () -> {
      ContainerRecord r = record(id, "attach held checkpoint");
      Optional<HeldDump> found = HeldDump.find(images);
      if (found.isEmpty()) return Optional.empty();
      HeldDump dump = found.get();
      if (dump.targetPid() != r.initPid()) {
        throw new InvalidFieldException("imagesDir", "must be a held checkpoint of this container (its dump froze pid " + dump.targetPid()
            + ", the container's init is " + r.initPid() + ")", imagesDir);
      }
      expectedExits.add(id);
      if (!dump.awaitHeld(Criu.dumpTimeout()) || !dump.isWaiting()) {
        if (isRunning(r)) expectedExits.remove(id);
        return Optional.empty();
      }
      Files.writeString(holdMarker(id), images + "\n");
      LOG.info("attached held checkpoint container={} images={}", id, images);
      return Optional.of(new HeldCheckpoint(this, id, r, dump));
    });
  }

  /**
   * syncfs(2) on the container's mounted disk (the writable layer's ext4): everything written so far is on
   * the image file when it returns. Taken while the container is frozen (held), a copy of the image then
   * holds every write, crash-consistent: the target's mount replays the journal. A container whose layer
   * is a plain directory (prepared before disk images) syncs that directory's filesystem.
   */
  public void syncDisk(ContainerId id) {
    ContainerRecord r = record(id, "sync disk");
    if (r.diskImage().isPresent() && !disks.isMounted(id)) {
      throw new ContainerStateException("sync disk", id.value(), status(id), "its disk image must be mounted (prepared or revived, not released)");
    }
    Path on = r.diskImage().isPresent() ? store.layer(id) : store.upper(id);
    step(id, "syncfs " + on, () -> Syscalls.syncfs(on.toString()));
  }

  /** For {@link HeldCheckpoint} and {@link PeriodicCheckpoints}: one lifecycle operation per container at a time. */
  <T> T lockedForHold(ContainerId id, java.util.function.Supplier<T> body) {
    return withLock(id, body::get);
  }

  /** For {@link HeldCheckpoint}: an init ending now is Berth's doing ({@code requested} in its exit). */
  void expectExit(ContainerId id, boolean expected) {
    if (expected) expectedExits.add(id);
    else expectedExits.remove(id);
  }

  /**
   * Tells the segment where the container's address is now ({@link Network#announce}), when it has one. A
   * failure is logged, not thrown: the container runs, and neighbours learn its place when it first sends.
   */
  void announce(ContainerId id, ContainerRecord r) {
    if (r.network().isEmpty()) return;
    try {
      LOG.debug("announced container={}: {}", id, network.announce(store.netns(id)));
    } catch (NetworkException e) {
      LOG.warn("container={} runs, but announcing its address failed (neighbours learn it when it first sends): {}", id, e.getMessage());
    }
  }

  /** For {@link HeldCheckpoint}: whether the init recorded at the dump still runs. */
  boolean initRunning(ContainerRecord r) {
    return isRunning(r);
  }

  /** For {@link HeldCheckpoint}: waits until the init is gone and its shim recorded how (bounded). */
  boolean awaitInitExit(ContainerRecord r, Duration timeout) {
    return awaitExit(r, timeout);
  }

  /** For {@link HeldCheckpoint}: the hold has ended; the container is free for other operations. */
  void holdEnded(ContainerId id, HeldDump dump) {
    try {
      Files.deleteIfExists(holdMarker(id));
    } catch (IOException e) {
      throw new UncheckedIOException("remove " + holdMarker(id), e);
    }
    if (!dump.criuAlive()) dump.removeControlDir();
  }

  /** {@code containers/<id>/hold}: the images directory of the hold in progress on the container. */
  private Path holdMarker(ContainerId id) {
    return store.dir(id).resolve("hold");
  }

  /** The hold in progress on the container (CRIU still runs for it), read only: callable without the lock. */
  private Optional<HeldDump> liveHold(ContainerId id) {
    String images;
    try {
      images = Files.readString(holdMarker(id)).strip();
    } catch (java.nio.file.NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("read " + holdMarker(id), e);
    }
    return images.isEmpty() ? Optional.empty() : HeldDump.find(Path.of(images));
  }

  /** Refuses {@code operation} while the container is held; under the lock, clears what a hold nobody settled left. */
  private void requireNotHeld(ContainerId id, String operation) {
    Optional<HeldDump> held = liveHold(id);
    if (held.isPresent()) {
      throw new ContainerStateException(operation, id.value(), ContainerStatus.RUNNING, "it is held frozen by a checkpoint into "
          + held.get().imagesDir() + ": commit or resume it first");
    }
    clearStaleHold(id);
  }

  private void clearStaleHold(ContainerId id) {
    Path marker = holdMarker(id);
    if (!Files.exists(marker)) return;
    try {
      String images = Files.readString(marker).strip();
      if (!images.isEmpty()) HeldDump.removeIfEnded(Path.of(images));
      Files.deleteIfExists(marker);
    } catch (IOException e) {
      throw new UncheckedIOException("clear " + marker, e);
    }
  }

  /**
   * Destroy and release during a hold: the tasks die either way, so the hold is committed (CRIU kills them
   * and exits; its images stay), or, when CRIU does not end, CRIU and its hook are killed.
   */
  private void endHoldForTeardown(ContainerId id) {
    Optional<HeldDump> held = liveHold(id);
    if (held.isPresent()) {
      HeldDump d = held.get();
      expectedExits.add(id);
      try {
        if (d.outcome().isEmpty()) d.decide(HeldDump.Decision.COMMIT);
        d.awaitExit(DESTROY_GRACE);
      } catch (RuntimeException e) {
        LOG.warn("container={} held by {}: criu did not end on commit, killing it: {}", id, d.imagesDir(), e.getMessage());
        d.kill();
      }
      LOG.info("container={} hold into {} committed for teardown: {}", id, d.imagesDir(), d.outcome().orElse(null));
    }
    clearStaleHold(id);
  }

  // ---- the container's own view of its resources (LXCFS) -----------------------------------

  /** This data root's LXCFS (its mount, its daemon's pid). */
  public Lxcfs lxcfs() {
    return lxcfs;
  }

  /**
   * Ends this data root's LXCFS and unmounts it: for {@code berth down} and tests, once no unprivileged
   * container runs here (theirs would read ENOTCONN from then on). Neither {@link #close} nor the last
   * destroy ends it: containers outlive the owner, and the next start would pay for a new daemon.
   */
  public void stopLxcfs() {
    for (ContainerId id : store.ids()) {
      Optional<ContainerRecord> r = store.load(id);
      if (r.isPresent() && isRunning(r.get()) && !r.get().privileged()) {
        throw new ContainerStateException("stop LXCFS", id.value(), ContainerStatus.RUNNING,
            "no unprivileged container may run while LXCFS stops (it reads its /proc files through it)");
      }
    }
    lxcfs.stop(DESTROY_GRACE);
  }

  /**
   * The LXCFS mount for a container's start, or empty: a container starts with the host's view rather
   * than not at all when LXCFS cannot be had (its limits are the cgroup's either way; LXCFS only
   * changes what it reads), logged, and the supervisor injects the mounts once LXCFS answers again.
   */
  private Optional<Path> lxcfsForStart(ContainerId id) {
    try {
      return Optional.of(lxcfs.ensure());
    } catch (LxcfsException e) {
      LOG.warn("start container={} without LXCFS: it sees the host's /proc files until LXCFS answers again: {}", id, e.getMessage());
      return Optional.empty();
    }
  }

  /** The mount points of the container's LXCFS binds, as its init sees them (for CRIU's --external). */
  private static List<String> lxcfsBinds(int initPid) {
    List<String> points = new ArrayList<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(Path.of("/proc", Integer.toString(initPid), "mountinfo"));
    } catch (IOException e) {
      throw new UncheckedIOException("read mountinfo of init " + initPid, e);
    }
    for (String line : lines) {
      int dash = line.indexOf(" - ");
      String[] f = line.split(" ");
      if (dash > 0 && f.length > 4 && line.startsWith("fuse.lxcfs ", dash + 3) && !points.contains(f[4])) points.add(f[4]);
    }
    return points;
  }

  /**
   * After a new LXCFS daemon answers (the old one died or hung): every running unprivileged container
   * still holds binds of the dead mount (ENOTCONN), or none if it started while LXCFS was down; the
   * helper replaces them with binds of the new one, each under the container's lock.
   */
  private void injectLxcfs(Path mount) {
    for (ContainerId id : store.ids()) {
      try {
        withLock(id, () -> {
          Optional<ContainerRecord> r = store.load(id);
          if (r.isEmpty() || r.get().privileged() || !isRunning(r.get())) return null;
          int n = helper.injectLxcfs(r.get().initPid(), mount, "inject LXCFS mounts into container " + id);
          LOG.info("lxcfs mounts injected container={} files={}", id, n);
          return null;
        });
      } catch (RuntimeException e) {
        LOG.warn("inject LXCFS mounts into container={}: {}", id, e.getMessage());
      }
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * The init of an unprivileged container reaches its root filesystem by path as its own root, a host uid
   * no directory grants anything to: every directory from {@code /} down to {@code containers} must let
   * others search it (o+x), or start fails with EACCES deep in the helper. Said up front instead.
   */
  private static void requireSearchable(Path dir) throws IOException {
    for (Path d = dir.toAbsolutePath(); d != null; d = d.getParent()) {
      if (!Files.getPosixFilePermissions(d).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
        throw new InvalidFieldException("dataRoot", "every directory above the containers must be searchable by others (chmod o+x), "
            + "since a container's root is an unprivileged host uid; " + d + " is not", dir);
      }
    }
  }

  /** The disks (local or shared images root) that keep {@code image}: whose free space a grow needs. */
  private ContainerDisk diskHolding(ContainerId id, Path image) {
    return sharedDisks.filter(d -> d.holds(id, image)).orElse(disks);
  }

  private ContainerStatus status(ContainerId id) {
    return inspect(id).status();
  }

  private ContainerRecord record(ContainerId id, String operation) {
    InvalidFieldException.required("id", id);
    return store.load(id).orElseThrow(() -> new ContainerStateException(operation, id.value(), ContainerStatus.ABSENT, "it must be prepared first"));
  }

  private static boolean isRunning(ContainerRecord r) {
    return r.initPid() > 0 && Procs.isAlive(r.initPid(), r.initStartTime());
  }

  /** Signals the init through a pidfd (no pid-reuse race); false when it has already gone. */
  private boolean signal(ContainerRecord r, int signal) {
    int fd = Syscalls.pidfdOpen(r.initPid());
    if (fd < 0) return false;
    try {
      if (!Procs.isAlive(r.initPid(), r.initStartTime())) return false; // the pid was reused: not ours
      return Syscalls.pidfdSendSignal(fd, signal, "container " + r.id() + " init " + r.initPid());
    } finally {
      Syscalls.close(fd);
    }
  }

  /** Waits until the init is gone and its shim has recorded the status (bounded). */
  private boolean awaitExit(ContainerRecord r, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!Procs.isAlive(r.initPid(), r.initStartTime()) && (Files.exists(store.exitFile(r.id())) || Procs.startTime(r.shimPid()) < 0)) {
        return true;
      }
      sleep(2);
    }
    return false;
  }

  private void watch(ContainerId id, int shimPid) {
    watcher.watch(id.value(), shimPid, () -> {
      ContainerExit exit = readExit(id);
      try {
        exitListener.accept(exit);
      } catch (RuntimeException e) {
        LOG.warn("exit listener failed for container={}", id, e);
      }
    });
  }

  private ContainerExit readExit(ContainerId id) {
    return parseExit(id, expectedExits.remove(id));
  }

  private ContainerExit parseExit(ContainerId id, boolean requested) {
    try {
      String[] f = Files.readString(store.exitFile(id)).strip().split(" ");
      int n = Integer.parseInt(f[1]);
      return f[0].equals("exited") ? new ContainerExit(id, OptionalInt.of(n), OptionalInt.empty(), requested)
          : new ContainerExit(id, OptionalInt.empty(), OptionalInt.of(n), requested, f.length > 2 && f[2].equals("poweroff"),
              f.length > 2 && f[2].equals("reboot"));
    } catch (IOException | RuntimeException e) {
      return new ContainerExit(id, OptionalInt.empty(), OptionalInt.empty(), requested);
    }
  }

  /** The absolute path of a bare command name inside the container, as execvp would find it. */
  /** The hierarchies an exec'd process joins beyond the usual ones: a systemd container's every one (SystemdInit). */
  private static List<CgroupLayout> execLayout(ContainerRecord r) {
    return !r.privileged() && SystemdInit.runsSystemd(r.initPid()) ? CgroupLayout.host() : List.of();
  }

  private String resolveInContainer(ContainerId id, String name) {
    for (String dir : SEARCH_PATH) {
      if (RootfsPaths.resolve(store.rootfs(id), dir + "/" + name).filter(Files::isRegularFile).isPresent()) return dir + "/" + name;
    }
    return name;
  }

  /**
   * The container's rules: anti-spoofing on its veth unless it is privileged (the baseline the attack
   * tests run on); the host's protection from its bridge in every case.
   */
  private void guard(NetworkAttachment net, String veth, String mac, boolean privileged) {
    if (privileged) filter.protectHostOnly(net.bridge());
    else filter.guard(net.bridge(), veth, mac, net.address());
  }

  private void removeNetns(ContainerId id) {
    NsFiles.unbind(store.netns(id));
  }

  private static void shareWithGroup(Path dir, long gid, ContainerId id) {
    for (List<String> argv : List.of(List.of("chown", "-R", "0:" + gid, dir.toString()), List.of("chmod", "-R", "g+rX,g-w,o-rwx", dir.toString()))) {
      Commands.Result r = Commands.run(argv, null, Duration.ofMinutes(1));
      if (!r.ok()) throw new IsolationException(String.join(" ", argv.subList(0, 2)) + " " + dir, id.value(), r.describe());
    }
  }

  private static void deleteDir(Path dir) {
    if (!Files.exists(dir)) return;
    // --one-file-system: never descend into a mount (a rootfs not unmounted must not be emptied).
    Commands.Result r = Commands.run(List.of("rm", "-rf", "--one-file-system", dir.toString()), null, Duration.ofMinutes(2));
    if (!r.ok()) throw new UncheckedIOException(new IOException("remove " + dir + ": " + r.describe()));
  }

  @FunctionalInterface
  private interface Step {
    void run() throws Exception;
  }

  @FunctionalInterface
  private interface Locked<T> {
    T run() throws Exception;
  }

  @FunctionalInterface
  private interface ValueStep {
    long run() throws Exception;
  }

  private static long stepValue(ContainerId id, String name, ValueStep step) {
    long[] out = new long[1];
    step(id, name, () -> out[0] = step.run());
    return out[0];
  }

  /**
   * The helper records that confine the container's init: its user namespace, or {@code privileged=1}
   * (every confinement layer off) when its spec asked for that by name.
   */
  private void confinement(ContainerRecord r, Helper.Records rec) {
    if (r.privileged()) rec.put("privileged", "1");
    else rec.put("userns", store.userns(r.id()).toString());
  }

  private static void step(ContainerId id, String name, Step step) {
    try {
      step.run();
    } catch (InvalidFieldException | IsolationException e) {
      throw e;
    } catch (Exception e) {
      throw new IsolationException(name, id.value(), e);
    }
  }

  /** One lifecycle operation per container at a time. */
  private <T> T withLock(ContainerId id, Locked<T> body) {
    InvalidFieldException.required("id", id);
    ReentrantLock lock = locks.computeIfAbsent(id, k -> new ReentrantLock());
    lock.lock();
    try {
      return body.run();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IsolationException("operate", id.value(), e);
    } finally {
      lock.unlock();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Stops watching and supervising; the containers and LXCFS keep running (they never depend on this object). */
  @Override
  public void close() {
    watcher.close();
    lxcfs.close();
  }
}
