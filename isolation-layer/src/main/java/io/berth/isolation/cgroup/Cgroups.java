package io.berth.isolation.cgroup;

import io.berth.protocol.spec.Limits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A container's cgroup on either cgroup version: created under {@code <root>/<container>} in each
 * controller Berth limits (cpu, cpuset, memory, pids; cpuacct on v1 for the usage counter), its limits
 * written, its counters read, removed when empty.
 *
 * <p>A confined (not privileged) container also gets its device rules ({@link DeviceRules}): on v1
 * a cgroup in the devices hierarchy denying everything but the list, on v2 a device program
 * attached to its cgroup. Both are in place before the init runs (the shim puts it in its cgroups
 * before letting it go) and before any exec'd process (which joins the same cgroups first).
 *
 * <p>cpuset: a container is pinned to ceil(limits.cpu) cpus, so what sched_getaffinity(2) reports
 * ({@code nproc}) and what LXCFS's cpuinfo/stat show match what its quota can use. Which cpus: the
 * least-loaded ones of the root's cpuset, load being how many other containers under the root are
 * pinned to each (ties to the lowest number); a container keeps its cpus while their count is right.
 * The count is capped at the cpus the root may use.
 */
public final class Cgroups {
  /** CFS period: 100 ms, the kernel's default; the quota is the container's share of it. */
  public static final long CPU_PERIOD_US = 100_000;

  private static final List<String> V1_CONTROLLERS = List.of("cpu", "cpuacct", "cpuset", "memory", "pids");
  private static final List<String> V2_CONTROLLERS = List.of("cpu", "cpuset", "memory", "pids");
  /** v1 only: cgroup v2 has no devices controller (a device program instead). */
  private static final String DEVICES = "devices";
  /** v1 only: made by a fence alone (see {@link #freeze}); on v2 cgroup.freeze is in every cgroup. */
  private static final String FREEZER = "freezer";
  /** How often a v1 freeze reads the container's processes again to move the ones forked meanwhile (the watchdog's bound). */
  private static final int FREEZE_ROUNDS = 100;

  private final CgroupFiles fs;
  private final String root;

  public Cgroups(CgroupFiles fs, String root) {
    this.fs = fs;
    this.root = root;
  }

  public CgroupVersion version() {
    return fs.version();
  }

  /** e.g. {@code berth/web-1}. */
  public String path(String container) {
    return root + "/" + container;
  }

  private List<String> controllers() {
    return fs.version() == CgroupVersion.V1 ? V1_CONTROLLERS : V2_CONTROLLERS;
  }

  /** The v1 hierarchies a container's processes join: the limits' and, when confined, devices. */
  private List<String> v1Hierarchies(boolean confined) {
    if (!confined) return V1_CONTROLLERS;
    List<String> all = new ArrayList<>(V1_CONTROLLERS);
    all.add(DEVICES);
    return all;
  }

  /** Every v1 hierarchy Berth may have made the container's cgroup in, for removal and lookup. */
  private List<String> everyController() {
    return fs.version() == CgroupVersion.V1 ? v1Hierarchies(true) : V2_CONTROLLERS;
  }

  /** CRIU's --cgroup-root values that put restored tasks into this container's cgroups. */
  public List<String> criuRoots(String container, boolean confined) {
    if (fs.version() == CgroupVersion.V2) return List.of("/" + path(container));
    return v1Hierarchies(confined).stream().map(c -> c + ":/" + path(container)).toList();
  }

  /**
   * The same for a container booting systemd ({@link #delegate}): its cgroup in every hierarchy of {@code layout}, each
   * v1 one by its controllers (or {@code name=}) as /proc/PID/cgroup names them, and the cgroup2 one by CRIU's bare
   * root, its default for every hierarchy not named. Without them CRIU puts the restored tasks back at the dumping
   * host's paths in the hierarchies Berth does not limit (name=systemd, freezer, blkio, the unified one).
   */
  public List<String> criuRoots(String container, List<CgroupLayout> layout) {
    if (fs.version() == CgroupVersion.V2 || layout.isEmpty()) return criuRoots(container, true);
    List<String> roots = new ArrayList<>();
    for (CgroupLayout l : layout) if (l.type().equals("cgroup")) roots.add(l.options() + ":/" + path(container));
    roots.add("/" + path(container));
    return roots;
  }

  /**
   * The cgroups below the container's own that hold no task, in every hierarchy of {@code layout}, as lines
   * {@code HIERARCHY RELATIVE/PATH}, parents first. CRIU makes again only the cgroups that hold tasks; a booted
   * systemd keeps an inotify watch on the cgroup.events of empty ones too (system-getty.slice), and its restore on
   * another host fails on the first it cannot open. A dump writes these beside its images ({@link #makeEmptyTree}).
   */
  public List<String> emptyTree(String container, List<CgroupLayout> layout) {
    List<String> lines = new ArrayList<>();
    List<String> all = hierarchies(layout);
    for (String h : all) {
      List<String> below = new ArrayList<>(descendants(h, path(container)));
      java.util.Collections.reverse(below); // parents first
      for (String child : below) {
        Path procs = fs.dir(h, child).resolve("cgroup.procs");
        try {
          if (java.nio.file.Files.readString(procs).isBlank()) lines.add((h.isEmpty() ? "-" : h) + " " + child.substring(path(container).length() + 1));
        } catch (java.io.IOException e) {
          // removed meanwhile: nothing to make again
        }
      }
    }
    return lines;
  }

  /**
   * Before a restore: makes the cgroups {@link #emptyTree} listed (and their parents) below the container's own,
   * owned by {@code uid}, its root, as its systemd had them; a line naming a path outside the container's cgroup is
   * refused. The cgroups that hold tasks are left to CRIU, which restores their settings.
   */
  public void makeEmptyTree(String container, List<String> lines, long uid) {
    for (String line : lines) {
      String[] f = line.split(" ", 2);
      if (f.length != 2 || f[1].isEmpty() || f[1].startsWith("/") || java.util.Arrays.asList(f[1].split("/")).contains("..")) {
        throw new CgroupException("empty cgroup tree of " + container + ": bad line '" + line + "'", null);
      }
      String h = f[0].equals("-") ? "" : f[0];
      String rel = "";
      for (String part : f[1].split("/")) {
        rel = rel.isEmpty() ? part : rel + "/" + part;
        String cg = path(container) + "/" + rel;
        if (fs.create(h, cg)) chownWholly(fs.dir(h, cg), uid);
      }
    }
  }

  /**
   * After a restore, the cgroups below the container's own in every hierarchy of {@code layout} (its systemd's tree,
   * made again by CRIU as the host's root) are given back to {@code uid}, its root, with every file in them, as they
   * were when its systemd made them: it must go on making, filling and removing them on this host.
   */
  public void delegateBelow(String container, List<CgroupLayout> layout, long uid) {
    List<String> all = hierarchies(layout);
    for (String h : all) {
      for (String child : descendants(h, path(container))) chownWholly(fs.dir(h, child), uid);
    }
  }

  /** The hierarchies of {@code layout} by directory name; on cgroup v2 the one tree (""). */
  private List<String> hierarchies(List<CgroupLayout> layout) {
    return fs.version() == CgroupVersion.V2 ? List.of("") : layout.stream().map(CgroupLayout::name).toList();
  }

  /** A cgroup below the container's own, as its systemd would have made it: the directory and every file in it its root's. */
  private static void chownWholly(Path dir, long uid) {
    chown(dir, uid);
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
      for (Path f : files.filter(p -> !java.nio.file.Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList()) chown(f, uid);
    } catch (java.io.IOException e) {
      throw new CgroupException("delegate " + dir + " to uid " + uid, e);
    }
  }

  /** The cgroup.procs files a process writes itself into to join the container's cgroups. */
  public List<Path> procsFiles(String container, boolean confined) {
    List<String> ctls = fs.version() == CgroupVersion.V1 ? v1Hierarchies(confined) : List.of("");
    List<Path> files = new ArrayList<>();
    for (String c : ctls) files.add(fs.dir(c, path(container)).resolve("cgroup.procs"));
    return files;
  }

  /**
   * The same and, for a container booting systemd, its cgroup in every other hierarchy of {@code layout} too
   * ({@link #delegate}): each hierarchy mounted inside its cgroup namespace must have the container's own cgroup
   * as its root, or the mount would show the host's whole tree there.
   */
  public List<Path> procsFiles(String container, boolean confined, List<CgroupLayout> layout) {
    List<Path> files = new ArrayList<>(procsFiles(container, confined));
    for (String h : extraHierarchies(confined, layout)) files.add(fs.dir(h, path(container)).resolve("cgroup.procs"));
    return files;
  }

  /** The hierarchies of {@code layout} the container joins beyond its limits' and devices' (blkio, freezer, systemd, unified here). */
  private List<String> extraHierarchies(boolean confined, List<CgroupLayout> layout) {
    if (fs.version() == CgroupVersion.V2) return List.of();
    List<String> own = v1Hierarchies(confined);
    return layout.stream().map(CgroupLayout::name).filter(n -> !own.contains(n)).toList();
  }

  /**
   * Delegates the container's cgroups to its root, as systemd's container interface asks (systemd.io/CGROUP_DELEGATION):
   * its cgroup in every hierarchy of {@code layout} (made where missing, each removal registered with {@code undo}), and in
   * each the directory and the files that move processes and make children (cgroup.procs, tasks, cgroup.clone_children;
   * on cgroup2 cgroup.subtree_control and cgroup.threads) owned by {@code uid}, the host id of its root. Its limit and
   * device files stay the host root's: a child cgroup it makes can only narrow what the host set (hierarchical limits),
   * never widen it, and nothing above its own cgroup becomes writable.
   */
  public void delegate(String container, List<CgroupLayout> layout, long uid, java.util.function.Consumer<Runnable> undo) {
    for (String h : extraHierarchies(true, layout)) {
      fs.create(h, root);
      if (fs.create(h, path(container))) undo.accept(() -> fs.remove(h, path(container)));
    }
    List<String> all = hierarchies(layout);
    for (String h : all) {
      Path dir = fs.dir(h, path(container));
      if (!java.nio.file.Files.isDirectory(dir)) continue;
      chown(dir, uid);
      for (String f : List.of("cgroup.procs", "tasks", "cgroup.clone_children", "cgroup.subtree_control", "cgroup.threads")) {
        Path p = dir.resolve(f);
        if (java.nio.file.Files.exists(p)) chown(p, uid);
      }
    }
  }

  private static void chown(Path p, long uid) {
    try {
      java.nio.file.Files.setAttribute(p, "unix:uid", (int) uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
      java.nio.file.Files.setAttribute(p, "unix:gid", (int) uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    } catch (java.io.IOException e) {
      throw new CgroupException("delegate " + p + " to uid " + uid, e);
    }
  }

  /**
   * Creates the cgroup in every controller (what exists already is kept) and registers each removal
   * with {@code undo} as soon as it exists, so a failure half-way leaves nothing; a confined
   * container's device rules are (re)written, on an existing cgroup too.
   */
  public void create(String container, boolean confined, java.util.function.Consumer<Runnable> undo) {
    if (fs.version() == CgroupVersion.V2) enableV2Controllers();
    boolean hadChildren = removeLeftChildren(container);
    for (String c : controllers()) {
      fs.create(c, root);
      if (c.equals("cpuset") && fs.version() == CgroupVersion.V1) inheritCpusetV1(root, "");
      if (fs.create(c, path(container))) undo.accept(() -> fs.remove(c, path(container)));
      if (c.equals("cpuset") && fs.version() == CgroupVersion.V1) inheritCpusetV1(path(container), root);
    }
    if (!confined) return;
    if (fs.version() == CgroupVersion.V2) {
      fs.attachDeviceProgram(path(container), DeviceFilter.compile(DeviceRules.DEFAULT));
      return;
    }
    fs.create(DEVICES, root);
    if (fs.create(DEVICES, path(container))) undo.accept(() -> fs.remove(DEVICES, path(container)));
    writeDeviceRules(container, DeviceRules.DEFAULT, hadChildren);
  }

  /**
   * "a" on devices.deny. Children removed just before go offline a moment after their rmdir (the kernel finishes them
   * after an RCU grace period), and until then the cgroup still counts them and refuses it (EINVAL): then it is tried
   * again for up to a second.
   */
  private void denyAllDevices(String cg, boolean childrenJustRemoved) {
    long deadline = System.nanoTime() + (childrenJustRemoved ? 1_000_000_000L : 0);
    while (true) {
      try {
        fs.write(DEVICES, cg, "devices.deny", "a");
        return;
      } catch (CgroupException e) {
        if (System.nanoTime() > deadline) throw e;
        sleep(10);
      }
    }
  }

  /**
   * A new v1 cpuset cgroup starts with empty cpuset.cpus and cpuset.mems, and no task may join it
   * until both are set (cpuset(7)): copy what is empty from the parent. The container's cpus are
   * then chosen by {@link #apply}.
   */
  private void inheritCpusetV1(String cgroup, String parent) {
    for (String f : List.of("cpuset.cpus", "cpuset.mems")) {
      if (fs.read("cpuset", cgroup, f).isEmpty()) fs.write("cpuset", cgroup, f, fs.read("cpuset", parent, f));
    }
  }

  /**
   * v1: "a" to devices.deny empties the allow list and denies by default (a new cgroup starts with
   * its parent's list, on this host everything); then one rule per write to devices.allow
   * (cgroup-v1/devices.rst). The kernel's devices.list is read back and must be exactly the rules:
   * a container never starts with a list other than the one asked for.
   */
  private void writeDeviceRules(String container, List<DeviceRule> rules, boolean childrenJustRemoved) {
    String cg = path(container);
    denyAllDevices(cg, childrenJustRemoved);
    for (DeviceRule r : rules) fs.write(DEVICES, cg, "devices.allow", r.v1());
    List<String> expected = rules.stream().map(DeviceRule::v1).toList();
    List<String> actual = fs.read(DEVICES, cg, "devices.list").lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    if (!actual.equals(expected)) {
      throw new CgroupException("device rules of " + cg + ": the kernel holds " + actual + ", not " + expected);
    }
  }

  /** The device rules as the kernel lists them (v1 devices.list); empty when the container has none. */
  public List<String> deviceRules(String container) {
    if (fs.version() == CgroupVersion.V2 || !fs.exists(DEVICES, path(container))) return List.of();
    return fs.read(DEVICES, path(container), "devices.list").lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  private void enableV2Controllers() {
    // v2 controllers reach a child only when every ancestor lists them in cgroup.subtree_control.
    String enable = "+cpu +cpuset +memory +pids";
    fs.write("", "", "cgroup.subtree_control", enable);
    fs.create("", root);
    fs.write("", root, "cgroup.subtree_control", enable);
  }

  /**
   * Writes cpu, cpuset, memory and pids limits, the cpu weight and the memory guarantee; raising and lowering memory
   * both keep memsw ≥ memory. The weight is cpu.shares on v1 (100 is the kernel's default 1024) and cpu.weight on v2;
   * the memory guarantee is memory.soft_limit_in_bytes on v1 (under pressure the kernel reclaims first from
   * cgroups above it) and memory.low on v2. The cpu guarantee has no file: placement keeps the sum of a host's
   * guarantees within its cores, and the weights share contended cpu.
   */
  public void apply(String container, Limits limits) {
    String cg = path(container);
    pinCpus(container, limits.cpuMillis());
    long quota = limits.cpuMillis() * CPU_PERIOD_US / 1000;
    if (fs.version() == CgroupVersion.V1) {
      fs.write("cpu", cg, "cpu.cfs_period_us", Long.toString(CPU_PERIOD_US));
      fs.write("cpu", cg, "cpu.cfs_quota_us", Long.toString(quota));
      String mem = Long.toString(limits.memoryBytes());
      if (fs.exists("memory", cg, "memory.memsw.limit_in_bytes")) {
        // memsw (memory+swap) must never be below memory.limit: order the two writes so it never is.
        // Equal values mean no swap at all for the container.
        long current = parseLimit(fs.read("memory", cg, "memory.limit_in_bytes"));
        if (limits.memoryBytes() > current) {
          fs.write("memory", cg, "memory.memsw.limit_in_bytes", mem);
          fs.write("memory", cg, "memory.limit_in_bytes", mem);
        } else {
          fs.write("memory", cg, "memory.limit_in_bytes", mem);
          fs.write("memory", cg, "memory.memsw.limit_in_bytes", mem);
        }
      } else {
        fs.write("memory", cg, "memory.limit_in_bytes", mem);
      }
      fs.write("memory", cg, "memory.soft_limit_in_bytes", Long.toString(limits.memoryGuaranteeBytes()));
      fs.write("cpu", cg, "cpu.shares", Long.toString(sharesFor(limits.cpuWeight())));
      fs.write("pids", cg, "pids.max", Long.toString(limits.pids()));
    } else {
      fs.write("cpu", cg, "cpu.max", quota + " " + CPU_PERIOD_US);
      fs.write("cpu", cg, "cpu.weight", Integer.toString(limits.cpuWeight()));
      fs.write("memory", cg, "memory.max", Long.toString(limits.memoryBytes()));
      fs.write("memory", cg, "memory.low", Long.toString(limits.memoryGuaranteeBytes()));
      if (fs.exists("memory", cg, "memory.swap.max")) fs.write("memory", cg, "memory.swap.max", "0");
      fs.write("pids", cg, "pids.max", Long.toString(limits.pids()));
    }
  }

  /** cgroup v1's cpu.shares for a weight: 100 is the kernel's default of 1024; at least 2, the kernel's minimum. */
  public static long sharesFor(int weight) {
    return Math.max(2, weight * 1024L / 100);
  }

  /** The weight cpu.shares stands for (the inverse of {@link #sharesFor}, rounded to the nearest). */
  static int weightFor(long shares) {
    return (int) Math.max(1, Math.min(Limits.MAX_CPU_WEIGHT, Math.round(shares * 100.0 / 1024)));
  }

  /** How many cpus a container with {@code cpuMillis} is pinned to: ceil(cpu). */
  public static int cpusFor(long cpuMillis) {
    return (int) ((cpuMillis + 999) / 1000);
  }

  /** The cpus the container is pinned to now (its cpuset.cpus). */
  public List<Integer> cpus(String container) {
    return CpuList.parse(fs.read("cpuset", path(container), "cpuset.cpus"));
  }

  /**
   * Pins the container to {@link #cpusFor} cpus of the root's cpuset (see the class comment).
   * Synchronized so that containers prepared side by side by this layer see each other's choice.
   */
  private synchronized void pinCpus(String container, long cpuMillis) {
    String allowedFile = fs.version() == CgroupVersion.V1 ? "cpuset.cpus" : "cpuset.cpus.effective";
    List<Integer> allowed = CpuList.parse(fs.read("cpuset", root, allowedFile));
    if (allowed.isEmpty()) throw new CgroupException("cpuset of " + root + " allows no cpu (" + fs.dir("cpuset", root).resolve(allowedFile) + ")");
    int want = Math.min(cpusFor(cpuMillis), allowed.size());
    List<Integer> current = CpuList.parse(fs.read("cpuset", path(container), "cpuset.cpus"));
    if (current.size() == want && allowed.containsAll(current)) return;
    java.util.Map<Integer, Integer> load = new java.util.HashMap<>();
    for (String other : children("cpuset")) {
      if (other.equals(container)) continue;
      String text;
      try {
        text = fs.read("cpuset", path(other), "cpuset.cpus");
      } catch (CgroupException e) {
        continue; // removed meanwhile
      }
      for (int c : CpuList.parse(text)) load.merge(c, 1, Integer::sum);
    }
    List<Integer> chosen = allowed.stream()
        .sorted(java.util.Comparator.<Integer>comparingInt(c -> load.getOrDefault(c, 0)).thenComparingInt(c -> c))
        .limit(want).toList();
    fs.write("cpuset", path(container), "cpuset.cpus", CpuList.format(chosen));
  }

  /**
   * The limits as the kernel holds them now; disk is not a cgroup limit and reads as 0, nor is the cpu guarantee
   * (placement's), which reads as 0.
   */
  public Limits read(String container) {
    String cg = path(container);
    long quota;
    long period;
    long memory;
    int weight;
    long guarantee;
    if (fs.version() == CgroupVersion.V1) {
      quota = Long.parseLong(fs.read("cpu", cg, "cpu.cfs_quota_us"));
      period = Long.parseLong(fs.read("cpu", cg, "cpu.cfs_period_us"));
      memory = parseLimit(fs.read("memory", cg, "memory.limit_in_bytes"));
      weight = weightFor(Long.parseLong(fs.read("cpu", cg, "cpu.shares")));
      guarantee = parseLimit(fs.read("memory", cg, "memory.soft_limit_in_bytes"));
    } else {
      String[] max = fs.read("cpu", cg, "cpu.max").split("\\s+");
      quota = max[0].equals("max") ? -1 : Long.parseLong(max[0]);
      period = Long.parseLong(max[1]);
      memory = parseLimit(fs.read("memory", cg, "memory.max"));
      weight = Integer.parseInt(fs.read("cpu", cg, "cpu.weight"));
      guarantee = parseLimit(fs.read("memory", cg, "memory.low"));
    }
    long pids = parseLimit(fs.read("pids", cg, "pids.max"));
    long cpu = quota < 0 ? Limits.MAX_CPU_MILLIS : Math.max(1, quota * 1000 / period);
    memory = Math.min(memory, Limits.MAX_MEMORY);
    return new Limits(cpu, memory, 0, Math.min(pids, Limits.MAX_PIDS), weight, 0, Math.min(guarantee, memory));
  }

  /** Counters: cpu time used, memory in use, tasks, OOM kills. */
  public CgroupStats stats(String container) {
    String cg = path(container);
    if (fs.version() == CgroupVersion.V1) {
      long cpuNanos = Long.parseLong(fs.read("cpuacct", cg, "cpuacct.usage"));
      long mem = Long.parseLong(fs.read("memory", cg, "memory.usage_in_bytes"));
      long oom = keyed(fs.read("memory", cg, "memory.oom_control"), "oom_kill");
      long pids = Long.parseLong(fs.read("pids", cg, "pids.current"));
      return new CgroupStats(cpuNanos, mem, pids, oom);
    }
    long cpuNanos = keyed(fs.read("cpu", cg, "cpu.stat"), "usage_usec") * 1000;
    long mem = Long.parseLong(fs.read("memory", cg, "memory.current"));
    long oom = keyed(fs.read("memory", cg, "memory.events"), "oom_kill");
    long pids = Long.parseLong(fs.read("pids", cg, "pids.current"));
    return new CgroupStats(cpuNanos, mem, pids, oom);
  }

  /** The pids in the container's cgroup (host view), from the pids controller's cgroup.procs. */
  public List<Integer> procs(String container) {
    String text;
    try {
      text = fs.read("pids", path(container), "cgroup.procs");
    } catch (CgroupException e) {
      if (!fs.exists("pids", path(container))) return List.of();
      throw e;
    }
    List<Integer> pids = new ArrayList<>();
    for (String line : text.split("\n")) if (!line.isBlank()) pids.add(Integer.parseInt(line.trim()));
    return pids;
  }

  public boolean exists(String container) {
    for (String c : everyController()) if (fs.exists(c, path(container))) return true;
    return false;
  }

  /**
   * The counters of the root (every container together) and of each container cgroup under it; empty before the
   * first container made the root. A container removed while this reads is left out.
   */
  public RootUsage rootUsage() {
    if (!fs.exists("pids", root)) return new RootUsage(0, 0, java.util.Map.of());
    java.util.Map<String, RootUsage.Counters> each = new java.util.HashMap<>();
    for (String container : children("pids")) {
      try {
        each.put(container, counters(path(container)));
      } catch (CgroupException | NumberFormatException e) {
        // removed meanwhile (its files went with it)
      }
    }
    RootUsage.Counters all = counters(root);
    return new RootUsage(all.cpuNanos(), all.workingSetBytes(), each);
  }

  private RootUsage.Counters counters(String cg) {
    if (fs.version() == CgroupVersion.V1) {
      long cpu = Long.parseLong(fs.read("cpuacct", cg, "cpuacct.usage"));
      long usage = Long.parseLong(fs.read("memory", cg, "memory.usage_in_bytes"));
      long inactive = keyed(fs.read("memory", cg, "memory.stat"), "total_inactive_file");
      return new RootUsage.Counters(cpu, Math.max(0, usage - inactive));
    }
    long cpu = keyed(fs.read("cpu", cg, "cpu.stat"), "usage_usec") * 1000;
    long usage = Long.parseLong(fs.read("memory", cg, "memory.current"));
    long inactive = keyed(fs.read("memory", cg, "memory.stat"), "inactive_file");
    return new RootUsage.Counters(cpu, Math.max(0, usage - inactive));
  }

  /** Every container cgroup under the root (the pids controller's view). */
  public List<String> list() {
    return children("pids");
  }

  private List<String> children(String controller) {
    Path dir = fs.dir(controller, root);
    List<String> names = new ArrayList<>();
    try (var s = java.nio.file.Files.list(dir)) {
      s.filter(java.nio.file.Files::isDirectory).forEach(p -> names.add(p.getFileName().toString()));
    } catch (java.nio.file.NoSuchFileException e) {
      return List.of();
    } catch (java.io.IOException e) {
      throw new CgroupException("list " + dir + ": " + e.getMessage(), e);
    }
    return names;
  }

  // ---- freezer (a fence) --------------------------------------------------------------------

  /**
   * Freezes every process of the container, as the fencing watchdog does ({@code berth-watchdog.c} {@code freeze()}).
   * v2: {@code cgroup.freeze} of its own cgroup. v1: Berth makes no freezer cgroup at prepare (the container's
   * processes sit in the freezer hierarchy's root), so a cgroup {@code freezer/<root>/<container>} is made, frozen
   * while still empty, and every process of the container moved into it: a task attached to a FROZEN cgroup is
   * frozen at once (the kernel's freezer_attach), so it cannot fork again; a child forked before its parent moved
   * is found in the next round. A process that ended meanwhile is no error. Returns the pids it saw.
   */
  public List<Integer> freeze(String container) {
    String cg = path(container);
    if (fs.version() == CgroupVersion.V2) {
      fs.write("", cg, "cgroup.freeze", "1");
      return procs(container);
    }
    fs.create(FREEZER, root);
    fs.create(FREEZER, cg);
    fs.write(FREEZER, cg, "freezer.state", "FROZEN");
    List<Integer> seen = new ArrayList<>();
    for (int round = 0; round < FREEZE_ROUNDS; round++) {
      List<Integer> in = freezerProcs(container);
      int moved = 0;
      for (int pid : procs(container)) {
        if (!seen.contains(pid)) seen.add(pid);
        if (in.contains(pid)) continue;
        moved++;
        try {
          fs.write(FREEZER, cg, "cgroup.procs", Integer.toString(pid));
        } catch (CgroupException e) {
          // ESRCH: it ended between the read and the move. Anything else: it is killed unfrozen, which is what counts.
          if (java.nio.file.Files.exists(Path.of("/proc", Integer.toString(pid))) && !(e.getMessage().contains("No such process"))) {
            throw new CgroupException("freeze " + cg + ": move " + pid + " into the freezer cgroup: " + e.getMessage(), e);
          }
        }
      }
      if (moved == 0) return seen;
    }
    throw new CgroupException("freeze " + cg + ": processes still appear outside its freezer cgroup after " + FREEZE_ROUNDS + " rounds");
  }

  /** Whether the kernel reports the container's freeze complete (v2 {@code frozen 1} in cgroup.events, v1 FROZEN). */
  public boolean isFrozen(String container) {
    String cg = path(container);
    try {
      if (fs.version() == CgroupVersion.V2) return fs.read("", cg, "cgroup.events").contains("frozen 1");
      return fs.read(FREEZER, cg, "freezer.state").startsWith("FROZEN");
    } catch (CgroupException e) {
      return false;
    }
  }

  /** Thaws it (a SIGKILL sent to a frozen task lands only once it runs again); nothing when no freezer cgroup is there. */
  public void thaw(String container) {
    String cg = path(container);
    if (fs.version() == CgroupVersion.V2) {
      if (fs.exists("", cg, "cgroup.freeze")) fs.write("", cg, "cgroup.freeze", "0");
    } else if (fs.exists(FREEZER, cg)) {
      fs.write(FREEZER, cg, "freezer.state", "THAWED");
    }
  }

  /** Every pid of the container: its cgroup's and, on v1, its freezer cgroup's (where a fence moved them). */
  public List<Integer> fenceProcs(String container) {
    List<Integer> all = new ArrayList<>(procs(container));
    for (int pid : freezerProcs(container)) if (!all.contains(pid)) all.add(pid);
    return all;
  }

  /** v1: removes the fence's freezer cgroup once it is empty (and the root's, once no other is left); false while it is not. */
  public boolean removeFreezer(String container) {
    if (fs.version() == CgroupVersion.V2) return true;
    try {
      fs.remove(FREEZER, path(container));
    } catch (CgroupException e) {
      return false;
    }
    try {
      fs.remove(FREEZER, root); // only when empty: another container's freeze may be in progress
    } catch (CgroupException e) {
      // not empty
    }
    return true;
  }

  private List<Integer> freezerProcs(String container) {
    if (fs.version() == CgroupVersion.V2 || !fs.exists(FREEZER, path(container))) return List.of();
    return parsePids(fs.read(FREEZER, path(container), "cgroup.procs"));
  }

  private static List<Integer> parsePids(String text) {
    List<Integer> pids = new ArrayList<>();
    for (String line : text.split("\n")) if (!line.isBlank()) pids.add(Integer.parseInt(line.trim()));
    return pids;
  }

  /**
   * A container that booted systemd before (stopped since, or restarted by its policy) left the cgroups its systemd
   * made below its own, empty now: they go before it starts again, deepest first, since the kernel refuses new device
   * rules for a v1 cgroup with children (EINVAL on devices.deny) and the new systemd makes its own. True when any went.
   */
  private boolean removeLeftChildren(String container) {
    boolean any = false;
    for (String c : hierarchiesOf()) {
      for (String child : descendants(c, path(container))) {
        any = true;
        try {
          fs.remove(c, child);
        } catch (CgroupException e) {
          throw new CgroupException("remove " + child + " (" + c + "), left by the container's last run: " + e.getMessage()
              + " (a process of that run still in it?)", e);
        }
      }
    }
    return any;
  }

  /** Every hierarchy a container's cgroup may be in: its controllers, a fence's freezer, and (v1) every other one. */
  private List<String> hierarchiesOf() {
    List<String> hierarchies = new ArrayList<>(everyController());
    if (fs.version() == CgroupVersion.V1) hierarchies.add(FREEZER); // a fence's (see freeze); absent otherwise
    // A container booting systemd has its cgroup in the host's other hierarchies too (delegate).
    if (fs.version() == CgroupVersion.V1) {
      for (String h : fs.hierarchies()) if (!hierarchies.contains(h)) hierarchies.add(h);
    }
    return hierarchies;
  }

  /**
   * Removes the cgroup from every controller. The kernel refuses while tasks remain (an exited
   * init's children may take a moment to be reaped), so this retries until {@code deadlineNanos}.
   */
  public void remove(String container, long deadlineNanos) {
    for (String c : hierarchiesOf()) {
      while (true) {
        try {
          // The cgroups its systemd made inside go first, deepest first: rmdir of a cgroup with children is EBUSY.
          for (String child : descendants(c, path(container))) fs.remove(c, child);
          fs.remove(c, path(container));
          break;
        } catch (CgroupException e) {
          if (System.nanoTime() > deadlineNanos) {
            throw new CgroupException("remove cgroup " + path(container) + " (" + c + "): tasks " + procs(container)
                + " still in it after the deadline", e);
          }
          sleep(10);
        }
      }
    }
  }

  /** The cgroups below {@code cgroup} in hierarchy {@code c}, deepest first. */
  private List<String> descendants(String c, String cgroup) {
    Path top = fs.dir(c, cgroup);
    if (!java.nio.file.Files.isDirectory(top)) return List.of();
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.walk(top)) {
      List<Path> dirs = new ArrayList<>(s.filter(p -> !p.equals(top) && java.nio.file.Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList());
      dirs.sort(java.util.Comparator.comparingInt(Path::getNameCount).reversed());
      return dirs.stream().map(d -> cgroup + "/" + top.relativize(d)).toList();
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return List.of(); // removed meanwhile: the rmdir below says what is left
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CgroupException("interrupted while waiting for a cgroup to empty", e);
    }
  }

  /** "max" or a number; the v1 "unlimited" value is a huge number rounded to the page size. */
  static long parseLimit(String text) {
    return text.equals("max") ? Long.MAX_VALUE : Long.parseLong(text);
  }

  /** The value of {@code key} in a "key value" per line file such as memory.events. */
  static long keyed(String text, String key) {
    for (String line : text.split("\n")) {
      String[] kv = line.trim().split("\\s+");
      if (kv.length == 2 && kv[0].equals(key)) return Long.parseLong(kv[1]);
    }
    return 0;
  }
}
