package io.berth.node.fence;

import io.berth.isolation.IsolationLayer;
import io.berth.isolation.fence.FenceRecord;
import io.berth.isolation.fence.Watchdog;
import io.berth.protocol.ids.ContainerId;
import io.berth.protocol.spec.ContainerSpec;
import io.berth.protocol.spec.Storage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's side of fencing: the watchdog outside the JVM ({@link Watchdog}), fed while the node is healthy, and
 * the node's own fence when it learns it lost the cluster.
 *
 * <p>The deadline it feeds is the promise the survivors rely on ({@link FencingSettings}): the short one while the
 * host holds any container whose disk is on shared storage (the survivors restart those elsewhere after it), the
 * long one otherwise. A shared container's start is preceded by a feed of the short deadline
 * ({@link #beforeStart}), so there is no moment when such a container runs under the long one.
 *
 * <p>Not fed before {@link #arm}: a node that comes back arms it only after its host entity said it was not fenced
 * (or after it emptied the host), so a new JVM never prolongs the life of copies the survivors may restart.
 *
 * <p>After a stall of this JVM ({@link StallGuard}) the node acts on no container for a moment ({@link #mayNotAct}),
 * and when the watchdog fired during the stall the node fences the host itself and leaves: it comes back as a new
 * incarnation, which learns from the log what the survivors did meanwhile. Re-arming a watchdog and carrying on, as
 * before, let a node paused 9 s restart copies the survivors had already restarted elsewhere (found by the soak).
 */
public final class HostFence {
  private static final Logger log = LoggerFactory.getLogger(HostFence.class);

  /** Why the node leaves when its watchdog fired during a stall of its JVM. */
  public static final org.apache.pekko.actor.CoordinatedShutdown.Reason FENCED_AFTER_STALL = new org.apache.pekko.actor.CoordinatedShutdown.Reason() {
    @Override
    public String toString() {
      return "FencedAfterStall";
    }
  };

  private final IsolationLayer layer;
  private final FencingSettings settings;
  private final Optional<Path> sharedRoot;
  private Watchdog watchdog;
  private boolean feeding;
  private volatile boolean fenced;
  private final StallGuard stalls;
  private Runnable leave = () -> { };
  private Duration lastDeadline;
  private Instant lastFedAt = Instant.EPOCH;
  private FenceReports reports;
  /**
   * Whether the host holds a shared-storage container: set at once by a shared start, and read again from the
   * layer only every {@link #SHARED_RECHECK} (so the deadline drops back to the long one some time after the last
   * shared container went, without listing every container each second).
   */
  private boolean holdsShared;
  private long sharedCheckedAt;
  private static final long SHARED_RECHECK = Duration.ofSeconds(30).toNanos();

  public HostFence(IsolationLayer layer, FencingSettings settings, Optional<Path> sharedRoot) {
    this.layer = layer;
    this.settings = settings;
    this.sharedRoot = sharedRoot;
    // A stall longer than the short deadline (and a feed period, as a tick may wait up to 2 s for a slow feed before
    // the next is due) nears the survivors' earliest move (detection + stable-after, about 4.5 s); after one, the
    // gossip that this member was downed (or its own split brain resolver's decision) comes within that much again.
    this.stalls = new StallGuard(settings.haDeadline().plus(settings.feedEvery()), settings.haDeadline().multipliedBy(2));
  }

  public FencingSettings settings() {
    return settings;
  }

  /**
   * Logs what the watchdog (or this node) fenced while the node was away and has {@code reports} record it in the
   * log; starts (or attaches to) the watchdog and feeds it.
   */
  public synchronized void arm(FenceReports reports, Runnable leave) {
    this.reports = reports;
    this.leave = leave;
    acknowledgeFences();
    recheckShared();
    lastDeadline = deadline();
    watchdog = Watchdog.start(layer.config(), lastDeadline);
    lastFedAt = Instant.now();
    feeding = true;
    synchronized (stalls) {
      stalls.tick(System.nanoTime());
    }
    log.info("watchdog armed: pid {}, deadline {} ({})", watchdog.pid(), lastDeadline, lastDeadline.equals(settings.haDeadline())
        ? "the host holds containers on shared storage" : "no container on shared storage here");
  }

  private void acknowledgeFences() {
    for (FenceRecord r : Watchdog.fencedRecords(layer.config().dataRoot())) {
      log.warn("the {} fenced this host at {} (last fed {}, deadline {}): {} container(s) killed{}: {}", r.by(), r.fencedAt(), r.lastFedAt(),
          r.deadline(), r.containers().size(), r.complete() ? "" : ", SOME PROCESSES REMAINED", r.containers().stream().map(FenceRecord.Fenced::container).toList());
      reports.report(r);
    }
  }

  /** Called every {@code feed-every}: feeds the watchdog while {@code healthy}, lets it run out otherwise. */
  public synchronized void tick(boolean healthy, String why) {
    if (watchdog == null || fenced) return;
    Duration stood;
    synchronized (stalls) {
      stood = stalls.tick(System.nanoTime());
    }
    if (!stood.isZero()) {
      log.warn("this node's JVM stood still for {} ms (longer than berth.fencing.ha-deadline {} and a feed): it acts on no container until it"
          + " knows it is still a member", stood.toMillis(), settings.haDeadline());
    }
    if (!healthy) {
      if (feeding) log.warn("not feeding the watchdog any more: {}; it fences this host's containers within {}", why, lastDeadline);
      feeding = false;
      return;
    }
    if (!feeding) log.info("feeding the watchdog again: {}", why);
    feeding = true;
    feed(deadline());
  }

  /**
   * Before a container starts on this host: a container on shared storage may run only under the short deadline, fed
   * now. Refused while the watchdog is not armed or not fed (the host is not known to be in the cluster).
   */
  public synchronized void beforeStart(ContainerSpec spec) {
    Optional<String> notNow = mayNotAct();
    if (notNow.isPresent()) throw new IllegalStateException("container " + spec.id() + " may not start on this host now: " + notNow.get());
    if (spec.storage() != Storage.SHARED) return;
    if (watchdog == null || !feeding || fenced) {
      throw new IllegalStateException("container " + spec.id() + " is on shared storage and may start only while this host's watchdog is fed"
          + " (the node is not, or no longer, a healthy member of the cluster)");
    }
    holdsShared = true;
    if (!feed(settings.haDeadline())) {
      throw new IllegalStateException("container " + spec.id() + " is on shared storage and may start only under this host's watchdog,"
          + " which could not be fed (see the node's log)");
    }
  }

  /**
   * Empty while this node may act on its host's containers (start one, record an exit); otherwise why not: it fenced
   * its host, or its JVM is just out of a stall (see {@link StallGuard}). Not under this object's lock, which a feed
   * holds up to 2 s.
   */
  public Optional<String> mayNotAct() {
    if (fenced) return Optional.of("this node fenced its host and is leaving the cluster");
    synchronized (stalls) {
      long now = System.nanoTime();
      return stalls.trusted(now) ? Optional.empty() : Optional.of(stalls.why(now));
    }
  }

  /** The node learned it lost the cluster (downed): kills every container now, before the survivors' bound ends. */
  public synchronized void fenceNow(String why) {
    if (fenced) return;
    fenced = true;
    long t0 = System.nanoTime();
    Instant at = Instant.now();
    List<String> killed;
    boolean complete = true;
    try {
      killed = layer.fenceAll().stream().map(ContainerId::value).toList();
    } catch (RuntimeException e) {
      log.error("fencing this host: {}", e.getMessage());
      complete = false;
      killed = layer.list().stream().map(c -> c.id().value()).toList();
    }
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    log.warn("fenced this host: {}: killed {} container(s) in {} ms: {}", why, killed.size(), took.toMillis(), killed);
    // The cluster is lost, and with it the log: the record waits on this host's disk for the node's next start.
    try {
      Watchdog.recordNodeFence(layer.config().dataRoot(), at, lastFedAt, lastDeadline == null ? settings.localDeadline() : lastDeadline, killed,
          complete, took);
    } catch (RuntimeException e) {
      log.error("could not write the record of this fence: {}", e.getMessage());
    }
  }

  /** A clean stop of the node (it left the cluster): the watchdog stops without fencing. */
  public synchronized void disarm() {
    if (watchdog == null || fenced) return;
    watchdog.disarm();
    watchdog = null;
    log.info("watchdog disarmed: the node stops cleanly; its containers go on running");
  }

  /**
   * Feeds the watchdog; true when it took the deadline. One that is gone fired during a stall of this JVM longer than
   * its deadline: this host's containers were killed, and the survivors may have downed this member and restarted
   * them elsewhere. The node cannot tell yet, so it fences the host (whatever still runs) and leaves; its next
   * incarnation reads the log. A watchdog that still runs but did not answer is fed again at the next tick (its
   * deadline guards meanwhile).
   */
  private boolean feed(Duration deadline) {
    try {
      watchdog.feed(deadline);
      lastFedAt = Instant.now();
      if (!deadline.equals(lastDeadline)) log.info("watchdog deadline now {}", deadline);
      lastDeadline = deadline;
      return true;
    } catch (RuntimeException e) {
      if (watchdog.alive()) {
        log.error("feeding the watchdog failed: {}; it still runs, and is fed again at the next tick", e.getMessage());
        return false;
      }
      log.error("feeding the watchdog failed: {}; it is gone: it fenced this host during a stall of this JVM longer than {}", e.getMessage(),
          lastDeadline);
      watchdog.close();
      fenceNow("its watchdog fired while this JVM stood still; the survivors may have restarted its containers elsewhere");
      log.warn("leaving the cluster: the next incarnation of this node learns from the log what happened meanwhile");
      leave.run();
      return false;
    }
  }

  private Duration deadline() {
    if (System.nanoTime() - sharedCheckedAt > SHARED_RECHECK) recheckShared();
    return holdsShared ? settings.haDeadline() : settings.localDeadline();
  }

  /**
   * Reads from the layer whether any container this host holds has its disk image on the shared root. When it cannot
   * tell (a container destroyed while listed, a store it cannot read), the short deadline is the safe answer; it never
   * throws, as it runs on every tick (CI saw a listing that met a half-destroyed container end the ticks for good).
   */
  private void recheckShared() {
    sharedCheckedAt = System.nanoTime();
    holdsShared = false;
    if (sharedRoot.isEmpty()) return;
    List<ContainerId> ids;
    try {
      ids = layer.ids();
    } catch (RuntimeException e) {
      log.warn("cannot list this host's containers to choose the watchdog's deadline (the short one holds): {}", e.getMessage());
      holdsShared = true;
      return;
    }
    for (ContainerId id : ids) {
      try {
        if (layer.diskImage(id).startsWith(sharedRoot.get())) holdsShared = true;
      } catch (RuntimeException e) {
        holdsShared = true; // cannot tell: the short deadline is the safe one
      }
      if (holdsShared) return;
    }
  }
}
