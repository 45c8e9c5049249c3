package io.berth.chaos;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Faults on a seeded schedule, each injected and healed in the history (process {@code nemesis}): a node JVM killed
 * with SIGKILL and restarted; a whole host killed (its JVM, its watchdog and its containers: {@link Berth#killHost}); a host cut off from the management network (the other hosts and Cassandra) and healed;
 * a node JVM stopped (SIGSTOP) for longer than the failure detector's margin (about 4 s: detection plus stable-after,
 * cluster-node's berth-node.conf) and continued; Cassandra killed and restarted; the management link of a host slowed
 * and made lossy with tc netem. One fault at a time, on a host that runs a container when one does, and the one in place is healed in {@code finally}, so a run
 * that fails or is interrupted leaves no fault behind. After every heal {@code bin/berth up} brings back whatever the
 * fault took down (a node that was downed exits, by design) and waits until every API answers.
 */
final class Nemesis {
  enum Fault { KILL_NODE, KILL_HOST, PARTITION, PAUSE, CASSANDRA, NETEM;

    String f() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** {@code kill-node,partition,...} (blank: none); an unknown name is refused naming the property and every kind. */
    static List<Fault> parse(String spec) {
      List<Fault> out = new ArrayList<>();
      for (String part : spec.split(",")) {
        if (part.isBlank()) continue;
        String f = part.strip();
        out.add(java.util.Arrays.stream(values()).filter(k -> k.f().equals(f)).findFirst().orElseThrow(() -> new IllegalArgumentException(
            "berth.chaos.faults: \"" + f + "\" is not a fault (one of " + java.util.Arrays.stream(values()).map(Fault::f).toList() + ")")));
      }
      return out;
    }
  }

  /** A node stopped for this long is past the failure detector's margin (about 4 s) by far. */
  static final Duration PAUSE = Duration.ofSeconds(9);

  record Settings(long seed, List<Fault> faults, Duration firstAfter, Duration gap, Duration hold) {}

  private final Berth berth;
  private final History history;
  private final Settings settings;
  private volatile boolean running = true;
  private int injected;

  Nemesis(Berth berth, History history, Settings settings) {
    this.berth = berth;
    this.history = history;
    List<Fault> faults = new ArrayList<>(settings.faults());
    if (faults.contains(Fault.NETEM) && !netemWorks()) {
      // This kernel has no sch_netem (no modules at all on these VMs): the fault is left out, and the run says so.
      System.out.println("nemesis: tc netem is not available on this kernel (\"Specified qdisc kind is unknown\"): no slow or lossy links in this run");
      faults.remove(Fault.NETEM);
    }
    this.settings = new Settings(settings.seed(), List.copyOf(faults), settings.firstAfter(), settings.gap(), settings.hold());
  }

  /** The faults this run injects (netem left out where the kernel has none). */
  List<Fault> faults() {
    return settings.faults();
  }

  /** Whether a netem qdisc can be added here: tried on the loopback of node-1's namespace and removed at once. */
  private boolean netemWorks() {
    String ns = berth.netns(Berth.HOSTS.get(0));
    Berth.Run add = berth.run(List.of("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"), Duration.ofSeconds(10));
    berth.run(List.of("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "lo", "root"), Duration.ofSeconds(10));
    return add.exit() == 0;
  }

  /** Injects faults until {@code deadline} (System.nanoTime) or {@link #stop}, each healed before the next. */
  int run(long deadline) {
    Random random = new Random(settings.seed() ^ 0x6e656d65L);
    // The fault kinds in a seeded order, each once before any twice, so a short run still meets several kinds.
    List<Fault> order = new ArrayList<>();
    sleepUntil(System.nanoTime() + settings.firstAfter().toNanos(), deadline);
    while (running && System.nanoTime() < deadline && !settings.faults().isEmpty()) {
      if (order.isEmpty()) {
        order.addAll(settings.faults());
        java.util.Collections.shuffle(order, random);
      }
      Fault fault = order.remove(0);
      String host = target(random);
      long hold = settings.hold().toMillis() / 2 + random.nextInt((int) Math.max(1, settings.hold().toMillis() / 2));
      inject(fault, host, fault == Fault.PAUSE ? Math.max(hold, PAUSE.toMillis()) : hold);
      injected++;
      sleepUntil(System.nanoTime() + settings.gap().toMillis() / 2 * 1_000_000L
          + random.nextInt((int) Math.max(1, settings.gap().toMillis())) * 1_000_000L, deadline);
    }
    return injected;
  }

  /**
   * A host whose kernel runs a container, when one does, else any host: a fault on a host that runs nothing proves
   * little (a partition of an idle host fails nothing over, so fencing is never put to the test).
   */
  private String target(Random random) {
    java.util.Set<String> busy = new java.util.TreeSet<>();
    KernelSample.read(berth).running().values().forEach(busy::addAll);
    List<String> from = busy.isEmpty() ? Berth.HOSTS : List.copyOf(busy);
    return from.get(random.nextInt(from.size()));
  }

  void stop() {
    running = false;
  }

  private void inject(Fault fault, String host, long holdMillis) {
    String target = fault == Fault.CASSANDRA ? "cassandra" : host;
    String id = "nemesis-" + injected;
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("holdMillis", holdMillis);
    AutoCloseable heal = null;
    String what;
    try {
      switch (fault) {
        case KILL_NODE -> {
          long pid = berth.nodePid(host);
          berth.sh("kill", "-9", Long.toString(pid));
          what = "kill -9 node JVM " + pid;
          heal = () -> { };
        }
        case KILL_HOST -> {
          berth.killHost(host);
          what = "kill -9 " + host + " whole: its node JVM, its watchdog, every process of its containers (their mounts detached)";
          heal = () -> { };
        }
        case PARTITION -> {
          heal = berth.partition(host);
          what = "cut " + host + " off the management network (the other hosts, Cassandra)";
        }
        case PAUSE -> {
          long pid = berth.nodePid(host);
          berth.sh("kill", "-STOP", Long.toString(pid));
          what = "SIGSTOP node JVM " + pid;
          heal = () -> berth.sh("kill", "-CONT", Long.toString(pid));
        }
        case CASSANDRA -> {
          long pid = berth.cassandraPid();
          berth.sh("kill", "-9", Long.toString(pid));
          what = "kill -9 Cassandra " + pid;
          heal = () -> { };
        }
        case NETEM -> {
          Berth.Run tc = berth.run(List.of("ip", "netns", "exec", berth.netns(host), "tc", "qdisc", "add", "dev", "mg0", "root", "netem",
              "delay", "150ms", "50ms", "loss", "5%"), Duration.ofSeconds(10));
          if (tc.exit() != 0) throw new AssertionError("netem on " + host + ": " + tc);
          what = "netem delay 150ms±50ms loss 5% on " + host + "'s mg0";
          heal = () -> berth.run(List.of("ip", "netns", "exec", berth.netns(host), "tc", "qdisc", "del", "dev", "mg0", "root"), Duration.ofSeconds(10));
        }
        default -> throw new IllegalStateException(fault.toString());
      }
      history.add("nemesis", History.Type.INVOKE, fault.f(), target, id, args, what);
      Berth.sleep(holdMillis);
    } catch (Exception | AssertionError e) {
      history.add("nemesis", History.Type.INVOKE, fault.f(), target, id, args, "could not inject: " + e);
    } finally {
      String healed = heal(heal);
      history.add("nemesis", History.Type.OK, fault.f(), target, id, args, healed);
    }
  }

  /** Heals, then brings back what the fault took down; says what it did. */
  private String heal(AutoCloseable heal) {
    StringBuilder said = new StringBuilder();
    try {
      if (heal != null) heal.close();
      said.append("healed");
    } catch (Exception e) {
      said.append("heal failed: ").append(e);
    }
    // A node downed while cut off or stopped exits by itself a moment after it hears so: let it, then bring it back.
    // A downed node can take its whole 30 s shutdown bound to exit (seen here), and up started meanwhile fails ("exited
    // while starting"): try up again, three times at most.
    Berth.sleep(3000);
    for (int attempt = 1; attempt <= 3; attempt++) {
      Berth.Run up = berth.berth(Berth.UP, "up", "--hosts", Integer.toString(Berth.HOSTS.size()));
      if (up.exit() == 0) return said.append("; berth up: every API answers").append(attempt > 1 ? " (attempt " + attempt + ")" : "").toString();
      String err = up.stderr().strip();
      said.append("; berth up failed (attempt ").append(attempt).append("): ").append(err.substring(err.lastIndexOf('\n') + 1));
      Berth.sleep(10_000);
    }
    return said.toString();
  }

  /** Removes whatever fault a crashed run could have left (a partition table, a netem qdisc, a stopped JVM). */
  void healEverything() {
    for (String host : Berth.HOSTS) {
      berth.run(List.of("ip", "netns", "exec", berth.netns(host), "nft", "delete", "table", "inet", "berth_chaos_partition"), Duration.ofSeconds(10));
      berth.run(List.of("ip", "netns", "exec", berth.netns(host), "tc", "qdisc", "del", "dev", "mg0", "root"), Duration.ofSeconds(10));
      try {
        Path pidFile = berth.local.resolve("run").resolve(host + ".pid");
        if (Files.exists(pidFile)) berth.sh("kill", "-CONT", Long.toString(berth.nodePid(host)));
      } catch (Exception e) {
        System.err.println("continue " + host + ": " + e);
      }
    }
  }

  private void sleepUntil(long until, long deadline) {
    long end = Math.min(until, deadline);
    while (running && System.nanoTime() < end) Berth.sleep(Math.min(200, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
  }
}
